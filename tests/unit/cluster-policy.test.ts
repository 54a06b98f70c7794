/** The cluster's pure parts, without Redis: job batching, priorities, key names, addresses, the adaptive policy. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planJobs, MAX_BATCH } from '../../src/cluster/batch.ts';
import { parseSignature, requirementSignature, type TaskWire } from '../../src/cluster/protocol.ts';
import { bullPriority, keyPrefix, PRIORITY_SPAN, queueName, shareRank } from '../../src/cluster/queues.ts';
import { parseAddress } from '../../src/cluster/connection.ts';
import { adaptiveTarget, INITIAL_ADAPTIVE_STATE, SCALE_DOWN_WAIT } from '../../src/schedule/adaptive.ts';
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

test('adaptive policy: scales up at once, down only after a few quiet checks, within bounds', () => {
  const bounds = { minimum: 1, maximum: 4 };
  let r = adaptiveTarget({ backlog: 100, workers: 1, slotsPerWorker: 2 }, bounds, INITIAL_ADAPTIVE_STATE);
  assert.equal(r.target, 4);
  let state = INITIAL_ADAPTIVE_STATE;
  for (let i = 1; i < SCALE_DOWN_WAIT; i++) {
    r = adaptiveTarget({ backlog: 0, workers: 4, slotsPerWorker: 2 }, bounds, state);
    assert.equal(r.target, 4, 'a short lull retires nobody');
    state = r.state;
  }
  r = adaptiveTarget({ backlog: 0, workers: 4, slotsPerWorker: 2 }, bounds, state);
  assert.equal(r.target, 1);
});
