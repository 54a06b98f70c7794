// @needs redis-server
/**
 * A cluster class of one's own on a spec: a launcher that runs the `weft worker` command (as an
 * ssh launcher would, minus ssh), ready by heartbeat with no channel back, replaced when it dies,
 * and nothing left after close; and a LocalCluster whose Redis requires a password.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { flow, DistributedTaskRunner, LocalCluster, SpecCluster, type WorkerExit, type WorkerLauncher } from '../../src/index.ts';
import { whereAmI } from '../fixtures/cluster/tasks.ts';
import { liveWorkers } from '../../src/cluster/registry.ts';
import { alive, ROOT } from '../helpers/redis.ts';
import { until } from '../helpers/eventually.ts';

const BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));

/** Starts each worker with the CLI, the way a launcher for other hosts would run it there. */
const commandLauncher: WorkerLauncher = {
  launch(id, address) {
    const child = spawn(process.execPath, [BIN, 'worker', '--address', address, '--name', id, '--concurrency', '1', '--lock-ms', '1500', '--grace-ms', '500'], { cwd: ROOT, stdio: 'ignore' });
    const exited = new Promise<WorkerExit>((resolve) => child.once('exit', (code, signal) => resolve({ clean: code === 0, reason: signal ?? `exit ${code}` })));
    return {
      exited,
      pid: child.pid,
      stop: async (graceMs) => {
        if (child.exitCode === null && child.signalCode === null) child.kill(graceMs > 0 ? 'SIGTERM' : 'SIGKILL');
        const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        await exited;
        clearTimeout(timer);
      },
    };
  },
};

test('a SpecCluster with a command launcher: workers ready by heartbeat, a dead one replaced, nothing left after close', async () => {
  const cluster = new SpecCluster({ launcher: commandLauncher, workers: 2, slotsPerWorker: 1, resources: {}, name: 'cmd', redis: { port: 0 } });
  try {
    await cluster.start();
    assert.equal(cluster.size, 2);
    const main = flow(async function onCommandCluster() {
      return Promise.all(whereAmI.map([300, 300, 300, 300]));
    }, { taskRunner: new DistributedTaskRunner({ address: cluster.address }) });
    const where = await main();
    assert.deepEqual(new Set(where.map((w) => w.workerId)), new Set(['cmd-1', 'cmd-2']));
    const victim = where.find((w) => w.workerId === 'cmd-1')?.pid as number;
    process.kill(victim, 'SIGKILL');
    // The nanny starts cmd-3 in its place; it is ready once its heartbeat is in the registry.
    const redis = new Redis(cluster.address);
    try {
      await until(async () => JSON.stringify(await liveWorkers(redis, 'weft')).includes('"cmd-3"'), 30_000, 'the replacement worker cmd-3 to join');
    } finally {
      redis.disconnect();
    }
    const again = await main();
    assert.ok(again.some((w) => w.workerId === 'cmd-3'), `the replacement runs tasks: ${again.map((w) => w.workerId).join(', ')}`);
  } finally {
    const { redis, workers } = cluster.pids;
    await cluster.close();
    for (const pid of [redis, ...workers]) assert.equal(alive(pid), false, `process ${pid} is gone`);
  }
});

test('a LocalCluster with a password: its address carries it, and Redis refuses clients without it', async () => {
  const cluster = new LocalCluster({ workers: 1, threadsPerWorker: 1, password: 's3cret/+' });
  try {
    await cluster.start();
    assert.match(cluster.address, /^redis:\/\/:s3cret%2F%2B@127\.0\.0\.1:\d+$/);
    const main = flow(async function withPassword() {
      return whereAmI.submit(0).result();
    }, { taskRunner: new DistributedTaskRunner({ address: cluster.address }) });
    assert.equal((await main()).workerId, 'local-1');
    const port = Number(new URL(cluster.address).port);
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
      socket.once('error', reject);
      socket.once('data', (chunk) => {
        socket.destroy();
        resolve(chunk.toString());
      });
    });
    assert.match(reply, /^-NOAUTH/, 'a client without the password is refused');
  } finally {
    await cluster.close();
  }
});
