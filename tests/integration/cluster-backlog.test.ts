// @needs redis-server
/**
 * The backlog adaptive scaling reads: task runs (not BullMQ jobs, which are batches) over every
 * queue, resource queues included; and a temporary cluster that scales up for tasks needing a
 * resource its workers declare.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { flow, DistributedTaskRunner, LocalCluster } from '../../src/index.ts';
import { ClusterSession } from '../../src/cluster/session.ts';
import { connect, parseAddress } from '../../src/cluster/connection.ts';
import { ClusterQueues } from '../../src/cluster/queues.ts';
import type { RedisServer } from '../../src/cluster/redis-server.ts';
import { resolveTaskOptions } from '../../src/core/options.ts';
import { recordedLocalCluster } from '../helpers/clusters.ts';
import { alive, startRedis } from '../helpers/redis.ts';
import { gpu } from '../fixtures/cluster/tasks.ts';

let redis: RedisServer;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await redis.stop();
  assert.equal(alive(redis.pid), false);
});

test('backlog(): 100 plain and 100 resource task runs sent in one turn count 200 runs, by queue', async () => {
  const address = parseAddress('address', `${redis.address}?prefix=backlog`);
  const settings = { connectTimeoutMs: 2000, reconnectTimeoutMs: 2000, allowedFailures: 3, redis: undefined };
  const client = await ClusterSession.connect(address, 'backlog-test', settings, { emit: () => undefined, has: () => false });
  const connection = await connect(address, { connectTimeoutMs: 2000, name: 'backlog-reader' });
  const queues = new ClusterQueues(connection, address.prefix);
  try {
    const ref = { module: new URL('../fixtures/cluster/tasks.ts', import.meta.url).href, name: 'double' };
    const plain = resolveTaskOptions({}, undefined, 'double');
    const withGpu = resolveTaskOptions({ resources: { GPU: 1 } }, undefined, 'double');
    // No worker is listening: everything stays queued. One turn, so the plain runs go out in batches.
    for (let i = 0; i < 100; i++) {
      void client.submit({ taskRunId: `p-${i}`, flowRunId: 'f', ref, options: plain, args: [i] }, undefined);
      void client.submit({ taskRunId: `g-${i}`, flowRunId: 'f', ref, options: withGpu, args: [i] }, undefined);
    }
    let backlog = await queues.backlog();
    for (let tries = 0; backlog.total < 200 && tries < 100; tries++) {
      await new Promise((r) => setTimeout(r, 50));
      backlog = await queues.backlog();
    }
    assert.equal(backlog.total, 200);
    assert.deepEqual([...backlog.bySignature].sort(), [['', 100], ['GPU=1', 100]]);
    const jobs = await queues.queue('').getJobCounts('prioritized', 'wait');
    assert.ok((jobs.prioritized ?? 0) + (jobs.wait ?? 0) < 100, 'the plain runs went in batches, fewer jobs than runs');
    // Counting stops at a limit, and skips queues the caller does not ask for.
    assert.ok((await queues.backlog(10)).total < 200);
    assert.equal((await queues.backlog(Infinity, (signature) => signature === '')).total, 100);
  } finally {
    await queues.close();
    connection.disconnect();
    await client.close();
  }
});

test('adapt: a cluster whose workers declare a resource scales up for tasks queued needing it', async () => {
  const clusters: LocalCluster[] = [];
  const scaled: { from: number; to: number }[] = [];
  const main = flow(async function needsGpus() {
    return Promise.all(gpu.map(Array.from({ length: 8 }, (_, i) => i)));
  }, {
    taskRunner: new DistributedTaskRunner({
      clusterClass: recordedLocalCluster(clusters),
      // No worker at first: only the backlog on the GPU queue can bring one.
      clusterOptions: { workers: 0, threadsPerWorker: 1, resources: { GPU: 1 } },
      adapt: { minimum: 0, maximum: 2 },
    }),
  });
  const run = main.run();
  run.on('scale:up', (e) => scaled.push(e));
  const results = await run.result();
  assert.equal(results.length, 8);
  assert.ok(scaled.length > 0 && scaled[0]?.from === 0 && (scaled[0]?.to ?? 0) >= 1, `scaled up from 0: ${JSON.stringify(scaled)}`);
  assert.ok(scaled.every((s) => s.to <= 2), 'within the bounds');
  assert.equal(clusters[0]?.state, 'closed');
});
