import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { WeftEventName, WeftEvents } from '../../src/events/events.ts';
import { EventLog, logOf, LOG_CAP } from '../../src/report/event-log.ts';
import { CHUNK_ROWS } from '../../src/report/rows.ts';
import { ATTEMPT_STATES, buildModel, BUCKETS, quantile } from '../../src/report/model.ts';

type Ev = { [N in WeftEventName]: [N, WeftEvents[N]] }[WeftEventName];
/**
 * Events as logs may hold them: fields the contract added later (readyTime, the finished event's
 * attempt) are optional here, so the model is tested with and without them.
 */
type Loose<T> = Omit<T, 'readyTime' | 'attempt'> & { readyTime?: number; attempt?: number };
const loose = <N extends WeftEventName>(name: N, event: Loose<WeftEvents[N]>): Ev => [name, event as WeftEvents[N]] as Ev;
const F = 'flow-1';

/** A small event script: times in ms from 1000. */
function script(): { ev: Ev[]; start(t: number, flowName?: string): void; end(t: number, state?: 'Completed' | 'Failed'): void; task(id: string, submit: number, attempts: Array<[start: number, end: number, worker: string]>, final?: 'Completed' | 'Failed' | 'Crashed' | 'Cancelled', ready?: number): void } {
  const ev: Ev[] = [];
  const T = (t: number) => 1000 + t;
  return {
    ev,
    start: (t, flowName = 'f') => ev.push(['flow-run:started', { flowRunId: F, flowName, runner: 'test', time: T(t) }]),
    end: (t, state = 'Completed') => ev.push(['flow-run:finished', { flowRunId: F, flowName: 'f', state, time: T(t) }]),
    task(id, submit, attempts, final = 'Completed', ready) {
      const taskName = id.replace(/-\d+$/, '');
      ev.push(['task-run:submitted', { flowRunId: F, taskRunId: id, taskName, priority: 0, time: T(submit) }]);
      attempts.forEach(([s, e, workerId], k) => {
        const started = { flowRunId: F, taskRunId: id, taskName, attempt: k + 1, workerId, time: T(s), ...(ready !== undefined && { readyTime: T(ready) }) };
        ev.push(loose('task-run:started', started));
        if (k < attempts.length - 1) ev.push(['task-run:retried', { flowRunId: F, taskRunId: id, taskName, attempt: k + 1, delayMs: 0, error: new Error(`try ${k + 1}`), workerId, time: T(e) }]);
        else ev.push(loose('task-run:finished', { flowRunId: F, taskRunId: id, taskName, state: final, workerId, time: T(e), ...(final !== 'Completed' && { error: new Error(`${id} ${final}`) }) }));
      });
      if (attempts.length === 0) ev.push(loose('task-run:finished', { flowRunId: F, taskRunId: id, taskName, state: final, time: T(submit + 1), error: new Error('cancelled before it started') }));
    },
  };
}

/** Sorts events by time, keeping the order of events at equal times, as a bus would emit them. */
function inOrder(ev: Ev[]): Ev[] {
  return ev.map((e, i) => [e, i] as const).sort((a, b) => a[0][1].time - b[0][1].time || a[1] - b[1]).map(([e]) => e);
}

describe('report model', () => {
  it('a run with no task runs still has a summary, one empty stream and full-length charts', () => {
    const s = script();
    s.start(0);
    s.end(5);
    const m = buildModel(logOf(s.ev));
    assert.equal(m.summary.flowName, 'f');
    assert.equal(m.summary.state, 'Completed');
    assert.equal(m.summary.durationMs, 5);
    assert.equal(m.summary.taskRuns, 0);
    assert.equal(m.stream.length, 0);
    assert.deepEqual(m.tasks, []);
    assert.equal(m.timeline.busy.length, BUCKETS);
    assert.ok(m.timeline.busy.every((v) => v === 0));
  });

  it('pairs every attempt: retries are their own bars, final states stay distinct, a run cancelled before starting has no bar', () => {
    const s = script();
    s.start(0);
    s.task('a-1', 0, [[0, 10, 'w1']]);
    s.task('a-2', 0, [[10, 20, 'w1'], [20, 30, 'w1'], [30, 40, 'w1']], 'Failed');
    s.task('b-1', 0, [[0, 5, 'w2']], 'Crashed');
    s.task('b-2', 0, [], 'Cancelled');
    s.end(40, 'Failed');
    const m = buildModel(logOf(inOrder(s.ev)));
    assert.equal(m.summary.taskRuns, 4);
    assert.equal(m.summary.attempts, 5);
    assert.equal(m.summary.retries, 2);
    assert.equal(m.summary.crashes, 1);
    assert.deepEqual(m.summary.byState, { Completed: 1, Failed: 1, Crashed: 1, Cancelled: 1, Unfinished: 0 });
    const bars = Array.from({ length: m.stream.length }, (_, i) => `${m.stream.runIds[m.stream.run[i]!]}#${m.stream.attempt[i]}:${ATTEMPT_STATES[m.stream.state[i]!]}@${m.stream.start[i]}-${m.stream.end[i]}`);
    assert.deepEqual(bars.sort(), ['a-1#1:Completed@0-10', 'a-2#1:Retried@10-20', 'a-2#2:Retried@20-30', 'a-2#3:Failed@30-40', 'b-1#1:Crashed@0-5'].sort());
    const a = m.tasks.find((t) => t.name === 'a')!;
    assert.deepEqual({ count: a.count, failed: a.failed, retries: a.retries, totalMs: a.totalMs, maxMs: a.maxMs }, { count: 2, failed: 1, retries: 2, totalMs: 40, maxMs: 10 });
    const b = m.tasks.find((t) => t.name === 'b')!;
    assert.deepEqual({ count: b.count, crashed: b.crashed, cancelled: b.cancelled }, { count: 2, crashed: 1, cancelled: 1 });
    // Errors: two retries and two final errors, and the cancellation of a run that never started.
    assert.equal(m.errors.lines.length, 5);
    assert.ok(m.errors.lines.some((l) => l.message === 'Error: a-2 Failed' && l.level === 'Failed'));
    assert.ok(m.errors.lines.some((l) => l.level === 'retried (attempt 1)' && l.message === 'Error: try 1'));
  });

  it('packs concurrent attempts of one worker into the fewest lanes, its peak concurrency', () => {
    const s = script();
    s.start(0);
    // On 'main': [0,100) [20,40) [30,80) [45,60) [90,120): peak 3 at t=30.
    s.task('t-1', 0, [[0, 100, 'main']]);
    s.task('t-2', 0, [[20, 40, 'main']]);
    s.task('t-3', 0, [[30, 80, 'main']]);
    s.task('t-4', 0, [[45, 60, 'main']]);
    s.task('t-5', 0, [[90, 120, 'main']]);
    s.task('u-1', 0, [[0, 120, 'w2']]);
    s.end(120);
    const m = buildModel(logOf(inOrder(s.ev)));
    assert.deepEqual(m.lanes, [{ worker: 'main', slot: 0 }, { worker: 'main', slot: 1 }, { worker: 'main', slot: 2 }, { worker: 'w2', slot: 0 }]);
    assert.equal(m.summary.slots, 4);
    assert.equal(m.summary.workers, 2);
    // No two bars of one lane overlap.
    for (let l = 0; l < m.lanes.length; l++) {
      const bars = [...Array(m.stream.length).keys()].filter((i) => m.stream.lane[i] === l).sort((x, y) => m.stream.start[x]! - m.stream.start[y]!);
      for (let k = 1; k < bars.length; k++) assert.ok(m.stream.start[bars[k]!]! >= m.stream.end[bars[k - 1]!]!, `lane ${l} overlaps`);
    }
    // The stream is in start order.
    for (let i = 1; i < m.stream.length; i++) assert.ok(m.stream.start[i]! >= m.stream.start[i - 1]!);
  });

  it('per-name durations: count, mean, p50, p95 and max are exact (nearest rank)', () => {
    const s = script();
    s.start(0);
    for (let i = 1; i <= 100; i++) s.task(`d-${i}`, 0, [[i, i + i, `w${i}`]]);
    s.end(300);
    const m = buildModel(logOf(inOrder(s.ev)));
    const d = m.tasks[0]!;
    assert.equal(d.count, 100);
    assert.equal(d.totalMs, 5050);
    assert.equal(d.meanMs, 50.5);
    assert.equal(d.p50Ms, 50);
    assert.equal(d.p95Ms, 95);
    assert.equal(d.maxMs, 100);
    // Waits from submission (no ready time here): i ms for the i-th run.
    assert.equal(d.waitP95Ms, 95);
    assert.equal(quantile([], 0.5), 0);
  });

  it('busy slots and queue depth are time-weighted per bucket; without ready times the waits count from submission', () => {
    const s = script();
    s.start(0);
    // Two runs submitted at 0: one runs [0, 500), the other waits until 500 and runs [500, 1000).
    s.task('q-1', 0, [[0, 500, 'w1']]);
    s.task('q-2', 0, [[500, 1000, 'w1']]);
    s.end(1000);
    const m = buildModel(logOf(inOrder(s.ev)));
    assert.equal(m.timeline.bucketMs, 1);
    assert.ok(m.timeline.busy.every((v) => Math.abs(v - 1) < 1e-9), 'one slot busy all along');
    assert.ok(Math.abs(m.timeline.queued[0]! - 1) < 1e-9 && Math.abs(m.timeline.queued[499]! - 1) < 1e-9 && m.timeline.queued[500] === 0);
    assert.equal(m.overhead.basis, 'submitted');
    assert.equal(m.overhead.readyToStart.p95Ms, 500);
    assert.equal(m.overhead.readyToStart.histogram.counts.reduce((a, b) => a + b, 0), 2);
  });

  it('with ready times, overhead splits into submit → ready and ready → start', () => {
    const s = script();
    s.start(0);
    s.task('r-1', 0, [[12, 20, 'w1']], 'Completed', 10);
    s.task('r-2', 0, [[14, 20, 'w2']], 'Completed', 10);
    s.end(20);
    const m = buildModel(logOf(inOrder(s.ev)));
    assert.equal(m.summary.readyTimes, true);
    assert.equal(m.overhead.basis, 'ready');
    assert.deepEqual(m.overhead.submitToReady, { p50Ms: 10, p95Ms: 10 });
    assert.deepEqual([m.overhead.readyToStart.p50Ms, m.overhead.readyToStart.p95Ms], [2, 4]);
  });

  it('uses serviceMs for the end of an attempt when the finished event carries it', () => {
    const s = script();
    s.start(0);
    s.ev.push(['task-run:submitted', { flowRunId: F, taskRunId: 'x-1', taskName: 'x', priority: 0, time: 1000 }]);
    s.ev.push(loose('task-run:started', { flowRunId: F, taskRunId: 'x-1', taskName: 'x', attempt: 1, workerId: 'w', time: 1001 }));
    s.ev.push(loose('task-run:finished', { flowRunId: F, taskRunId: 'x-1', taskName: 'x', state: 'Completed', time: 1009, attempt: 1, startTime: 1001, serviceMs: 2 }));
    s.end(10);
    const m = buildModel(logOf(s.ev));
    assert.equal(m.stream.end[0], 3);
  });

  it('a worker lost mid-attempt: the run starting again elsewhere ends the first attempt Crashed', () => {
    const s = script();
    s.start(0);
    s.ev.push(['task-run:submitted', { flowRunId: F, taskRunId: 'c-1', taskName: 'c', priority: 0, time: 1000 }]);
    s.ev.push(loose('task-run:started', { flowRunId: F, taskRunId: 'c-1', taskName: 'c', attempt: 1, workerId: 'w1', time: 1001 }));
    s.ev.push(['worker:left', { workerId: 'w1', reason: 'killed', time: 1004 }]);
    s.ev.push(loose('task-run:started', { flowRunId: F, taskRunId: 'c-1', taskName: 'c', attempt: 1, workerId: 'w2', time: 1005 }));
    s.ev.push(loose('task-run:finished', { flowRunId: F, taskRunId: 'c-1', taskName: 'c', state: 'Completed', workerId: 'w2', time: 1008 }));
    s.end(10);
    const m = buildModel(logOf(s.ev));
    assert.deepEqual(Array.from(m.stream.state, (x) => ATTEMPT_STATES[x]), ['Crashed', 'Completed']);
    assert.deepEqual(m.lanes.map((l) => l.worker), ['w1', 'w2']);
    assert.equal(m.summary.taskRuns, 1);
    assert.deepEqual(m.workerEvents.map((e) => [e.time, e.kind, e.text]), [[4, 'left', 'w1: killed']]);
  });

  it('a log that ends mid-run marks open attempts Unfinished and counts their runs as such', () => {
    const s = script();
    s.start(0);
    s.ev.push(['task-run:submitted', { flowRunId: F, taskRunId: 'o-1', taskName: 'o', priority: 0, time: 1000 }]);
    s.ev.push(loose('task-run:started', { flowRunId: F, taskRunId: 'o-1', taskName: 'o', attempt: 1, workerId: 'w', time: 1002 }));
    s.ev.push(['runner:warning', { message: 'lost Redis', time: 1007 }]);
    const m = buildModel(logOf(s.ev));
    assert.equal(m.summary.state, 'Running');
    assert.equal(m.summary.byState.Unfinished, 1);
    assert.equal(ATTEMPT_STATES[m.stream.state[0]!], 'Unfinished');
    assert.equal(m.stream.end[0], 7);
  });

  it('subflows, worker and scale events, and logs capped with a count of the rest (errors kept apart)', () => {
    const ev: Ev[] = [
      ['flow-run:started', { flowRunId: F, flowName: 'parent', runner: 'test', time: 0 }],
      ['worker:joined', { workerId: 'w1', resources: { GPU: 1 }, time: 1 }],
      ['scale:up', { from: 1, to: 3, reason: 'backlog 30 task runs', time: 2 }],
      ['flow-run:started', { flowRunId: 'sub-1', flowName: 'child', parentFlowRunId: F, runner: 'test', time: 3 }],
      ['flow-run:finished', { flowRunId: 'sub-1', flowName: 'child', state: 'Completed', time: 6 }],
    ];
    for (let i = 0; i < LOG_CAP + 5; i++) ev.push(['task-run:log', { flowRunId: F, taskRunId: 'l-1', taskName: 'l', level: 'info', message: `line ${i}`, workerId: 'w1', time: 7 }]);
    ev.push(['task-run:log', { flowRunId: F, taskRunId: 'l-1', taskName: 'l', level: 'error', message: 'bad', workerId: 'w1', time: 8 }]);
    ev.push(['flow-run:finished', { flowRunId: F, flowName: 'parent', state: 'Completed', time: 10 }]);
    const m = buildModel(logOf(ev));
    assert.equal(m.summary.flowName, 'parent');
    assert.equal(m.summary.durationMs, 10);
    assert.deepEqual(m.subflows, [{ flowRunId: 'sub-1', flowName: 'child', parentFlowRunId: F, start: 3, end: 6, state: 'Completed' }]);
    assert.deepEqual(m.workerEvents.map((e) => `${e.kind}: ${e.text}`), ['joined: w1 (GPU=1)', 'scale up: 1 → 3 workers: backlog 30 task runs']);
    assert.equal(m.logs.lines.length + m.logs.dropped, LOG_CAP + 5);
    assert.equal(m.logs.dropped, 5);
    assert.deepEqual(m.errors.lines.map((l) => l.message), ['bad']);
    // The worker line counts w1 from its join to the end of the run.
    assert.ok(Math.abs(m.timeline.workers[BUCKETS - 1]! - 1) < 1e-9);
  });

  it('scales: 200,000 task runs fold with exact totals and no cap', () => {
    const ev: Ev[] = [['flow-run:started', { flowRunId: F, flowName: 'big', runner: 'test', time: 0 }]];
    const N = 200_000;
    for (let i = 1; i <= N; i++) {
      const t = i * 0.01;
      ev.push(['task-run:submitted', { flowRunId: F, taskRunId: `n-${i}`, taskName: 'n', priority: 0, time: t }]);
      ev.push(loose('task-run:started', { flowRunId: F, taskRunId: `n-${i}`, taskName: 'n', attempt: 1, workerId: `w${i % 8}`, time: t }));
      ev.push(loose('task-run:finished', { flowRunId: F, taskRunId: `n-${i}`, taskName: 'n', state: i % 1000 ? 'Completed' : 'Failed', workerId: `w${i % 8}`, time: t + 0.05 }));
    }
    ev.push(['flow-run:finished', { flowRunId: F, flowName: 'big', state: 'Failed', time: N * 0.01 + 1 }]);
    const m = buildModel(logOf(ev));
    assert.equal(m.summary.taskRuns, N);
    assert.equal(m.stream.length, N);
    assert.equal(m.tasks[0]!.count, N);
    assert.equal(m.tasks[0]!.failed, N / 1000);
    assert.equal(m.lanes.length, 8);
  });

  it('the log fills fixed chunks: every row kept across the first chunk\'s doublings and the chunk edges', () => {
    const log = new EventLog();
    const N = 2 * CHUNK_ROWS + 3;
    for (let i = 0; i < N; i++) log.submitted(F, `n-${i}`, 'n', i * 0.5, i % 7);
    assert.equal(log.length, N);
    const chunks = log.chunks();
    assert.deepEqual(chunks.map((c) => [c.length, c.capacity]), [[CHUNK_ROWS, CHUNK_ROWS], [CHUNK_ROWS, CHUNK_ROWS], [3, CHUNK_ROWS]]);
    for (const i of [0, 4095, 4096, 8191, 8192, CHUNK_ROWS - 1, CHUNK_ROWS, 2 * CHUNK_ROWS - 1, 2 * CHUNK_ROWS, N - 1]) {
      assert.equal(log.get('time', i), i * 0.5);
      assert.equal(log.get('d', i), i % 7);
      assert.equal(log.taskId(i), `n-${i}`);
    }
  });
});

describe('lanes with late-heard ends', () => {
  it('an end heard a few ms late does not open a lane: it is moved back to the next start on that slot', () => {
    const ev: Ev[] = [['flow-run:started', { flowRunId: F, flowName: 'f', runner: 'test', time: 0 }]];
    // One slot; each finish is heard 1 ms after the next attempt started.
    for (let i = 1; i <= 3; i++) {
      ev.push(['task-run:submitted', { flowRunId: F, taskRunId: `s-${i}`, taskName: 's', priority: 0, time: 0 }]);
      ev.push(loose('task-run:started', { flowRunId: F, taskRunId: `s-${i}`, taskName: 's', attempt: 1, workerId: 'main', time: (i - 1) * 10 }));
    }
    for (let i = 1; i <= 3; i++) ev.push(loose('task-run:finished', { flowRunId: F, taskRunId: `s-${i}`, taskName: 's', state: 'Completed', workerId: 'main', time: i * 10 + 1 }));
    ev.push(['flow-run:finished', { flowRunId: F, flowName: 'f', state: 'Completed', time: 40 }]);
    const m = buildModel(logOf(inOrder(ev)));
    assert.equal(m.lanes.length, 1);
    assert.deepEqual(Array.from(m.stream.end), [10, 20, 31]);
  });
});

it('task run ids round-trip through the log: `${name}-${n}` kept as numbers, any other id in the dictionary', () => {
  const log = new EventLog();
  const ids: [string, string][] = [['fetch', 'fetch-0'], ['fetch', 'fetch-12'], ['fetch', 'fetch-012'], ['fetch', 'fetch-x1'], ['a-b', 'a-b-7'], ['fetch', 'custom'], ['fetch', 'fetch-1234567890'], ['fetch', 'fetch-']];
  for (const [name, id] of ids) log.append('task-run:submitted', { flowRunId: 'f', taskRunId: id, taskName: name, priority: 0, time: 1 });
  assert.deepEqual(ids.map((_, i) => log.taskId(i)), ids.map(([, id]) => id));
  assert.ok(log.get('task', 0) <= -2 && log.get('task', 1) <= -2 && log.get('task', 4) <= -2, 'the usual ids take no dictionary entry');
  assert.deepEqual(log.strings.filter((s) => s.startsWith('fetch-') || s === 'custom').sort(), ['custom', 'fetch-', 'fetch-012', 'fetch-1234567890', 'fetch-x1']);
});

it('runs and attempts the log never submitted or started (a log joined late) still pair, past the columns first sized', () => {
  // Columns are sized from the submits and starts: here there are none, so they must grow.
  const ev: Ev[] = [loose('flow-run:started', { flowRunId: F, flowName: 'late', runner: 'cluster', time: 0 })];
  for (let i = 1; i <= 100; i++) {
    ev.push(loose('task-run:finished', { flowRunId: F, taskRunId: `t-${i}`, taskName: 't', state: 'Completed', workerId: 'w1', time: 10 + i, attempt: 1, startTime: 5 + i, serviceMs: 2 }));
  }
  ev.push(loose('flow-run:finished', { flowRunId: F, flowName: 'late', state: 'Completed', time: 200 }));
  const m = buildModel(logOf(ev));
  assert.equal(m.summary.taskRuns, 100);
  assert.equal(m.summary.attempts, 100);
  assert.equal(m.summary.byState.Completed, 100);
  assert.deepEqual([m.stream.start[99], m.stream.end[99]], [105, 107], 'the last bar from its own start and serviceMs');
  assert.equal(m.stream.runIds[99], 't-100');
});
