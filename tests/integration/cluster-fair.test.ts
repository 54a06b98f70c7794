// @needs redis-server
/**
 * Fair share between flow runs on a shared cluster: a small run started while a big run's backlog
 * is queued is taken in turn with it, so it ends long before the big run does.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { flow, DistributedTaskRunner, unmapped } from '../../src/index.ts';
import type { RedisServer } from '../../src/cluster/redis-server.ts';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { marked, sleepy } from '../fixtures/cluster/tasks.ts';
import { alive, startRedis, startWorker, type CliProcess } from '../helpers/redis.ts';
import { until } from '../helpers/eventually.ts';

let redis: RedisServer;
let worker: CliProcess | undefined;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await worker?.stop();
  await redis.stop();
  assert.equal(alive(worker?.child.pid), false);
  assert.equal(alive(redis.pid), false);
});

const map = (name: string, n: number) => flow(async function fair() {
  return Promise.all(sleepy.withOptions({ name }).map(Array.from({ length: n }, () => 50)));
}, { name });

test('a small flow run queued behind a big one on a one-worker cluster ends long before it', async () => {
  const address = `${redis.address}?prefix=fair`;
  worker = await startWorker(address, ['--concurrency', '2']);
  const big = map('big', 200).withOptions({ taskRunner: new DistributedTaskRunner({ address }) }).run();
  let bigDone = 0;
  big.on('task-run:finished', () => void bigDone++);
  // The big run's 200 runs are all queued (several jobs ran already) before the small run starts.
  await until(() => bigDone >= 10, 60_000, 'the big run under way');
  const small = map('small', 4).withOptions({ taskRunner: new DistributedTaskRunner({ address }) }).run();
  const smallResults = await small.result();
  const bigDoneWhenSmallEnded = bigDone;
  assert.deepEqual(smallResults, [50, 50, 50, 50]);
  assert.equal((await big.result()).length, 200);
  // Without fair share the small run's jobs wait behind all 200 of the big run's (measured: 4.6 s later).
  assert.ok(bigDoneWhenSmallEnded < 100, `the small run ended when ${bigDoneWhenSmallEnded} of the big run's 200 tasks had`);
});

test('a big job that has held its slot for a slice hands its runs not begun back: a small run gets a slot within about a slice, and every run still runs once', async (t) => {
  const address = `${redis.address}?prefix=slice`;
  await worker?.stop();
  worker = await startWorker(address, ['--concurrency', '2']);
  const dir = mkdtempSync(join(tmpdir(), 'weft-slice-'));
  try {
    const file = join(dir, 'runs');
    // 640 runs go out as 16 jobs of 40 (batch.ts); the worker holds two, 80 runs of 40 ms: 1.6 s of work before either ends.
    const big = flow(async function sliced() {
      return Promise.all(marked.map(unmapped(file), Array.from({ length: 640 }, (_, i) => i), unmapped(40)));
    }, { taskRunner: new DistributedTaskRunner({ address }) }).run();
    let bigDone = 0;
    big.on('task-run:finished', () => void bigDone++);
    await until(() => bigDone >= 10, 60_000, 'the big run under way');
    const doneAtStart = bigDone;
    const small = map('small', 4).withOptions({ taskRunner: new DistributedTaskRunner({ address }) }).run();
    assert.deepEqual(await small.result(), [50, 50, 50, 50]);
    const bigDuringSmall = bigDone - doneAtStart;
    t.diagnostic(`the big run finished ${bigDuringSmall} tasks while the small run waited and ran`);
    const results = await big.result();
    assert.deepEqual(results, Array.from({ length: 640 }, (_, i) => i));
    // Each run appended its index once: handed-back runs ran in their new job only.
    const lines = readFileSync(file, 'utf8').trim().split('\n').map(Number).sort((a, b) => a - b);
    assert.deepEqual(lines, results);
    // Without slices the small run waits for one of the two held jobs to drain: about 80 of the big run's tasks.
    assert.ok(bigDuringSmall < 50, `${bigDuringSmall} of the big run's tasks finished while the small run waited and ran`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
