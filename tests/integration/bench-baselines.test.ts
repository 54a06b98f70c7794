// @needs redis-server
/**
 * Smoke test of the raw BullMQ baselines (bench/baselines/bullmq.ts) against a private
 * redis-server on a free loopback port: small runs, positive finite figures, and no BullMQ worker
 * process left behind. Dask (bench/baselines/dask.ts) is not tested here: it needs apt.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { baselineWorkerPids, bullmqChain, bullmqNoop } from '../../bench/baselines/bullmq.ts';
import type { RedisServer } from '../../src/cluster/redis-server.ts';
import { alive, startRedis } from '../helpers/redis.ts';

function assertPositiveFinite(value: number, what: string): void {
  assert.ok(Number.isFinite(value) && value > 0, `${what} should be a positive finite number, got ${value}`);
}

describe('bench baselines: raw BullMQ', () => {
  let redis: RedisServer | undefined;
  let url = '';

  before(async () => {
    redis = await startRedis();
    url = redis.address;
  });

  after(async () => {
    await redis?.stop();
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
