// @needs redis-server
/** Faults on a cluster: workers killed, Redis killed, cancellation on temporary and shared clusters. */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flow, DistributedTaskRunner, LocalCluster, WorkerCrashedError, ClusterConnectionError, TaskRunError } from '../../src/index.ts';
import { RedisServer } from '../../src/cluster/redis-server.ts';
import { double, suicide, killOnce, abortable, sleepy, blocking } from '../fixtures/cluster/tasks.ts';
import { alive, startRedis, startWorker, type CliProcess } from '../helpers/redis.ts';
import { until } from '../helpers/eventually.ts';

let redis: RedisServer;
let dir: string;
const workers: CliProcess[] = [];
const clusters: LocalCluster[] = [];
const recorded = (options: ConstructorParameters<typeof LocalCluster>[0]) => {
  const c = new LocalCluster(options);
  clusters.push(c);
  return c;
};

before(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'weft-faults-'));
});

after(async () => {
  for (const w of workers) await w.stop();
  await redis.stop();
  for (const w of workers) assert.equal(alive(w.child.pid), false, 'worker gone');
  for (const c of clusters) for (const pid of [c.pids.redis, ...c.pids.workers]) assert.equal(alive(pid), false, 'cluster process gone');
  assert.equal(alive(redis.pid), false);
  rmSync(dir, { recursive: true, force: true });
});

test('a task whose worker is killed runs again on another worker; the flow goes on', async () => {
  const address = `${redis.address}?prefix=kill1`;
  workers.push(await startWorker(address, ['--concurrency', '1']), await startWorker(address, ['--concurrency', '1']));
  const marker = join(dir, 'kill-once');
  const main = flow(async function killedWorker() {
    const killed = killOnce.submit(marker);
    const others = double.map([1, 2, 3]);
    return { pid: await killed.result(), others: await Promise.all(others) };
  }, { taskRunner: new DistributedTaskRunner({ address }) });
  const r = await main();
  assert.deepEqual(r.others, [2, 4, 6]);
  const firstPid = Number((await import('node:fs')).readFileSync(marker, 'utf8'));
  assert.notEqual(r.pid, firstPid, 'it ran again in another process');
  assert.equal(alive(firstPid), false);
});

test('a task blocking its worker\'s event loop for longer than the heartbeat allows keeps its job: its pulse thread says it lives, so the other worker does not take it', async () => {
  const address = `${redis.address}?prefix=blocked`;
  // The lock as `weft worker` has it by default (30 s): a block longer than the lock is taken for death (README).
  const flags = ['--concurrency', '1', '--lock-ms', '30000'];
  workers.push(await startWorker(address, flags), await startWorker(address, flags));
  const file = join(dir, 'blocked');
  const left: string[] = [];
  const main = flow(async function blockedWorker() {
    // 9 s: the heartbeat goes stale after 5 s, and the other worker's reaper looks on every heartbeat.
    return blocking.submit(file, 9000).result();
  }, { taskRunner: new DistributedTaskRunner({ address }) });
  const run = main.run();
  run.on('worker:left', (e) => void left.push(e.workerId));
  const pid = await run.result();
  assert.deepEqual(readFileSync(file, 'utf8').trim().split('\n').map(Number), [pid], 'it ran once, on the worker it blocked');
  const record = await run;
  assert.equal(record.taskRuns[0]?.attempts, 1);
  assert.equal(record.taskRuns[0]?.state, 'Completed');
  assert.deepEqual(left, [], 'no worker counted as gone');
});

test('a task that kills every worker it runs on crashes after allowedFailures re-runs', async () => {
  const main = flow(async function alwaysKills() {
    // Tasks running beside it on the same worker die with it; this one finishes first.
    const fine = await double.submit(5).result();
    const doomed = suicide.submit();
    const after = await double.submit(6).result();
    const error = await doomed.result().catch((e: unknown) => e);
    return { fine, after, error, state: doomed.state };
  }, {
    taskRunner: new DistributedTaskRunner({ allowedFailures: 1, clusterClass: recorded, clusterOptions: { workers: 1, threadsPerWorker: 1, lockMs: 1000 } }),
  });
  const r = await main();
  assert.equal(r.fine, 10);
  assert.equal(r.after, 12, 'the rest of the flow goes on');
  assert.equal(r.state, 'Crashed');
  assert.ok(r.error instanceof TaskRunError || r.error instanceof WorkerCrashedError, String(r.error));
  const crash = r.error instanceof WorkerCrashedError ? r.error : (r.error as Error).cause;
  assert.ok(crash instanceof WorkerCrashedError, String(crash));
  assert.equal(crash.attempts, 2);
  assert.equal(typeof crash.workerId, 'string');
  assert.match(crash.message, /after 1 re-run on workers that died too/);
});

test('with allowedFailures 0, a crash names the worker that died and says nothing of re-runs', async () => {
  const main = flow(async function killsOnce() {
    return suicide.submit().result().catch((e: unknown) => e);
  }, {
    taskRunner: new DistributedTaskRunner({ allowedFailures: 0, clusterClass: recorded, clusterOptions: { workers: 1, threadsPerWorker: 1, lockMs: 1000 } }),
  });
  const run = main.run();
  const joined: string[] = [];
  run.on('worker:joined', (e) => joined.push(e.workerId));
  const error = (await run).result;
  const crash = error instanceof WorkerCrashedError ? error : (error as Error).cause;
  assert.ok(crash instanceof WorkerCrashedError, String(error));
  assert.notEqual(crash.workerId, 'unknown');
  assert.ok(joined.includes(crash.workerId), `${crash.workerId} is one of the cluster's workers (${joined.join(', ')})`);
  assert.match(crash.message, new RegExp(`worker ${crash.workerId} died while running it \\(allowedFailures is 0, so it was not run again\\)`));
  assert.doesNotMatch(crash.message, /re-run|so did/);
});

test('Redis killed mid-run: every pending future rejects with ClusterConnectionError', async () => {
  const own = await startRedis();
  const worker = await startWorker(own.address, ['--concurrency', '2']);
  workers.push(worker);
  const main = flow(async function redisDies() {
    const futures = sleepy.map([20_000, 20_000, 20_000, 20_000]);
    await until(() => futures.some((f) => f.state === 'Running'), 15_000, 'a task to start');
    process.kill(own.pid as number, 'SIGKILL');
    return Promise.all(futures.map((f) => f.result().catch((e: unknown) => e)));
  }, { taskRunner: new DistributedTaskRunner({ address: own.address, clientOptions: { reconnectTimeoutMs: 1000 } }) });
  const errors = await main();
  assert.equal(errors.length, 4);
  for (const e of errors) {
    const cause = e instanceof TaskRunError ? e.cause : e;
    assert.ok(cause instanceof ClusterConnectionError, String(e));
    assert.match((cause as Error).message, new RegExp(`${own.port}`));
  }
  await own.stop();
  await worker.stop();
  assert.equal(alive(worker.child.pid), false);
});

test('cancelling a run on a temporary cluster hard-stops it: its workers go', async () => {
  const main = flow(async function cancelTemporary() {
    return Promise.all(sleepy.map([30_000, 30_000, 30_000]));
  }, { taskRunner: new DistributedTaskRunner({ clusterClass: recorded, clusterOptions: { workers: 1, threadsPerWorker: 2 } }) });
  const run = main.run();
  let started = false;
  run.on('task-run:started', () => (started = true));
  await until(() => started, 15_000, 'a task to start');
  const cluster = clusters.at(-1) as LocalCluster;
  const pids = [cluster.pids.redis, ...cluster.pids.workers];
  run.cancel('stop it');
  const record = await run;
  assert.equal(record.state, 'Cancelled');
  for (const pid of pids) assert.equal(alive(pid), false);
});

test('cancelling a run on a shared cluster drops its queued tasks, aborts its running ones, and spares other runs', async () => {
  const address = `${redis.address}?prefix=cancel`;
  workers.push(await startWorker(address, ['--concurrency', '1']));
  const victim = flow(async function victim() {
    return Promise.all(['a', 'b', 'c'].map((name) => abortable.submit(dir, name, 30_000)));
  }, { taskRunner: new DistributedTaskRunner({ address }) });
  const bystander = flow(async function bystander() {
    return Promise.all(double.map([1, 2]));
  }, { taskRunner: new DistributedTaskRunner({ address }) });
  const run = victim.run();
  await until(() => existsSync(join(dir, 'a.started')), 15_000, 'task a to start');
  const other = bystander.run();
  run.cancel('the user cancelled it');
  assert.equal((await run).state, 'Cancelled');
  await until(() => existsSync(join(dir, 'a.aborted')), 15_000, "the running task's AbortSignal to fire on its worker");
  assert.deepEqual(await other.result(), [2, 4]);
  assert.equal(existsSync(join(dir, 'b.started')), false, 'queued task b never ran');
  assert.equal(existsSync(join(dir, 'c.started')), false, 'queued task c never ran');
});
