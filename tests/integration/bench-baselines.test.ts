// @needs redis-server
/**
 * Smoke test of the raw BullMQ baselines (bench/baselines/bullmq.ts) against a private
 * redis-server on a free loopback port: small runs, positive finite figures, and no BullMQ worker
 * process left behind. Dask (bench/baselines/dask.ts) is not tested here: it needs apt.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { baselineWorkerPids, bullmqChain, bullmqNoop } from '../../bench/baselines/bullmq.ts';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** One PING over a raw socket; resolves true on +PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function assertPositiveFinite(value: number, what: string): void {
  assert.ok(Number.isFinite(value) && value > 0, `${what} should be a positive finite number, got ${value}`);
}

describe('bench baselines: raw BullMQ', () => {
  let redis: ChildProcess | undefined;
  let url = '';

  before(async () => {
    const port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const spawned = redis;
    const failed = new Promise<never>((_, reject) => {
      spawned.once('error', (err) => reject(new Error(`redis-server could not start: ${err.message}`)));
      spawned.once('exit', (code) => reject(new Error(`redis-server exited early (code ${code})`)));
    });
    failed.catch(() => undefined);
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await Promise.race([ping(port), failed]);
      if (ok) break;
      if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer PING within 10 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    url = `redis://127.0.0.1:${port}`;
  });

  after(async () => {
    if (redis && redis.exitCode === null && redis.signalCode === null) {
      const exited = once(redis, 'exit');
      redis.kill('SIGTERM');
      await exited;
    }
  });

  test('bullmqNoop: 200 no-op jobs give a positive rate, and its worker process is gone', async () => {
    const before = baselineWorkerPids().length;
    const result = await bullmqNoop(url, 200, 50);
    assertPositiveFinite(result.tasksPerSec, 'tasksPerSec');
    assertPositiveFinite(result.seconds, 'seconds');
    const pids = baselineWorkerPids().slice(before);
    assert.equal(pids.length, 1, 'one worker child per call');
    for (const pid of pids) assert.equal(alive(pid), false, `BullMQ worker process ${pid} still running`);
  });

  test('bullmqChain: a 20-job chain gives a positive ms per hop, and its worker process is gone', async () => {
    const before = baselineWorkerPids().length;
    const result = await bullmqChain(url, 20);
    assertPositiveFinite(result.msPerHop, 'msPerHop');
    assertPositiveFinite(result.seconds, 'seconds');
    const pids = baselineWorkerPids().slice(before);
    assert.equal(pids.length, 1, 'one worker child per call');
    for (const pid of pids) assert.equal(alive(pid), false, `BullMQ worker process ${pid} still running`);
  });
});
