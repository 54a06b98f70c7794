import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { InvalidOptionError } from '../errors.ts';
import { resolveResources, type Resources } from '../schedule/resources.ts';
import { stopProcess } from '../util/process.ts';
import * as v from '../util/validate.ts';
import { SpecCluster, type WorkerExit, type WorkerLauncher, type WorkerProcess } from './spec-cluster.ts';

/** Options of a {@link CommandCluster}. */
export interface CommandClusterOptions {
  /**
   * The shell command that starts one worker, with placeholders: `{worker}` (required) becomes the
   * `worker --address ... --name ... --concurrency ...` arguments of the `weft` CLI, `{host}` the
   * host it goes to; `{address}` and `{name}` are there for programs of your own. Each value is
   * shell-quoted. E.g. `ssh -tt {host} cd /srv/app '&&' npx weft {worker}`.
   */
  command: string;
  /** The hosts workers go to, in turn (`{host}`). */
  hosts: readonly string[];
  /** Workers at start. @default hosts.length */
  workers?: number;
  /** Tasks each worker runs at once. @default 1 */
  threadsPerWorker?: number;
  /** What each worker declares. @default {} */
  resources?: Resources;
  /** The address of this machine the workers reach Redis on (Redis listens there and on loopback). */
  host: string;
  /** The Redis port; 0 picks a free one. @default 0 */
  port?: number;
  /** The password Redis requires. @default a random one (workers get it in their address) */
  password?: string;
  /** Seconds a worker outliving its cluster (a lost ssh session) waits for Redis before it exits. @default 10 */
  deathTimeoutS?: number;
  /** A worker not in the registry this long after its command started failed to start. @default 60000 */
  startTimeoutMs?: number;
}

/** Quotes a value for `sh`. */
function quote(value: string): string {
  return /^[\w@%+=:,./-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

/** Starts each worker by running the user's command in a shell (its own process group, so a stop reaches all of it). */
export class CommandLauncher implements WorkerLauncher {
  #next = 0;

  constructor(readonly options: Required<Pick<CommandClusterOptions, 'command' | 'hosts' | 'threadsPerWorker' | 'resources' | 'deathTimeoutS'>>) {}

  /** The shell command for worker `id` at `address` (on the next host in turn). */
  commandFor(id: string, address: string): string {
    const { command, hosts, threadsPerWorker, resources, deathTimeoutS } = this.options;
    const host = hosts[this.#next++ % hosts.length] as string;
    const declared = Object.entries(resources).map(([name, amount]) => `${name}=${amount}`).join(',');
    const worker = ['worker', '--address', address, '--name', id, '--concurrency', String(threadsPerWorker), '--death-timeout', String(deathTimeoutS),
      ...(declared ? ['--resources', declared] : [])].map(quote).join(' ');
    const values: Record<string, string> = { worker, host: quote(host), address: quote(address), name: quote(id) };
    return command.replace(/\{(worker|host|address|name)\}/g, (_, key: string) => values[key] as string);
  }

  launch(id: string, address: string): WorkerProcess {
    const child = spawn('sh', ['-c', this.commandFor(id, address)], { stdio: ['ignore', 2, 2], detached: true });
    child.on('error', () => undefined);
    const exited = new Promise<WorkerExit>((resolve) => {
      child.once('exit', (code, signal) => resolve({ clean: code === 0, reason: signal ? `killed by ${signal}` : `exit ${code}` }));
    });
    const signalGroup = (signal: NodeJS.Signals) => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, signal);
      } catch {
        // gone already
      }
    };
    return {
      exited, pid: child.pid,
      stop: (graceMs) => (graceMs <= 0 ? (signalGroup('SIGKILL'), exited.then(() => undefined)) : stopProcess(child, graceMs, { exited, ask: () => signalGroup('SIGTERM') })),
    };
  }
}

/**
 * A cluster whose workers are started by a command of yours (Dask's `SSHCluster`): a private
 * Redis on this machine at `host`, with a password, and one `weft worker` per command run, e.g.
 * over ssh on a few machines without Kubernetes. Each host needs the project's checkout (and
 * node); workers count as ready once their heartbeat is in the registry. A `clusterClass`.
 *
 * @example
 * new DistributedTaskRunner({ clusterClass: CommandCluster, clusterOptions: {
 *   command: 'ssh -tt {host} cd /srv/app "&&" npx weft {worker}', hosts: ['gpu1', 'gpu2'], host: '10.0.0.5',
 * } });
 */
export class CommandCluster extends SpecCluster {
  constructor(options: CommandClusterOptions) {
    const raw = v.plainObject('clusterOptions', options);
    const o = raw as unknown as CommandClusterOptions;
    v.knownKeys('clusterOptions', raw, ['command', 'hosts', 'workers', 'threadsPerWorker', 'resources', 'host', 'port', 'password', 'deathTimeoutS', 'startTimeoutMs']);
    const command = v.string('command', o.command);
    if (!command.includes('{worker}')) throw new InvalidOptionError('command', "a shell command containing {worker} (the weft worker arguments), e.g. 'ssh {host} npx weft {worker}'", command);
    if (!Array.isArray(o.hosts) || o.hosts.length === 0) throw new InvalidOptionError('hosts', 'a non-empty list of host names', o.hosts);
    const threads = o.threadsPerWorker === undefined ? 1 : v.integer('threadsPerWorker', o.threadsPerWorker, 1);
    const resources = resolveResources('resources', o.resources);
    const launcher = new CommandLauncher({
      command, hosts: o.hosts.map((h, i) => v.string(`hosts[${i}]`, h)), threadsPerWorker: threads, resources,
      deathTimeoutS: o.deathTimeoutS === undefined ? 10 : v.integer('deathTimeoutS', o.deathTimeoutS, 1),
    });
    super({
      launcher, name: 'cmd', slotsPerWorker: threads, resources,
      workers: o.workers === undefined ? o.hosts.length : v.integer('workers', o.workers, 0),
      redis: { port: o.port === undefined ? 0 : v.integer('port', o.port, 0), bind: v.string('host', o.host), password: o.password === undefined ? randomBytes(18).toString('base64url') : v.string('password', o.password) },
      ...(o.startTimeoutMs === undefined ? {} : { startTimeoutMs: v.integer('startTimeoutMs', o.startTimeoutMs, 1) }),
    });
  }
}
