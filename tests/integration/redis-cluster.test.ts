// @needs redis-server
/**
 * weft on a Redis Cluster (`redis+cluster://`): an address of the wrong kind named as such, a master
 * killed mid-run while its replica takes over, and the whole cluster lost. Skipped, saying why, where
 * redis-server cannot run a cluster.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flow, unmapped, DistributedTaskRunner, ClusterConnectionError, ClusterModeError, TaskRunError } from '../../src/index.ts';
import { connect, failoverTries, FAILOVER_RETRIES, isCluster, parseAddress } from '../../src/cluster/connection.ts';
import { keys } from '../../src/cluster/queues.ts';
import { marked, sleepy } from '../fixtures/cluster/tasks.ts';
import { awaitAbort } from '../fixtures/core/tasks.ts';
import { alive, startCli, startRedis, startWorker, type CliProcess } from '../helpers/redis.ts';
import { clusterUnsupported, startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.ts';
import { until, within } from '../helpers/eventually.ts';
import type { RedisServer } from '../../src/cluster/redis-server.ts';

const unsupported = clusterUnsupported();
const skip = unsupported === undefined ? false : unsupported;
let cluster: TestRedisCluster;
let plain: RedisServer;
let dir: string;
const workers: CliProcess[] = [];

before(async () => {
  if (skip) return;
  cluster = await startRedisCluster();
  plain = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'weft-rcluster-test-'));
});

after(async () => {
  if (skip) return;
  for (const w of workers) await w.stop();
  const pids = cluster.pids;
  await cluster.stop();
  await plain.stop();
  for (const pid of [...pids, plain.pid]) assert.equal(alive(pid), false, 'redis gone');
  for (const w of workers) assert.equal(alive(w.child.pid), false, 'worker gone');
  rmSync(dir, { recursive: true, force: true });
});

/** Starting a `weft worker` takes 20 s and more on this 2-core machine while other suites run. */
const JOIN = { joinMs: 60_000 };
const port = (address: string) => Number(/:(\d+)/.exec(address.replace(/^[a-z+]+:\/\//, ''))?.[1]);

test('a redis:// address for a node of a Redis Cluster says to use redis+cluster://, not "cannot reach"', { skip }, async () => {
  const node = `redis://127.0.0.1:${port(cluster.address)}`;
  const error = await connect(parseAddress('address', node), { connectTimeoutMs: 5000, name: 'misconfigured' }).catch((e: unknown) => e);
  assert.ok(error instanceof ClusterModeError, String(error));
  assert.equal(error.found, 'cluster');
  assert.match(error.message, new RegExp(`use a Redis Cluster address naming its nodes: redis\\+cluster://127\\.0\\.0\\.1:${port(cluster.address)}`, 'i'));
  assert.doesNotMatch(error.message, /cannot reach/i);
  // The runner and `weft worker` say the same.
  const main = flow(async function misconfigured() {
    return sleepy.submit(1).result();
  }, { taskRunner: new DistributedTaskRunner({ address: node }) });
  await assert.rejects(main(), (e: unknown) => e instanceof ClusterModeError || (e as Error).cause instanceof ClusterModeError);
  const cli = startCli(['worker', '--address', node]);
  const exited = new Promise<number | null>((resolve) => cli.child.once('exit', resolve));
  await cli.waitFor(/is a Redis Cluster.*redis\+cluster:\/\//s, JOIN.joinMs);
  assert.equal(await within(exited, 15_000, 'weft worker with a wrong address'), 1);
});

test('a redis+cluster:// address for a plain Redis says to use redis://', { skip }, async () => {
  const wrong = `redis+cluster://127.0.0.1:${plain.port}`;
  const error = await connect(parseAddress('address', wrong), { connectTimeoutMs: 5000, name: 'misconfigured' }).catch((e: unknown) => e);
  assert.ok(error instanceof ClusterModeError, String(error));
  assert.equal(error.found, 'server');
  assert.match(error.message, new RegExp(`redis://127\\.0\\.0\\.1:${plain.port}`));
});

test('a flow runs on a Redis Cluster, and its session leaves no keys behind', { skip }, async () => {
  const address = `${cluster.address}?prefix=basic`;
  workers.push(await startWorker(address, ['--concurrency', '4'], JOIN));
  mkdirSync(join(dir, 'basic'));
  const main = flow(async function onACluster() {
    return Promise.all(marked.map(unmapped(join(dir, 'basic', 'tally')), Array.from({ length: 300 }, (_, i) => i), unmapped(0)));
  }, { taskRunner: new DistributedTaskRunner({ address }) });
  assert.deepEqual(await main(), Array.from({ length: 300 }, (_, i) => i));
  // The ring: one shard per master, and the run's jobs went to every one (BullMQ's job counter of each).
  const seed = port(cluster.address);
  const ring = JSON.parse(await cluster.cli(seed, '-c', 'get', keys.ring('{basic}'))) as string[];
  assert.equal(ring.length, 3);
  assert.equal(new Set(await Promise.all(ring.map((p) => cluster.masterOf(p)))).size, 3, 'each shard on its own master');
  for (const p of ring) assert.ok(Number(await cluster.cli(seed, '-c', 'get', `${p}:tasks:id`)) > 0, `jobs on shard ${p}`);
  // The worker's pulse thread found the master of its key (following MOVED from the first seed).
  const shared = await cluster.masterOf('{basic}');
  await until(async () => (await cluster.cli(shared, '--scan', '--pattern', '{basic}:pulse:*')).trim() !== '', 10_000, "the worker's pulse key");
  // The result lists and done sets of the session went at its close, on every node.
  for (const node of await cluster.masters()) assert.equal((await cluster.cli(node, '--scan', '--pattern', '*results*')).trim(), '', `result keys left on ${node}`);
});

test('a task cancelled through its future as its flow ends is stopped on the worker', { skip }, async () => {
  const address = `${cluster.address}?prefix=abandon`;
  // One slot per shard: a task left running would hold its shard.
  workers.push(await startWorker(address, ['--concurrency', '1'], JOIN));
  const marker = join(dir, 'abandoned');
  const main = flow(async function abandons() {
    const waiting = awaitAbort.submit(marker);
    await until(() => waiting.state === 'Running', 15_000, 'the task to start');
    waiting.cancel();
    return 'ended';
  }, { taskRunner: new DistributedTaskRunner({ address }) });
  assert.equal(await main(), 'ended');
  // The session's close told the worker (the future's cancel alone is swept up only every 200 ms).
  await until(() => existsSync(marker), 10_000, 'the abandoned task to see its abort');
  assert.equal(readFileSync(marker, 'utf8'), 'CancelledError');
});

test('a master killed mid-run: its replica takes over, the run completes, nothing delivered runs again', { skip }, async () => {
  const ha = await startRedisCluster({ replicas: true });
  const address = `${ha.address}?prefix=failover`;
  const marks = join(dir, 'failover');
  mkdirSync(marks);
  const own: CliProcess[] = [];
  try {
    own.push(await startWorker(address, ['--concurrency', '4'], JOIN), await startWorker(address, ['--concurrency', '4'], JOIN));
    // The master of the shared keys (and, with one shard, of the task queue): the worst one to lose.
    const victim = await ha.masterOf(keys.workers(parseAddress('address', address).prefix));
    let delivered: number[] = [];
    const started = Date.now();
    const main = flow(async function masterDies() {
      const futures = marked.map(unmapped(join(marks, 'tally')), Array.from({ length: 80 }, (_, i) => i), unmapped(100));
      await until(() => futures.filter((f) => f.state === 'Completed').length >= 10, 30_000, 'ten tasks to finish');
      delivered = futures.flatMap((f, i) => (f.state === 'Completed' ? [i] : []));
      await ha.kill(victim);
      return Promise.all(futures);
    }, { taskRunner: new DistributedTaskRunner({ address }) });
    // The replica takes over within a few seconds (node timeout 1 s, every replica synced before
    // the kill: helpers/redis-cluster.ts), inside the cluster client's failover tries: the run completes.
    const values = await within(main(), 90_000, 'the flow run after a failover').catch((error: unknown) => {
      throw new Error(`${(error as Error).message}; the workers said:\n${own.map((w) => w.output()).join('\n')}`, { cause: error });
    });
    assert.deepEqual(values, Array.from({ length: 80 }, (_, i) => i));
    const runs = new Map<number, number>();
    for (const line of readFileSync(join(marks, 'tally'), 'utf8').split('\n').filter(Boolean)) runs.set(Number(line), (runs.get(Number(line)) ?? 0) + 1);
    for (const i of delivered) assert.equal(runs.get(i), 1, `task ${i}, delivered before the kill, ran again`);
    console.log(`# failover: ${delivered.length} delivered before the kill, run done ${Date.now() - started} ms after its start`);
  } finally {
    for (const w of own) await w.stop();
    const pids = ha.pids;
    await ha.stop();
    for (const pid of pids) assert.equal(alive(pid), false);
  }
});

test('the whole Redis Cluster lost mid-run: every pending future rejects with ClusterConnectionError, as with one Redis', { skip }, async () => {
  const doomed = await startRedisCluster();
  const address = `${doomed.address}?prefix=lost`;
  let worker: CliProcess | undefined;
  try {
    worker = await startWorker(address, ['--concurrency', '2'], JOIN);
    const main = flow(async function clusterDies() {
      const futures = sleepy.map([20_000, 20_000, 20_000, 20_000]);
      await until(() => futures.some((f) => f.state === 'Running'), 15_000, 'a task to start');
      for (const node of doomed.nodes) await doomed.kill(node.port);
      return Promise.all(futures.map((f) => f.result().catch((e: unknown) => e)));
    }, { taskRunner: new DistributedTaskRunner({ address, clientOptions: { reconnectTimeoutMs: 1000 } }) });
    const errors = await within(main(), 30_000, 'the flow run after losing its cluster');
    assert.equal(errors.length, 4);
    for (const e of errors) {
      const cause = e instanceof TaskRunError ? e.cause : e;
      assert.ok(cause instanceof ClusterConnectionError, String(e));
      assert.match((cause as Error).message, /redis\+cluster:\/\//);
    }
  } finally {
    await worker?.stop();
    await doomed.stop();
  }
  assert.equal(alive(worker?.child.pid), false);
});

test('a master lost with no replica to take over: every pending future rejects, within the failover tries plus reconnectTimeoutMs', { skip }, async () => {
  const bare = await startRedisCluster();
  const address = `${bare.address}?prefix=bare`;
  let worker: CliProcess | undefined;
  try {
    worker = await startWorker(address, ['--concurrency', '2'], JOIN);
    let killedAt = 0;
    const main = flow(async function shardDies() {
      const futures = sleepy.map([60_000, 60_000, 60_000]);
      await until(() => futures.some((f) => f.state === 'Running'), 15_000, 'a task to start');
      killedAt = Date.now();
      // The other masters stay up, so the connections do too; the cluster answers CLUSTERDOWN.
      await bare.kill((await bare.masters())[1] as number);
      return Promise.all(futures.map((f) => f.result().catch((e: unknown) => e)));
    }, { taskRunner: new DistributedTaskRunner({ address, clientOptions: { reconnectTimeoutMs: 1000 } }) });
    const errors = await within(main(), 60_000, 'the flow run after losing a shard');
    // The bound: the reader's pop fails after its failover tries (64 × 200 ms), then reconnectTimeoutMs.
    assert.ok(Date.now() - killedAt < 13_000 + 1000 + 10_000, `${Date.now() - killedAt} ms`);
    for (const e of errors) {
      const cause = e instanceof TaskRunError ? e.cause : e;
      assert.ok(cause instanceof ClusterConnectionError, String(e));
    }
  } finally {
    await worker?.stop();
    await bare.stop();
  }
  assert.equal(alive(worker?.child.pid), false);
});

test('a cluster client tries commands through a failover for as long as the cluster\'s cluster-node-timeout says a promotion takes', { skip }, async () => {
  assert.equal(failoverTries(1000), FAILOVER_RETRIES, 'never fewer than the default');
  assert.equal(failoverTries(15_000), 100, "Redis's default timeout: 20 s of tries");
  const setTimeoutMs = (ms: number) => Promise.all(cluster.nodes.map((n) => cluster.cli(n.port, 'config', 'set', 'cluster-node-timeout', String(ms))));
  await setTimeoutMs(15_000);
  try {
    const redis = await connect(parseAddress('address', cluster.address), { connectTimeoutMs: 5000, name: 'weft-test' });
    try {
      assert.ok(isCluster(redis));
      assert.equal(redis.options.maxRedirections, 100);
    } finally {
      redis.disconnect();
    }
  } finally {
    await setTimeoutMs(1000);
  }
});
