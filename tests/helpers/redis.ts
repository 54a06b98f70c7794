/**
 * Test helpers for the cluster: a private redis-server per test file (free loopback port, no
 * persistence), worker processes started through the real `weft worker` command, and checks that
 * nothing a test started is still alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { freePort, RedisServer } from '../../src/cluster/redis-server.ts';
import { killWithParent } from '../../src/util/watchdog.ts';
import { until } from './eventually.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));

/** Starts a private redis-server for one test file. */
export async function startRedis(): Promise<RedisServer> {
  const server = new RedisServer();
  await server.start();
  return server;
}

/** Whether a process is alive. */
export function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** A `weft` CLI process (e.g. `weft worker`), with its output collected. */
export interface CliProcess {
  readonly child: ChildProcess;
  output(): string;
  /** Resolves once the output matches. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Sends `signal` and resolves the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Makes a process started for a whole test file not keep the file's event loop alive (nor count
 * as a leak of the test that happens to be running): node:test ends a file with no tests left
 * only once its loop is empty, and then runs the `after` hooks that stop the process.
 */
function background(child: ChildProcess): void {
  child.unref();
  for (const stream of [child.stdout, child.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
}

export function startCli(args: string[], env: Record<string, string> = {}, options: { background?: boolean } = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  killWithParent(child);
  if (options.background) background(child);
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    async waitFor(pattern, ms = 20_000) {
      await until(() => pattern.test(out), ms, `${pattern} in the output of weft ${args.join(' ')}:\n${out}`);
      return out.match(pattern) as RegExpMatchArray;
    },
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Starts `weft worker` on `address` and waits until it has joined (within `joinMs`, default 20 s). */
export async function startWorker(address: string, flags: string[] = [], options: { background?: boolean; joinMs?: number } = {}): Promise<CliProcess> {
  // Short locks and grace by default, so faults show quickly; a flag of the test's own wins.
  const defaults = [['--lock-ms', '1500'], ['--grace-ms', '1000']].filter(([name]) => !flags.includes(name as string)).flat();
  const worker = startCli(['worker', '--address', address, ...defaults, ...flags], {}, options);
  // One that never joins is stopped, not left running behind the failed test.
  await worker.waitFor(/joined/, options.joinMs).catch(async (error: unknown) => {
    await worker.stop('SIGKILL');
    throw error;
  });
  return worker;
}

/** A redis-server for a whole test file, in the background (see {@link background}). */
export interface BackgroundRedis {
  readonly address: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

export async function startBackgroundRedis(): Promise<BackgroundRedis> {
  const port = await freePort();
  const child = spawn(process.env.WEFT_REDIS_SERVER ?? 'redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  killWithParent(child);
  background(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await until(() => pong(port), 5000, `redis-server on port ${port} to answer PING`);
  return {
    address: `redis://127.0.0.1:${port}`,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

function pong(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('error', () => resolve(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => {
      socket.destroy();
      resolve(chunk.toString().startsWith('+PONG'));
    });
  });
}
