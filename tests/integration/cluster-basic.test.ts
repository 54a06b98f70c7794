// @needs redis-server
/** A flow on a temporary LocalCluster: results, errors, retries, timeouts, logs, bad values; nothing left after. */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { flow, DistributedTaskRunner, FlowRunError, LocalCluster, TaskRunError, SerializationError, TaskNotFoundError, TaskTimeoutError } from '../../src/index.ts';
import type { WeftEvents } from '../../src/index.ts';
import { double, boom, logs, flaky, slowTimeout, returnsFunction, whereAmI, makeHiddenTask } from '../fixtures/cluster/tasks.ts';
import { recordedLocalCluster } from '../helpers/clusters.ts';
import { alive } from '../helpers/redis.ts';

/** Every temporary cluster the runners made (through a factory clusterClass, which records them). */
const clusters: LocalCluster[] = [];
const runner = () =>
  new DistributedTaskRunner({
    clusterClass: recordedLocalCluster(clusters),
    clusterOptions: { workers: 2, threadsPerWorker: 2 },
  });

test('a temporary cluster runs tasks and is gone when the flow run ends', async () => {
  const seen: { pids?: { redis: number | undefined; workers: number[] } } = {};
  const events: WeftEvents['task-run:log'][] = [];
  const joined: string[] = [];
  const notHere = makeHiddenTask(); // made inside a function: no worker can find it
  const main = flow(async function clusterBasics() {
    const doubled = await Promise.all(double.map([1, 2, 3, 4]));
    const where = await Promise.all(whereAmI.map([20, 20, 20, 20]));
    let failure: unknown;
    try {
      await boom.submit('bad input').result();
    } catch (error) {
      failure = error;
    }
    const logged = await logs.submit('cluster').result();
    const retried = await flaky.submit().result();
    const timeoutError = await slowTimeout.submit().result().catch((e: unknown) => e);
    const badResult = await returnsFunction.submit().result().catch((e: unknown) => e);
    const badArg = await double.submit((() => 1) as unknown as number).result().catch((e: unknown) => e);
    const unknown = await notHere.submit().result().catch((e: unknown) => e);
    return { doubled, where, failure, logged, retried, timeoutError, badResult, badArg, unknown };
  }, { taskRunner: runner() });
  const run = main.run();
  run.on('task-run:log', (e) => events.push(e));
  run.on('worker:joined', (e) => {
    joined.push(e.workerId);
    seen.pids = clusters[0]?.pids;
  });
  const r = await run.result();
  assert.deepEqual(r.doubled, [2, 4, 6, 8]);
  assert.ok(r.where.every((w) => w.pid !== process.pid && w.workerId?.startsWith('local-')), 'tasks ran in worker processes');
  assert.ok(r.failure instanceof TaskRunError);
  assert.ok((r.failure as Error).cause instanceof RangeError);
  assert.equal(((r.failure as Error).cause as Error).message, 'bad input');
  assert.match(((r.failure as Error).cause as Error).stack ?? '', /tasks\.ts/, 'the remote stack is kept');
  assert.equal(r.logged, 'cluster');
  assert.ok(events.some((e) => e.message === 'hello cluster' && e.workerId.startsWith('local-')), 'task logs reach the flow');
  assert.equal(r.retried, 3, 'retries run on the worker');
  assert.ok((r.timeoutError as Error).cause instanceof TaskTimeoutError);
  assert.ok((r.badResult as Error).cause instanceof SerializationError);
  assert.ok(r.badArg instanceof TaskRunError && r.badArg.cause instanceof SerializationError);
  assert.match(((r.badArg as Error).cause as Error).message, /args\[0\]/);
  assert.ok((r.unknown as Error).cause instanceof TaskNotFoundError);
  assert.equal(joined.length, 2);
  // Nothing left: redis-server and both workers are gone.
  assert.ok(seen.pids?.redis !== undefined && seen.pids.workers.length === 2);
  for (const pid of [seen.pids.redis, ...seen.pids.workers]) assert.equal(alive(pid), false, `process ${pid} is gone`);
});

test('a failed flow run also stops its temporary cluster', async () => {
  let pids: number[] = [];
  const main = flow(async function failing() {
    const c = clusters.at(-1) as LocalCluster;
    pids = [c.pids.redis as number, ...c.pids.workers];
    await double.submit(1).result();
    throw new Error('the flow itself fails');
  }, { taskRunner: runner() });
  // The flow run's error names the run; its cause is the flow's own error.
  await assert.rejects(main(), (e: unknown) => e instanceof FlowRunError && (e.cause as Error).message === 'the flow itself fails');
  assert.equal(pids.length, 3);
  for (const pid of pids) assert.equal(alive(pid), false);
});

after(() => {
  for (const c of clusters) assert.equal(c.state, 'closed');
});

test('adapt: a temporary cluster adds workers while tasks wait (scale:up), within its bounds', async () => {
  const scaled: { from: number; to: number }[] = [];
  const workerIds = new Set<string>();
  const main = flow(async function adaptive() {
    return Promise.all(whereAmI.map(Array.from({ length: 16 }, () => 250)));
  }, {
    taskRunner: new DistributedTaskRunner({
      clusterClass: recordedLocalCluster(clusters),
      clusterOptions: { workers: 1, threadsPerWorker: 1 },
      // 16 × 250 ms is 4 s of work: one worker would finish it within the default 5 s target.
      adapt: { minimum: 1, maximum: 2, targetMs: 1000 },
    }),
  });
  const run = main.run();
  run.on('scale:up', (e) => scaled.push(e));
  run.on('task-run:started', (e) => workerIds.add(e.workerId));
  const where = await run.result();
  assert.equal(where.length, 16);
  assert.deepEqual(scaled.map(({ from, to }) => ({ from, to }))[0], { from: 1, to: 2 });
  assert.ok(workerIds.size >= 2, 'the added worker ran tasks too');
  const cluster = clusters.at(-1) as LocalCluster;
  assert.equal(cluster.state, 'closed');
});
