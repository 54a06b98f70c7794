/**
 * A multi-host harness on one machine: "hosts" are Linux network namespaces, each with one veth
 * link to a bridge that lives in a namespace of its own (the test's "switch"), on a private /24.
 * Nothing is created in the machine's own namespace: no bridge, no veth, no rule, no address, so
 * a test reaches only the addresses of its hosts (and their loopbacks), and deleting the
 * namespaces deletes everything else with them (veths, the bridge, iptables rules).
 *
 * Processes run in a host through `ip netns exec`. A host can be cut off (iptables DROP on its
 * link, both ways: no FIN, no RST, as when a cable or a machine dies) and healed. Latency is a
 * delaying TCP proxy inside a host (delay-proxy.mjs): this kernel has no `sch_netem`.
 *
 * Needs root, `ip` and `iptables`. Test files using it start with `// @needs netns`
 * (scripts/test.mjs skips them without root, and fails in CI).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { until } from './eventually.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));
const PROXY = fileURLToPath(new URL('./delay-proxy.mjs', import.meta.url));

/** The hosts' subnet: an unusual private /24, inside the test's own namespaces only. */
export const SUBNET = '10.231.7';
const NS_PREFIX = 'weft-';

/** Why the harness cannot run here (a reason to skip with), or undefined when it can. */
export function hostsUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'network namespaces need Linux';
  if (process.getuid?.() !== 0) return 'creating network namespaces needs root (CI runs as root)';
  for (const tool of ['ip', 'iptables']) {
    if (spawnSync(tool, ['--version']).error) return `the '${tool}' program was not found (apt-get install -y ${tool === 'ip' ? 'iproute2' : 'iptables'})`;
  }
  return undefined;
}

function run(command: string, args: string[]): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${r.status ?? r.error?.message}): ${r.stderr.trim()}`);
  return r.stdout;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Kills whatever still runs in a namespace, then deletes it. Never throws. */
function removeNamespace(ns: string): void {
  const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout ?? '';
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), 'SIGKILL');
    } catch {
      // gone already
    }
  }
  spawnSync('ip', ['netns', 'del', ns]);
}

/** Namespaces left by a harness whose process died without tearing down (SIGKILL): removed. */
function removeStale(): void {
  const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
  for (const line of list.split('\n')) {
    const ns = line.split(' ')[0] ?? '';
    const owner = new RegExp(`^${NS_PREFIX}(\\d+)-`).exec(ns)?.[1];
    if (owner !== undefined && Number(owner) !== process.pid && !alive(Number(owner))) removeNamespace(ns);
  }
}

/** A process started in a host, with its output collected. */
export interface HostProcess {
  readonly child: ChildProcess;
  readonly exited: Promise<number | null>;
  output(): string;
  /** Resolves once the output matches (rejects after `ms`, showing the output). */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** SIGTERM (or `signal`), SIGKILL after `graceMs`; resolves the exit code. */
  stop(signal?: NodeJS.Signals, graceMs?: number): Promise<number | null>;
}

export interface SpawnOptions {
  readonly env?: Record<string, string>;
  /** Echo the output to this process's stderr, prefixed with the host (debugging). */
  readonly echo?: boolean;
}

/** One host: a namespace with one address on the switch. */
export class Host {
  #cut = false;

  constructor(
    readonly network: Network,
    readonly name: string,
    readonly ns: string,
    readonly ip: string,
  ) {}

  /** Runs `command` in this host. */
  spawn(command: string, args: string[], options: SpawnOptions = {}): HostProcess {
    const child = spawn('ip', ['netns', 'exec', this.ns, command, ...args], {
      cwd: ROOT, env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const collect = (c: Buffer) => {
      out += c.toString();
      if (options.echo || process.env.WEFT_HOSTS_ECHO) process.stderr.write(c.toString().replace(/^(?=.)/gm, `[${this.name}] `));
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    const hostName = this.name;
    const exited = new Promise<number | null>((resolve) => {
      child.once('error', () => resolve(null));
      child.once('exit', (code) => resolve(code));
    });
    const proc: HostProcess = {
      child, exited,
      output: () => out,
      async waitFor(pattern, ms = 30_000) {
        let ended = false;
        void exited.then(() => (ended = true));
        await until(() => pattern.test(out) || ended, ms, `${pattern} in the output of ${command} ${args.join(' ')} in ${hostName}`).catch((error: Error) => {
          throw new Error(`${error.message}; its output:\n${out}`);
        });
        const match = out.match(pattern);
        if (!match) throw new Error(`${command} ${args.join(' ')} in ${hostName} exited (${child.exitCode ?? child.signalCode}) before its output matched ${pattern}:\n${out}`);
        return match;
      },
      async stop(signal = 'SIGTERM', graceMs = 10_000) {
        if (child.exitCode === null && child.signalCode === null) child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const code = await exited;
        clearTimeout(timer);
        return code;
      },
    };
    this.network.track(proc);
    return proc;
  }

  /** Runs node (with the tsx loader) on a script of this project in this host. */
  node(script: string, args: string[] = [], options: SpawnOptions = {}): HostProcess {
    return this.spawn(process.execPath, ['--import', 'tsx', script, ...args], options);
  }

  /** Runs the `weft` CLI in this host. */
  weft(args: string[], options: SpawnOptions = {}): HostProcess {
    return this.spawn(process.execPath, [BIN, ...args], options);
  }

  /** Starts a redis-server on this host's address (and its loopback), resolving its address once it answers. */
  async redis(options: { port?: number; password?: string } = {}): Promise<{ address: string; process: HostProcess }> {
    const port = options.port ?? 6379;
    // Without a password, protected mode refuses every address but loopback: the hosts' network is the test's own.
    const auth = options.password === undefined ? ['--protected-mode', 'no'] : ['--requirepass', options.password];
    const proc = this.spawn(process.env.WEFT_REDIS_SERVER ?? 'redis-server', ['--port', String(port), '--bind', this.ip, '127.0.0.1', ...auth, '--save', '', '--appendonly', 'no']);
    await proc.waitFor(/Ready to accept connections/, 10_000);
    const credentials = options.password === undefined ? '' : `:${encodeURIComponent(options.password)}@`;
    return { address: `redis://${credentials}${this.ip}:${port}`, process: proc };
  }

  /** Runs `redis-cli` in this host; resolves its output. */
  async redisCli(address: string, args: string[]): Promise<string> {
    const cli = this.spawn('redis-cli', ['-u', address, '--no-auth-warning', ...args]);
    await cli.exited;
    return cli.output();
  }

  /**
   * Starts a delaying TCP proxy in this host: `127.0.0.1:listenPort` forwards to `target` and
   * holds each chunk `delayMs` in each direction (a round trip gains 2 × delayMs).
   */
  async delayProxy(listenPort: number, targetHost: string, targetPort: number, delayMs: number): Promise<HostProcess> {
    const proc = this.spawn(process.execPath, [PROXY, String(listenPort), targetHost, String(targetPort), String(delayMs)]);
    await proc.waitFor(/listening/, 10_000);
    return proc;
  }

  /** Tries a TCP connection from this host: 'connected', 'refused', or 'timeout' (no answer within `ms`: a cut link). */
  async reach(ip: string, port: number, ms = 1000): Promise<string> {
    const script = `const s=require('net').connect(${port},'${ip}');s.setTimeout(${ms},()=>{console.log('timeout');process.exit()});` +
      "s.on('connect',()=>{console.log('connected');process.exit()});s.on('error',(e)=>{console.log(e.code==='ECONNREFUSED'?'refused':e.code);process.exit()})";
    const probe = this.spawn(process.execPath, ['-e', script]);
    await probe.exited;
    return probe.output().trim();
  }

  /** The processes running in this host now. */
  pids(): number[] {
    const out = spawnSync('ip', ['netns', 'pids', this.ns], { encoding: 'utf8' }).stdout ?? '';
    return out.split(/\s+/).filter(Boolean).map(Number);
  }

  /** Cuts this host off: every packet on its link is dropped, both ways, silently. Its loopback still works. */
  cut(): void {
    if (this.#cut) return;
    run('ip', ['netns', 'exec', this.ns, 'iptables', '-A', 'INPUT', '-i', 'eth0', '-j', 'DROP']);
    run('ip', ['netns', 'exec', this.ns, 'iptables', '-A', 'OUTPUT', '-o', 'eth0', '-j', 'DROP']);
    this.#cut = true;
  }

  /** Restores the link cut by {@link cut}. */
  heal(): void {
    if (!this.#cut) return;
    run('ip', ['netns', 'exec', this.ns, 'iptables', '-D', 'INPUT', '-i', 'eth0', '-j', 'DROP']);
    run('ip', ['netns', 'exec', this.ns, 'iptables', '-D', 'OUTPUT', '-o', 'eth0', '-j', 'DROP']);
    this.#cut = false;
  }
}

/**
 * A test's network: a switch namespace with a bridge, and hosts on it. `close()` stops every
 * process started in its hosts and deletes the namespaces (with their veths, bridge and rules);
 * it also runs when the test process exits without calling it.
 */
export class Network {
  readonly #hosts: Host[] = [];
  readonly #processes: HostProcess[] = [];
  readonly #switch: string;
  #closed = false;
  readonly #onExit = () => this.#removeAll();

  private constructor(readonly tag: string) {
    this.#switch = `${NS_PREFIX}${process.pid}-${tag}-sw`;
  }

  /** Creates the switch; `tag` keeps namespace names of several networks in one process apart. */
  static create(tag: string): Network {
    const reason = hostsUnavailable();
    if (reason) throw new Error(`the multi-host harness cannot run: ${reason}`);
    removeStale();
    const network = new Network(tag);
    process.once('exit', network.#onExit);
    try {
      run('ip', ['netns', 'add', network.#switch]);
      run('ip', ['-n', network.#switch, 'link', 'add', 'br0', 'type', 'bridge']);
      run('ip', ['-n', network.#switch, 'link', 'set', 'br0', 'up']);
    } catch (error) {
      network.#removeAll();
      throw error;
    }
    return network;
  }

  get hosts(): readonly Host[] {
    return this.#hosts;
  }

  /** Adds a host at the next address of the subnet (.2, .3, ...). */
  host(name: string): Host {
    if (this.#closed) throw new Error('the network was closed');
    const ns = `${NS_PREFIX}${process.pid}-${this.tag}-${name}`;
    const ip = `${SUBNET}.${this.#hosts.length + 2}`;
    const port = `p${this.#hosts.length}`;
    run('ip', ['netns', 'add', ns]);
    const host = new Host(this, name, ns, ip);
    this.#hosts.push(host);
    // The veth's host end is eth0 inside the host; its switch end is on the bridge: nothing in the machine's namespace.
    run('ip', ['-n', this.#switch, 'link', 'add', port, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    run('ip', ['-n', this.#switch, 'link', 'set', port, 'master', 'br0', 'up']);
    run('ip', ['-n', ns, 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    run('ip', ['-n', ns, 'link', 'set', 'eth0', 'up']);
    run('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    return host;
  }

  /** @internal Hosts register what they start, for close(). */
  track(proc: HostProcess): void {
    this.#processes.push(proc);
  }

  /** Stops every process (SIGTERM, then SIGKILL after `graceMs`) and deletes every namespace. Safe to call twice. */
  async close(graceMs = 3000): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const host of this.#hosts) host.heal();
    await Promise.all(this.#processes.map((p) => p.stop('SIGTERM', graceMs)));
    this.#removeAll();
    process.removeListener('exit', this.#onExit);
  }

  /** Namespaces that exist now for this network (for the teardown test). */
  namespaces(): string[] {
    const list = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout ?? '';
    const mine = `${NS_PREFIX}${process.pid}-${this.tag}-`;
    return list.split('\n').map((l) => l.split(' ')[0] ?? '').filter((ns) => ns.startsWith(mine));
  }

  #removeAll(): void {
    this.#closed = true;
    for (const p of this.#processes) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    for (const host of this.#hosts) removeNamespace(host.ns);
    removeNamespace(this.#switch);
  }
}
