import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flow, type WeftEventName, type WeftEvents } from '../../src/index.ts';
import { RunFold } from '../../src/events/fold.ts';
import { retried, sleep } from '../fixtures/core/tasks.ts';
import { within } from '../helpers/eventually.ts';
import { RUNNERS } from './runners.ts';

/** How far a time measured on a worker may sit past one measured here: the cluster clock's error bound and rounding. */
const SLACK_MS = 5;

for (const r of RUNNERS) {
  describe(`${r.name}: the event contract`, () => {
    it('started carries readyTime, finished its attempt, start and serviceMs, all on the flow clock and in order', async () => {
      const f = flow(async function eventContract() {
        return Promise.all([retried.submit(1), sleep.submit(30, 'x')]);
      }, { taskRunner: r.make({ workers: 2 }) });
      const run = f.run();
      const seen: { name: WeftEventName; event: WeftEvents[WeftEventName] }[] = [];
      const fold = new RunFold({ taskStream: true });
      for (const name of ['task-run:submitted', 'task-run:started', 'task-run:retried', 'task-run:finished'] as const) {
        run.on(name, (event) => {
          seen.push({ name, event });
          fold.apply(name, event);
        });
      }
      const record = await within(run, 30_000, 'the flow');
      assert.deepEqual(record.result, [2, 'x']);
      for (const taskRunId of ['retried-1', 'sleep-1']) {
        const of = <E extends WeftEventName>(name: E) => seen.filter((s) => s.name === name && (s.event as { taskRunId?: string }).taskRunId === taskRunId).map((s) => s.event as WeftEvents[E]);
        const [submitted] = of('task-run:submitted');
        const starts = of('task-run:started');
        const [finished] = of('task-run:finished');
        assert.ok(submitted && finished && starts.length > 0, `${taskRunId}: submitted, started and finished`);
        const last = starts.at(-1) as WeftEvents['task-run:started'];
        for (const s of starts) {
          assert.equal(s.readyTime, starts[0]?.readyTime, 'readyTime is the same on every attempt');
          assert.ok(submitted.time <= s.readyTime, `${taskRunId}: ready (${s.readyTime}) after submitted (${submitted.time})`);
          assert.ok(s.readyTime <= s.time + SLACK_MS, `${taskRunId}: started (${s.time}) after ready (${s.readyTime})`);
          assert.ok(s.time <= finished.time + SLACK_MS, `${taskRunId}: started (${s.time}) before finished (${finished.time})`);
        }
        assert.equal(finished.attempt, last.attempt);
        assert.equal(finished.startTime, last.time);
        assert.equal(typeof finished.serviceMs, 'number');
        assert.ok((finished.serviceMs as number) >= 0);
        assert.ok(last.time + (finished.serviceMs as number) <= finished.time + SLACK_MS, `${taskRunId}: the attempt ends (start ${last.time} + ${finished.serviceMs} ms) before its end is seen (${finished.time})`);
      }
      const sleepRun = seen.find((s) => s.name === 'task-run:finished' && (s.event as WeftEvents['task-run:finished']).taskRunId === 'sleep-1')?.event as WeftEvents['task-run:finished'];
      assert.ok((sleepRun.serviceMs as number) >= 25, `a 30 ms task ran ${sleepRun.serviceMs} ms`);
      // The engine's record and a consumer's fold of the same events agree.
      assert.deepEqual(fold.records.map((t) => [t.id, t.state, t.attempts, t.startedAt, t.endedAt, t.workerId]), record.taskRuns.map((t) => [t.id, t.state, t.attempts, t.startedAt, t.endedAt, t.workerId]));
      assert.deepEqual(fold.attempts?.filter((a) => a.taskRunId === 'retried-1').map((a) => [a.attempt, a.state]), [[1, 'Retried'], [2, 'Completed']]);
    });

    it('a run cancelled before it starts finishes with attempt 0 and no start', async () => {
      const f = flow(async function cancelledEarly() {
        const blocker = sleep.submit(50, 'first');
        const late = sleep.withOptions({ waitFor: [blocker] }).submit(10, 'late');
        late.cancel('not needed');
        await blocker;
        return late.wait();
      }, { taskRunner: r.make({ workers: 1 }) });
      const run = f.run();
      const finished: WeftEvents['task-run:finished'][] = [];
      run.on('task-run:finished', (e) => finished.push(e));
      const record = await within(run, 30_000, 'the flow');
      assert.equal(record.result, 'Cancelled');
      const late = finished.find((e) => e.taskRunId === 'sleep-2');
      assert.deepEqual([late?.state, late?.attempt, late?.startTime], ['Cancelled', 0, undefined]);
    });
  });
}
