/**
 * The event fold, without I/O: each case is a list of events and the records and task stream
 * they must fold into.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskRunRecord } from '../../src/core/states.ts';
import type { WeftEventName, WeftEvents } from '../../src/events/events.ts';
import { RunFold, type TaskAttempt } from '../../src/events/fold.ts';
import { ATTEMPT_STATES, pairAttempts } from '../../src/report/attempts.ts';
import { logOf } from '../../src/report/event-log.ts';

type Event = { [E in WeftEventName]: [E, WeftEvents[E]] }[WeftEventName];

const F = 'flow-1';
const boom = new Error('boom');
const cancelled = new Error('cancelled');

const submitted = (taskRunId: string, time: number, flowRunId = F): Event =>
  ['task-run:submitted', { flowRunId, taskRunId, taskName: taskRunId.split('-')[0] as string, priority: 0, tags: ['t'], time }];
const started = (taskRunId: string, attempt: number, workerId: string, readyTime: number, time: number, flowRunId = F): Event =>
  ['task-run:started', { flowRunId, taskRunId, taskName: taskRunId.split('-')[0] as string, attempt, workerId, readyTime, time }];
const retried = (taskRunId: string, attempt: number, workerId: string, time: number): Event =>
  ['task-run:retried', { flowRunId: F, taskRunId, taskName: taskRunId.split('-')[0] as string, attempt, delayMs: 0, error: boom, workerId, time }];
const finished = (taskRunId: string, e: Partial<WeftEvents['task-run:finished']> & Pick<WeftEvents['task-run:finished'], 'state' | 'time' | 'attempt'>, flowRunId = F): Event =>
  ['task-run:finished', { flowRunId, taskRunId, taskName: taskRunId.split('-')[0] as string, ...e }];

interface Case {
  readonly name: string;
  readonly events: Event[];
  /** The records' (state, attempts, startedAt, endedAt, workerId, error) after the fold. */
  readonly records: Partial<TaskRunRecord>[];
  /** The task stream: (taskRunId, attempt, workerId, readyTime, startTime, endTime, state). */
  readonly attempts: [string, number, string, number | undefined, number, number, TaskAttempt['state']][];
}

const CASES: Case[] = [
  {
    name: 'a run that completes on its first attempt: one Completed bar, its end from serviceMs',
    events: [submitted('a-1', 1), started('a-1', 1, 'w1', 2, 3), finished('a-1', { state: 'Completed', time: 10, attempt: 1, startTime: 3, serviceMs: 4, workerId: 'w1' })],
    records: [{ id: 'a-1', state: 'Completed', attempts: 1, submittedAt: 1, startedAt: 3, endedAt: 10, workerId: 'w1' }],
    attempts: [['a-1', 1, 'w1', 2, 3, 7, 'Completed']],
  },
  {
    name: 'without serviceMs the bar ends when the end was seen',
    events: [submitted('a-1', 1), started('a-1', 1, 'w1', 2, 3), finished('a-1', { state: 'Completed', time: 10, attempt: 1, startTime: 3 })],
    records: [{ state: 'Completed', attempts: 1, startedAt: 3, endedAt: 10, workerId: 'w1' }],
    attempts: [['a-1', 1, 'w1', 2, 3, 10, 'Completed']],
  },
  {
    name: 'a retry: a Retried bar, then the final one; startedAt stays the first attempt\'s',
    events: [
      submitted('a-1', 1), started('a-1', 1, 'w1', 2, 3), retried('a-1', 1, 'w1', 5),
      started('a-1', 2, 'w2', 2, 6), finished('a-1', { state: 'Failed', time: 9, attempt: 2, startTime: 6, serviceMs: 2, error: boom, workerId: 'w2' }),
    ],
    records: [{ state: 'Failed', attempts: 2, startedAt: 3, endedAt: 9, workerId: 'w2', error: boom }],
    attempts: [['a-1', 1, 'w1', 2, 3, 5, 'Retried'], ['a-1', 2, 'w2', 2, 6, 8, 'Failed']],
  },
  {
    name: 'a run started again elsewhere (its worker died): the lost attempt is Crashed',
    events: [submitted('a-1', 1), started('a-1', 1, 'w1', 1, 2), started('a-1', 1, 'w2', 1, 8), finished('a-1', { state: 'Completed', time: 12, attempt: 1, startTime: 8, serviceMs: 3, workerId: 'w2' })],
    records: [{ state: 'Completed', attempts: 1, startedAt: 2, workerId: 'w2' }],
    attempts: [['a-1', 1, 'w1', 1, 2, 8, 'Crashed'], ['a-1', 1, 'w2', 1, 8, 11, 'Completed']],
  },
  {
    name: 'cancelled before it started: no bar, attempt 0',
    events: [submitted('a-1', 1), finished('a-1', { state: 'Cancelled', time: 4, attempt: 0, error: cancelled })],
    records: [{ state: 'Cancelled', attempts: 0, startedAt: undefined, endedAt: 4, error: cancelled }],
    attempts: [],
  },
  {
    name: 'cancelled while running: the bar ends at the cancel',
    events: [submitted('a-1', 1), started('a-1', 1, 'w1', 1, 2), finished('a-1', { state: 'Cancelled', time: 6, attempt: 1, startTime: 2, error: cancelled })],
    records: [{ state: 'Cancelled', attempts: 1, startedAt: 2, endedAt: 6, workerId: 'w1' }],
    attempts: [['a-1', 1, 'w1', 1, 2, 6, 'Cancelled']],
  },
  {
    name: 'a crash reported after the start, with a serviceMs past the end seen: the bar never ends after it',
    events: [submitted('a-1', 1), started('a-1', 1, 'w1', 1, 2), finished('a-1', { state: 'Crashed', time: 5, attempt: 1, startTime: 2, serviceMs: 10, error: boom, workerId: 'w1' })],
    records: [{ state: 'Crashed', attempts: 1, endedAt: 5 }],
    attempts: [['a-1', 1, 'w1', 1, 2, 5, 'Crashed']],
  },
  {
    name: "another flow run's events (a subflow's) and unknown runs change nothing",
    events: [
      submitted('a-1', 1), submitted('b-1', 1, 'flow-2'), started('a-1', 1, 'w1', 1, 2, 'flow-2'), started('z-1', 1, 'w1', 1, 2),
      finished('a-1', { state: 'Completed', time: 3, attempt: 1 }, 'flow-2'),
    ],
    records: [{ id: 'a-1', state: 'Pending', attempts: 0 }],
    attempts: [],
  },
  {
    name: 'two runs interleaved keep their own records, in submission order',
    events: [
      submitted('a-1', 1), submitted('b-1', 1), started('b-1', 1, 'w2', 1, 2), started('a-1', 1, 'w1', 1, 3),
      finished('a-1', { state: 'Completed', time: 5, attempt: 1, serviceMs: 1 }), finished('b-1', { state: 'Completed', time: 6, attempt: 1, serviceMs: 1 }),
    ],
    records: [{ id: 'a-1', workerId: 'w1', startedAt: 3 }, { id: 'b-1', workerId: 'w2', startedAt: 2 }],
    attempts: [['a-1', 1, 'w1', 1, 3, 4, 'Completed'], ['b-1', 1, 'w2', 1, 2, 3, 'Completed']],
  },
  {
    name: 'a finished that carries the start of an attempt never heard still gets its bar',
    events: [submitted('a-1', 1), finished('a-1', { state: 'Completed', time: 9, attempt: 1, startTime: 4, serviceMs: 3, workerId: 'w1' })],
    records: [{ state: 'Completed', attempts: 1, startedAt: 4, endedAt: 9, workerId: 'w1' }],
    attempts: [['a-1', 1, 'w1', undefined, 4, 7, 'Completed']],
  },
  {
    name: 'a second finished for a run that ended changes nothing',
    events: [
      submitted('a-1', 1), started('a-1', 1, 'w1', 1, 2), finished('a-1', { state: 'Completed', time: 5, attempt: 1, startTime: 2, workerId: 'w1' }),
      finished('a-1', { state: 'Failed', time: 7, attempt: 1, startTime: 2, error: boom, workerId: 'w2' }),
    ],
    records: [{ state: 'Completed', endedAt: 5, workerId: 'w1' }],
    attempts: [['a-1', 1, 'w1', 1, 2, 5, 'Completed']],
  },
];

describe('RunFold', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const fold = new RunFold({ flowRunId: F, taskStream: true });
      for (const [name, event] of c.events) fold.apply(name, event);
      assert.equal(fold.records.length, c.records.length, 'one record per submitted run of this flow run');
      c.records.forEach((want, i) => {
        const got = fold.records[i] as TaskRunRecord;
        for (const key of Object.keys(want) as (keyof TaskRunRecord)[]) assert.deepEqual(got[key], want[key], `${got.id}.${key}`);
      });
      assert.deepEqual(
        (fold.attempts ?? []).map((a) => [a.taskRunId, a.attempt, a.workerId, a.readyTime, a.startTime, a.endTime, a.state]),
        c.attempts,
      );
    });
  }

  it('without taskStream it keeps records only, and a finished run is no longer live', () => {
    const fold = new RunFold();
    for (const [name, event] of [submitted('a-1', 1), started('a-1', 1, 'w1', 1, 2)]) fold.apply(name, event);
    assert.deepEqual(fold.current(F, 'a-1'), { attempt: 1, startTime: 2 });
    const [name, event] = finished('a-1', { state: 'Completed', time: 3, attempt: 1 });
    fold.apply(name, event);
    assert.equal(fold.attempts, undefined);
    assert.equal(fold.record(F, 'a-1'), undefined);
    assert.deepEqual(fold.current(F, 'a-1'), { attempt: 0, startTime: undefined });
    assert.equal(fold.records[0]?.state, 'Completed');
  });

  it('without a flowRunId it folds every flow run, keeping equal task run ids of subflows apart', () => {
    const fold = new RunFold({ taskStream: true });
    for (const [name, event] of [submitted('a-1', 1), submitted('a-1', 1, 'flow-2'), started('a-1', 1, 'w9', 1, 2, 'flow-2')]) fold.apply(name, event);
    assert.deepEqual(fold.records.map((r) => r.state), ['Pending', 'Running']);
  });
});

describe('one set of attempt rules: the report pairs a log into the attempts the fold makes', () => {
  for (const c of CASES) {
    it(c.name, () => {
      // The fold keeps to its flow run's submitted runs; give the report the same events.
      const known = new Set(c.events.filter(([n, e]) => n === 'task-run:submitted' && e.flowRunId === F).map(([, e]) => (e as { taskRunId: string }).taskRunId));
      const events = c.events.filter(([, e]) => (e as { flowRunId?: string }).flowRunId === F && known.has((e as { taskRunId: string }).taskRunId));
      const fold = new RunFold({ flowRunId: F, taskStream: true });
      for (const [name, event] of events) fold.apply(name, event);
      const a = pairAttempts(logOf(events));
      const paired = Array.from({ length: a.length }, (_, i) => [a.runIdOf(a.run[i]!), a.attempt[i], a.start[i], a.end[i], ATTEMPT_STATES[a.state[i]!]]);
      const folded = (fold.attempts ?? []).map((x) => [x.taskRunId, x.attempt, x.startTime, x.endTime, x.state]);
      const byStart = (x: unknown[], y: unknown[]) => (x[2] as number) - (y[2] as number) || String(x[0]).localeCompare(String(y[0]));
      assert.deepEqual(paired.sort(byStart), folded.sort(byStart));
    });
  }
});
