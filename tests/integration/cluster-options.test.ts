// @needs redis-server
/** Bad input to the distributed runner and LocalCluster: each a clear error naming what was wrong. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { flow, DistributedTaskRunner, LocalCluster, InvalidOptionError, ClusterConnectionError, FlowRunError, UsageError } from '../../src/index.ts';
import type { DistributedTaskRunnerOptions } from '../../src/index.ts';
import { freePort } from '../../src/cluster/redis-server.ts';
import { double } from '../fixtures/cluster/tasks.ts';
import { alive } from '../helpers/redis.ts';

const bad = (options: unknown) => () => new DistributedTaskRunner(options as DistributedTaskRunnerOptions);

test('address and clusterClass together is an error naming both', () => {
  assert.throws(bad({ address: 'redis://127.0.0.1:6390', clusterClass: LocalCluster }), (e: Error) => {
    assert.ok(e instanceof InvalidOptionError);
    assert.match(e.message, /`clusterClass`/);
    assert.match(e.message, /`address`/);
    return true;
  });
  assert.throws(bad({ address: 'redis://127.0.0.1:6390', clusterOptions: { workers: 1 } }), /`clusterOptions`.*`address`/);
  assert.throws(bad({ address: 'redis://127.0.0.1:6390', adapt: { maximum: 2 } }), /`adapt`.*`address`/);
});

test('bad addresses and options are rejected at construction, naming the field', () => {
  for (const address of ['', 'localhost:6379', 'http://x:1', 'redis://', 42, 'redis://h:1/x']) {
    assert.throws(bad({ address }), InvalidOptionError, String(address));
  }
  assert.throws(bad({ address: 'redis://h:1' + '?prefix=a b' }), /prefix/);
  assert.throws(bad({ clusterClass: 'no-colon' }), /`clusterClass`.*'module:Export'/);
  assert.throws(bad({ clusterClass: 42 }), /`clusterClass`/);
  assert.throws(bad({ adapt: { minimum: 3, maximum: 1 } }), /`adapt.maximum`/);
  assert.throws(bad({ adapt: { minimum: -1 } }), /`adapt.minimum` to be an integer ≥ 0, got `-1` \(number\)/);
  assert.throws(bad({ allowedFailures: 1.5 }), /`allowedFailures` to be an integer ≥ 0, got `1.5`/);
  assert.throws(bad({ clientOptions: { connectTimeoutMs: 0 } }), /clientOptions.connectTimeoutMs/);
  assert.throws(bad({ clientOptions: { nope: 1 } }), /clientOptions.nope/);
  assert.throws(bad({ workers: 2 }), /`options.workers`/);
  assert.throws(() => new LocalCluster({ workers: -1 }), /`workers` to be an integer ≥ 0, got `-1` \(number\)/);
  assert.throws(() => new LocalCluster({ threadsPerWorker: 0 }), /`threadsPerWorker` to be an integer ≥ 1, got `0` \(number\)/);
  assert.throws(() => new LocalCluster({ resources: { GPU: -1 } }), /`resources.GPU`/);
  // A password never shows in the runner's name.
  assert.doesNotMatch(new DistributedTaskRunner({ address: 'redis://:s3cret@127.0.0.1:1' }).name, /s3cret/);
});

test('a dead address fails fast with ClusterConnectionError naming it', async () => {
  const port = await freePort();
  const address = `redis://127.0.0.1:${port}`;
  const main = flow(async function deadAddress() {
    return double.submit(1).result();
  }, { taskRunner: new DistributedTaskRunner({ address, clientOptions: { connectTimeoutMs: 1000 } }) });
  const error = await main().then(() => undefined, (e: unknown) => e);
  assert.ok(error instanceof FlowRunError);
  assert.equal(error.state, 'Crashed');
  assert.ok(error.cause instanceof ClusterConnectionError);
  assert.match((error.cause as Error).message, new RegExp(`127\\.0\\.0\\.1:${port}`));
});

test('an unknown cluster class string fails the run, naming the export and the module', async () => {
  const run = async (clusterClass: string) => {
    const main = flow(async function unknownClass() {
      return 1;
    }, { taskRunner: new DistributedTaskRunner({ clusterClass }) });
    return main().then(() => undefined, (e: unknown) => (e as Error).cause as Error);
  };
  const missingExport = await run('../fixtures/cluster/custom-cluster.ts:NoSuchCluster');
  assert.ok(missingExport instanceof InvalidOptionError);
  assert.match(missingExport.message, /no exported class or function 'NoSuchCluster'.*SmallCluster/);
  const missingModule = await run('./no-such-module.ts:Cluster');
  assert.ok(missingModule instanceof InvalidOptionError);
  assert.match(missingModule.message, /no-such-module\.ts failed/);
  const notCluster = await run('../fixtures/cluster/custom-cluster.ts:notAClass');
  assert.match(notCluster?.message ?? '', /no exported class or function 'notAClass'/);
});

test("clusterClass as a relative 'module:Export' string and as 'weftjs:LocalCluster'", async () => {
  for (const clusterClass of ['../fixtures/cluster/custom-cluster.ts:SmallCluster', 'weftjs:LocalCluster']) {
    const main = flow(async function namedClass() {
      return double.submit(21).result();
    }, { taskRunner: new DistributedTaskRunner({ clusterClass, clusterOptions: { workers: 1, threadsPerWorker: 1 } }) });
    assert.equal(await main(), 42);
  }
});

test('a missing redis-server binary says how to install it', async () => {
  const previous = process.env.WEFT_REDIS_SERVER;
  process.env.WEFT_REDIS_SERVER = '/nonexistent/redis-server';
  try {
    const cluster = new LocalCluster({ workers: 1 });
    await assert.rejects(cluster.start(), (e: Error) => e instanceof UsageError && /apt-get install redis-server/.test(e.message));
    assert.equal(cluster.pids.workers.length, 0);
  } finally {
    if (previous === undefined) delete process.env.WEFT_REDIS_SERVER;
    else process.env.WEFT_REDIS_SERVER = previous;
  }
});

test('LocalCluster start/close on its own leaves nothing', async () => {
  const cluster = new LocalCluster({ workers: 1, threadsPerWorker: 1 });
  await cluster.start();
  assert.match(cluster.address, /^redis:\/\/127\.0\.0\.1:\d+$/);
  const { redis, workers } = cluster.pids;
  assert.equal(workers.length, 1);
  await cluster.close();
  for (const pid of [redis, ...workers]) assert.equal(alive(pid), false);
});
