/** The cluster's pure parts, without Redis: job batching, priorities, key names, addresses, the adaptive policy. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planJobs, MAX_BATCH } from '../../src/cluster/batch.ts';
import { parseSignature, requirementSignature, type TaskWire } from '../../src/cluster/protocol.ts';
import { bullPriority, keyPrefix, PRIORITY_SPAN, queueName, shareRank } from '../../src/cluster/queues.ts';
import { parseAddress } from '../../src/cluster/connection.ts';
import { adaptiveTarget, INITIAL_ADAPTIVE_STATE, type AdaptiveObservation, type AdaptivePolicy, type AdaptiveState } from '../../src/schedule/adaptive.ts';
import { resolveAdapt, taskDurations } from '../../src/cluster/scaler.ts';
import { InvalidOptionError } from '../../src/errors.ts';
import { resolveTaskOptions } from '../../src/core/options.ts';

const wire = (i: number, options: Parameters<typeof resolveTaskOptions>[0] = {}): TaskWire => ({
  taskRunId: `t-${i}`, flowRunId: 'f', ref: { module: 'file:///x.ts', name: 't' }, options: resolveTaskOptions(options, undefined, 't'), args: [],
});

test('planJobs: a few tasks go one per job, thousands in batches, never mixing priority or resources', () => {
  assert.equal(planJobs(Array.from({ length: 12 }, (_, i) => wire(i))).length, 12);
  const big = planJobs(Array.from({ length: 10_000 }, (_, i) => wire(i)));
  assert.ok(big.length >= 10_000 / MAX_BATCH && big.length <= 100, `${big.length} jobs`);
  assert.equal(big.reduce((n, j) => n + j.tasks.length, 0), 10_000);
  const mixed = planJobs([wire(1, { priority: 1 }), wire(2, { priority: 5 }), wire(3, { resources: { GPU: 1 } }), wire(4, { resources: { GPU: 1 } })]);
  assert.deepEqual(mixed.map((j) => [j.priority, j.signature, j.tasks.length]), [[5, '', 1], [1, '', 1], [0, 'GPU=1', 1], [0, 'GPU=1', 1]]);
});

test('priorities map onto BullMQ order (higher weft priority → lower BullMQ number, always ≥ 1)', () => {
  assert.ok(bullPriority(10) < bullPriority(0));
  assert.ok(bullPriority(0) < bullPriority(-10));
  assert.equal(bullPriority(1e12), 1);
  assert.equal(bullPriority(1e12), bullPriority(PRIORITY_SPAN));
  assert.ok(bullPriority(-1e12, Number.MAX_SAFE_INTEGER) <= 2 ** 21 - 1, 'within BullMQ\'s limit');
  assert.equal(bullPriority(-1e12), bullPriority(-PRIORITY_SPAN));
});

test('fair share: within a priority, flow runs that have sent less go first; priority still orders across', () => {
  // A big run sent 200 runs in jobs of 12; a small run starts behind it with 4 jobs of 1.
  const big = Array.from({ length: 17 }, (_, i) => bullPriority(0, 12 * i));
  const small = [0, 1, 2, 3].map((sent) => bullPriority(0, sent));
  for (const s of small) assert.ok(s < (big[1] as number), 'every small job before the big run\'s second');
  // Two equal runs interleave: the i-th job of each gets the same rank (FIFO between them).
  assert.equal(bullPriority(0, 256 * 7), bullPriority(0, 256 * 7));
  assert.ok(bullPriority(0, 256 * 7) < bullPriority(0, 256 * 8));
  // Any share rank of a higher priority goes before every rank of a lower one.
  assert.ok(bullPriority(1, 1e9) < bullPriority(0, 0));
  assert.ok(bullPriority(0, 1e9) < bullPriority(-1, 0));
  // Monotone in what was sent, and bounded however much that is.
  let last = -1;
  for (let sent = 0; sent < 1e7; sent = sent * 2 + 1) {
    assert.ok(shareRank(sent) >= last);
    last = shareRank(sent);
  }
  assert.ok(shareRank(1e15) < 1024);
});

test('planJobs: runs of different flow runs never share a job (each run\'s jobs carry its own share)', () => {
  const tasks = Array.from({ length: 40 }, (_, i) => ({ ...wire(i), flowRunId: i % 2 ? 'a' : 'b' }));
  const jobs = planJobs(tasks);
  for (const job of jobs) assert.ok(job.tasks.every((t) => t.flowRunId === job.flowRunId));
  assert.deepEqual(new Set(jobs.map((j) => j.flowRunId)), new Set(['a', 'b']));
});

test('resource signatures are stable and name their queue', () => {
  assert.equal(requirementSignature({ process: 1, GPU: 2 }), 'GPU=2,process=1');
  assert.deepEqual(parseSignature('GPU=2,process=1'), { GPU: 2, process: 1 });
  assert.equal(queueName(''), 'tasks');
  assert.equal(queueName('GPU=1'), 'tasks~GPU=1');
});

test('key prefixes: unchanged by default, a {hash tag} on request (Redis Cluster keeps a queue in one slot)', () => {
  assert.equal(keyPrefix('weft'), 'weft');
  assert.equal(keyPrefix('team-a', true), '{team-a}');
});

test('addresses: password, TLS, database and prefix; the password never shows', () => {
  const a = parseAddress('address', 'rediss://user:p%40ss@cache.example:6380/2?prefix=team-a');
  assert.equal(a.redis.host, 'cache.example');
  assert.equal(a.redis.port, 6380);
  assert.equal(a.redis.db, 2);
  assert.equal(a.redis.username, 'user');
  assert.equal(a.redis.password, 'p@ss');
  assert.ok(a.redis.tls);
  assert.equal(a.prefix, 'team-a');
  assert.doesNotMatch(a.display, /p%40ss|p@ss/);
  assert.equal(parseAddress('address', 'redis://h').redis.port, 6379);
});

const policy: AdaptivePolicy = { minimum: 1, maximum: 8, targetMs: 5000, scaleDownMs: 3000 };
const seen = (runs: number, taskMs: number | undefined, over: Partial<AdaptiveObservation> = {}): AdaptiveObservation => ({
  backlog: [{ need: {}, runs, taskMs }], workers: 1, slotsPerWorker: 2, workerResources: {}, now: 0, ...over,
});
const decide = (o: AdaptiveObservation, p: AdaptivePolicy = policy, state: AdaptiveState = INITIAL_ADAPTIVE_STATE) => adaptiveTarget(o, p, state);

test('adaptive target: workers to finish the backlog within the target at recent durations', () => {
  // 200 runs of 100 ms = 20 s of work; 2 slots per worker, 5 s target: 2 workers.
  assert.equal(decide(seen(200, 100)).target, 2);
  // Many quick tasks do not over-scale: 10,000 runs of 1 ms fit on one worker.
  assert.equal(decide(seen(10_000, 1)).target, 1);
  // Long ones do not under-scale: 6 runs of a minute get a slot each (3 workers), not more.
  assert.equal(decide(seen(6, 60_000)).target, 3);
  // Unknown durations count 500 ms each (dask's unknown-task-duration): 100 runs = 50 s → 5 workers.
  assert.equal(decide(seen(100, undefined)).target, 5);
  // Within the bounds, saying so.
  const capped = decide(seen(10_000, 1000));
  assert.equal(capped.target, 8);
  assert.match(capped.reason, /backlog 10000 task runs ≈ 10000\.0 s of work: 1000 workers .*capped at the maximum 8/);
  assert.equal(decide(seen(0, undefined), { ...policy, minimum: 2 }).target, 2);
});

test('adaptive target: scale-up is prompt, scale-down waits until fewer have sufficed for scaleDownMs', () => {
  const up = decide(seen(400, 100, { workers: 1 }));
  assert.equal(up.target, 4, 'at once');
  let state = INITIAL_ADAPTIVE_STATE;
  for (const now of [0, 1000, 2999]) {
    const r = decide(seen(0, 100, { workers: 4, now }), policy, state);
    assert.equal(r.target, 4, `a lull of ${now} ms retires nobody`);
    state = r.state;
  }
  // A backlog that needs the workers again breaks the wait: it starts over.
  state = decide(seen(400, 100, { workers: 4, now: 3000 }), policy, state).state;
  assert.equal(decide(seen(0, 100, { workers: 4, now: 3500 }), policy, state).target, 4);
  state = decide(seen(0, 100, { workers: 4, now: 3500 }), policy, state).state;
  const down = decide(seen(0, 100, { workers: 4, now: 6500 }), policy, state);
  assert.equal(down.target, 1, 'after 3 s of needing fewer');
  assert.match(down.reason, /no backlog: 0 workers .*kept at the minimum 1, for 3\.0 s/);
  // Never below what the backlog still needs.
  assert.equal(decide(seen(100, 100, { workers: 4, now: 10_000 }), policy, { lowSince: 0 }).target, 1);
  assert.equal(decide(seen(300, 100, { workers: 4, now: 10_000 }), policy, { lowSince: 0 }).target, 3);
});

test('adaptive target: a resource backlog counts only if the workers declare it, at the slots it allows', () => {
  const gpu = (workerResources: Record<string, number>) => decide({ backlog: [{ need: { GPU: 1 }, runs: 4, taskMs: 10_000 }], workers: 0, slotsPerWorker: 4, workerResources, now: 0 }, { ...policy, minimum: 0 });
  assert.equal(gpu({}).target, 0, 'no worker of this cluster could run them: none added');
  // One GPU per worker: one such task at a time per worker, 4 long ones → 4 workers, not 1.
  assert.equal(gpu({ GPU: 1 }).target, 4);
  assert.equal(gpu({ GPU: 2 }).target, 2);
});

test('adapt options: validated, with dask-like defaults; durations are the mean over the workers reporting one', () => {
  assert.deepEqual(resolveAdapt('adapt', { maximum: 4 }), { minimum: 0, maximum: 4, targetMs: 5000, scaleDownMs: 3000 });
  assert.throws(() => resolveAdapt('adapt', { minimum: 3, maximum: 2 }), InvalidOptionError);
  assert.throws(() => resolveAdapt('adapt', { targetMs: 0 }), InvalidOptionError);
  assert.throws(() => resolveAdapt('adapt', { wait: 1 }), InvalidOptionError);
  const info = (taskMs?: Record<string, number>) => ({ id: 'w', host: 'h', pid: 1, concurrency: 1, resources: {}, root: '/', startedAt: 0, beat: 0, taskMs });
  assert.deepEqual([...taskDurations([info({ '': 100 }), info({ '': 300, 'GPU=1': 50 }), info()])], [['', 200], ['GPU=1', 50]]);
});
