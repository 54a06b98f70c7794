/**
 * The live dashboard's model and its stream rows, with no I/O: what sources report goes in, and
 * each update says what a page must show (workers, queues, flow runs, the task stream).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ChainableCommander } from 'ioredis';
import { DashboardModel, STATES } from '../../src/dashboard/model.ts';
import { addEntry, applyEntry, ClientFeed, WorkerFeed, type FeedRow } from '../../src/dashboard/feed.ts';
import { checkBinding, resolveDashboardOption } from '../../src/dashboard/options.ts';

const T0 = 1_000_000;

test('a worker joins, a flow run queues, starts and finishes tasks: workers, queues, flows and bars', () => {
  const m = new DashboardModel();
  m.syncWorkers([{ id: 'w1', host: 'h', resources: { GPU: 1 }, slots: 2 }], T0);
  m.flowStarted('f1', 'plumes', T0);
  m.submitted('f1', '', 3, T0 + 1);
  let u = m.tick(T0 + 2);
  assert.deepEqual(u.queues, [{ queue: '', queued: 3, running: 0 }]);
  assert.equal(u.workers[0]?.state, 'live');
  assert.deepEqual(u.workers[0]?.resources, { GPU: 1 });

  m.taken('', 3);
  for (const id of ['a', 'b']) m.started({ taskRunId: id, taskName: 'fetch', flowRunId: 'f1', workerId: 'w1', queue: '', time: T0 + 10 });
  m.started({ taskRunId: 'c', taskName: 'parse', flowRunId: 'f1', workerId: 'w1', queue: '', time: T0 + 12 });
  u = m.tick(T0 + 15);
  assert.deepEqual(u.queues, [{ queue: '', queued: 0, running: 3 }]);
  assert.equal(u.workers[0]?.running, 3);
  assert.deepEqual(u.workers[0]?.current.map(([name]) => name).sort(), ['fetch', 'fetch', 'parse']);
  assert.equal(u.open.length, 3);
  assert.equal(u.flows[0]?.running, 3);

  m.finished({ taskRunId: 'a', state: 'Completed', time: T0 + 20 });
  m.finished({ taskRunId: 'b', state: 'Failed', startTime: T0 + 10, time: T0 + 25 });
  u = m.tick(T0 + 30);
  assert.equal(u.bars.length, 2, 'only the new bars go in a tick');
  assert.deepEqual(u.bars[0], [T0 + 10, T0 + 20, u.workerIds.indexOf('w1'), u.names.indexOf('fetch'), STATES.indexOf('Completed')]);
  assert.equal(u.bars[1]?.[4], STATES.indexOf('Failed'));
  assert.deepEqual(u.totals, { started: 3, finished: 2, failed: 1, running: 1 });
  const flow = u.flows[0];
  assert.deepEqual([flow?.flowName, flow?.submitted, flow?.finished, flow?.failed, flow?.running, flow?.state], ['plumes', 3, 2, 1, 1, 'Running']);
  assert.equal(m.tick(T0 + 31).bars.length, 0);
  assert.equal(m.snapshot(T0 + 31).bars.length, 2, 'a new page gets every bar of the window');

  m.flowFinished('f1', 'Completed', T0 + 40);
  m.syncWorkers([], T0 + 41);
  u = m.tick(T0 + 42);
  assert.equal(u.flows[0]?.state, 'Completed');
  assert.equal(u.workers[0]?.state, 'left');
  // Shown for keepMs after, then gone.
  u = m.tick(T0 + 42 + 61_000);
  assert.equal(u.flows.length, 0);
  assert.equal(u.workers.length, 1, 'a worker that left with a run still running stays');
});

test('a retried attempt is its own bar and the run stays running; a re-start elsewhere moves it, the lost attempt a Crashed bar', () => {
  const m = new DashboardModel();
  m.started({ taskRunId: 'r', taskName: 'flaky', flowRunId: 'f', workerId: 'w1', queue: '', time: T0 });
  m.retried('r', T0 + 5);
  m.started({ taskRunId: 'r', taskName: 'flaky', flowRunId: 'f', workerId: 'w1', queue: '', time: T0 + 8 });
  let u = m.tick(T0 + 9);
  assert.deepEqual(u.bars.map((b) => STATES[b[4]]), ['Retried']);
  assert.equal(u.totals.running, 1);
  assert.equal(u.totals.started, 1, 'attempts of one run count once');
  m.started({ taskRunId: 'r', taskName: 'flaky', flowRunId: 'f', workerId: 'w2', queue: '', time: T0 + 20 });
  u = m.tick(T0 + 21);
  assert.deepEqual(u.workers.map((w) => [w.id, w.running]), [['w1', 0], ['w2', 1]]);
  // The same rules as the report's and the fold's: the attempt open on w1 ended Crashed at the new start.
  assert.deepEqual(u.bars.map((b) => [b[0], b[1], u.workers[b[2]]?.id ?? b[2], STATES[b[4]]]), [[T0 + 8, T0 + 20, 'w1', 'Crashed']]);
});

test('bars beyond the per-tick cap are counted, not sent; the window drops old bars; counts stay exact', () => {
  const m = new DashboardModel({ windowMs: 1000, maxBarsPerTick: 10, maxBars: 15 });
  for (let i = 0; i < 25; i++) m.finished({ taskRunId: `t${i}`, taskName: 'x', flowRunId: 'f', workerId: 'w', state: 'Completed', startTime: T0 + i, time: T0 + i + 1 });
  let u = m.tick(T0 + 30);
  assert.equal(u.bars.length, 10);
  assert.equal(u.dropped, 15);
  assert.equal(u.totals.finished, 25);
  for (let i = 0; i < 10; i++) m.finished({ taskRunId: `u${i}`, taskName: 'x', flowRunId: 'f', workerId: 'w', state: 'Completed', time: T0 + 40 });
  m.tick(T0 + 41);
  assert.equal(m.snapshot(T0 + 41).bars.length, 15, 'at most maxBars kept');
  u = m.tick(T0 + 40 + 1001);
  assert.equal(m.snapshot(T0 + 1041).bars.length, 0, 'bars older than the window are dropped');
  assert.equal(u.totals.finished, 35);
});

test('an idle queue resets what was counted queued (runs removed by a cancel are never taken)', () => {
  const m = new DashboardModel();
  m.submitted('f', 'GPU=1', 4, T0);
  m.taken('GPU=1', 1);
  assert.equal(m.tick(T0).queues[0]?.queued, 3);
  m.queueEmpty('GPU=1');
  assert.equal(m.tick(T0 + 1).queues[0]?.queued, 0);
  m.taken('GPU=1', 5);
  assert.equal(m.tick(T0 + 2).queues[0]?.queued, 0, 'never below zero');
});

test("a worker's feed names its events and the rows rebuild the same state", () => {
  const feed = new WorkerFeed(() => T0 + 100);
  feed.track('a', 'fetch', 'f1', '');
  feed.track('b', 'parse', 'f1', 'GPU=1');
  feed.track('c', 'fetch', 'f1', '');
  feed.taken('', 2);
  const rows = feed.rows([[
    { type: 'started', id: 'a', attempt: 1, time: T0 },
    // A start folded into its done (one message per short task).
    { type: 'done', id: 'b', serviceMs: 3, attempt: 1, startTime: T0 + 1, state: 'Completed', value: 1 },
    { type: 'started', id: 'c', attempt: 1, time: T0 + 2 },
    { type: 'retried', id: 'c', attempt: 1, delayMs: 0, error: { name: 'Error', message: 'x' } as never, time: T0 + 4 },
  ]]);
  assert.deepEqual(rows.map((r) => r[0]), ['t', 's', 's', 'd', 's', 'r']);
  const later = feed.rows([[{ type: 'done', id: 'a', serviceMs: 7, state: 'Failed', error: { name: 'Error', message: 'y' } as never }, { type: 'crashed', id: 'z', crashes: 2 }]]);
  assert.deepEqual(later, [['d', 'a', STATES.indexOf('Failed'), T0, T0 + 7], ['d', 'z', STATES.indexOf('Crashed'), null, T0 + 100]]);

  const added: unknown[][] = [];
  const pipeline = { xadd: (...args: unknown[]) => added.push(args) } as unknown as ChainableCommander;
  addEntry(pipeline, 'weft:dashboard', 'w1', [...rows, ...later] as FeedRow[]);
  addEntry(pipeline, 'weft:dashboard', 'w1', []);
  assert.equal(added.length, 1, 'one entry per flush, none when nothing happened');
  assert.deepEqual(added[0]?.slice(0, 5), ['weft:dashboard', 'MAXLEN', '~', 5000, '*']);

  const m = new DashboardModel();
  m.submitted('f1', '', 2, T0);
  applyEntry(m, added[0]?.slice(5) as string[]);
  const u = m.tick(T0 + 200);
  assert.deepEqual(u.totals, { started: 4, finished: 3, failed: 2, running: 1 });
  assert.deepEqual(u.queues.map((q) => [q.queue, q.queued, q.running]), [['', 0, 1]]);
  assert.deepEqual(u.bars.map((b) => [u.names[b[3]], STATES[b[4]]]), [['parse', 'Completed'], ['fetch', 'Retried'], ['fetch', 'Failed']]);
  assert.equal(u.workers[0]?.id, 'w1');
  applyEntry(m, ['w', 'w1', 'e', 'not json']);
});

test("a client's feed carries each flow run's final state, after its queued counts", async () => {
  const added: unknown[][] = [];
  const redis = { pipeline: () => ({ xadd: (...args: unknown[]) => added.push(args), exec: async () => [] }) } as unknown as ConstructorParameters<typeof ClientFeed>[0];
  const feed = new ClientFeed(redis, 'weft:dashboard', 'c1', () => T0 + 50);
  feed.flowStarted('f1', 'demo');
  feed.submitted('f1', '');
  feed.flowFinished('f1', 'Failed');
  feed.flowStarted('f2', 'other');
  feed.flowFinished('f2', 'Cancelled');
  await feed.flush();
  assert.equal(added.length, 1, 'one entry for what gathered');
  const m = new DashboardModel();
  applyEntry(m, added[0]?.slice(5) as string[]);
  const u = m.tick(T0 + 100);
  assert.deepEqual(u.flows.map((f) => [f.flowRunId, f.flowName, f.state, f.submitted]).sort(), [['f1', 'demo', 'Failed', 1], ['f2', 'other', 'Cancelled', 0]]);
});

test('dashboard options: a host beyond loopback needs a token, saying why', () => {
  assert.deepEqual(resolveDashboardOption('dashboard', true), {});
  assert.equal(resolveDashboardOption('dashboard', false), undefined);
  assert.deepEqual(resolveDashboardOption('dashboard', { port: 8787 }), { port: 8787 });
  assert.throws(() => resolveDashboardOption('dashboard', { prot: 1 }), /dashboard\.prot/);
  assert.throws(() => resolveDashboardOption('dashboard', { port: 70000 }), /dashboard\.port/);
  checkBinding('127.0.0.1', undefined);
  checkBinding('0.0.0.0', 'secret');
  assert.throws(() => checkBinding('0.0.0.0', undefined), /reachable from other machines.*token/);
});
