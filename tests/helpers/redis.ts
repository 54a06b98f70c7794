/**
 * Test helpers for the cluster: a private redis-server per test file (free loopback port, no
 * persistence), worker processes started through the real `weft worker` command, and checks that
 * nothing a test started is still alive.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { RedisServer } from '../../src/cluster/redis-server.ts';
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

export function startCli(args: string[], env: Record<string, string> = {}): CliProcess {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
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

/** Starts `weft worker` on `address` and waits until it has joined. */
export async function startWorker(address: string, flags: string[] = []): Promise<CliProcess> {
  const worker = startCli(['worker', '--address', address, '--lock-ms', '1500', '--grace-ms', '1000', ...flags]);
  await worker.waitFor(/joined/);
  return worker;
}
