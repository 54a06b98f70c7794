import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CancelledError, flow, FlowRunError, type TaskFuture } from '../../src/index.ts';
import { add, awaitAbort, flaky, sleep, touch } from '../fixtures/core/tasks.ts';
import { deferred, readMarker, within } from '../helpers/eventually.ts';
import { scratchDir } from '../helpers/scratch.ts';
import { RUNNERS } from './runners.ts';

const scratch = () => scratchDir('weft-cancel');

for (const r of RUNNERS) {
  describe(`${r.name}: cancellation`, () => {
    it('cancelling a run aborts running tasks, rejects their futures with CancelledError and starts nothing new', async () => {
      const dir = scratch();
      const seen = deferred<PromiseSettledResult<unknown>[]>();
      const f = flow(async function cancelFlow() {
        const running = awaitAbort.submit(join(dir, 'aborted'));
        const queued = touch.submit(join(dir, 'queued'));
        const settled = await Promise.allSettled([running, queued]);
        const late = touch.submit(join(dir, 'late'));
        settled.push(...(await Promise.allSettled([late])));
        seen.resolve(settled);
        return 'not reached';
      }, { taskRunner: r.make({ workers: 1 }) });
      const run = f.run();
      const started: string[] = [];
      run.on('task-run:started', (e) => {
        started.push(e.taskRunId);
        if (e.taskName === 'awaitAbort') setImmediate(() => run.cancel('the user pressed stop'));
      });
      const record = await within(run, 20_000, 'the cancelled flow');
      assert.equal(record.state, 'Cancelled');
      assert.ok(record.error instanceof CancelledError);
      assert.equal(record.error.reason, 'the user pressed stop');
      assert.equal(record.result, undefined);
      await assert.rejects(run.result(), (e: unknown) => e instanceof FlowRunError && e.state === 'Cancelled' && e.cause instanceof CancelledError);

      const settled = await within(seen.promise, 20_000, 'the flow body');
      assert.equal(settled.length, 3);
      for (const s of settled) {
        assert.equal(s.status, 'rejected');
        assert.ok(s.reason instanceof CancelledError, String(s.reason));
      }
      if (!r.cancelKillsTasks) assert.equal(await readMarker(join(dir, 'aborted')), 'CancelledError', "the running task's signal fired");
      assert.deepEqual(started, ['awaitAbort-1'], 'nothing started after the cancel');
      assert.equal(existsSync(join(dir, 'queued')), false);
      assert.equal(existsSync(join(dir, 'late')), false);
      // The late submission may come before or after the run's record is final: recorded or not, it is Cancelled.
      assert.deepEqual(record.taskRuns.slice(0, 2).map((t) => [t.id, t.state]), [['awaitAbort-1', 'Cancelled'], ['touch-1', 'Cancelled']]);
      assert.ok(record.taskRuns.every((t) => t.state === 'Cancelled'));
      assert.equal(record.counts.Cancelled, record.taskRuns.length);
    });

    it('a run cancelled before its flow function gets going ends at once, Cancelled, without running it', async () => {
      const gate = deferred();
      let called = false;
      const f = flow(async function cancelledEarlyFlow() {
        called = true;
        await gate.promise; // waits on something that is not a task
        return add.submit(1, 2).result();
      }, { taskRunner: r.make() });
      const run = f.run();
      run.cancel('changed my mind');
      try {
        const record = await within(run, 20_000, 'a flow run cancelled right after it started');
        assert.equal(record.state, 'Cancelled');
        assert.equal((record.error as CancelledError).reason, 'changed my mind');
        assert.equal(called, false, 'the flow function never ran');
      } finally {
        gate.resolve();
      }
    });

    it('a flow function that goes on after its run was cancelled gets Cancelled futures and leaves the record as it was', async () => {
      const body = deferred<unknown[]>();
      const f = flow(async function goesOnFlow() {
        await sleep.submit(10_000, 'cancelled').result().catch(() => undefined);
        await new Promise((resolve) => setTimeout(resolve, 100)); // the run has ended by now
        body.resolve(await Promise.all([add.submit(1, 2), add.submit(3, 4)].map((x) => x.result().catch((e: unknown) => e))));
      }, { taskRunner: r.make() });
      const run = f.run();
      run.on('task-run:started', () => run.cancel());
      const finished: string[] = [];
      run.on('task-run:finished', (e) => finished.push(e.taskRunId));
      const record = await within(run, 20_000, 'the flow');
      const late = await within(body.promise, 20_000, 'the flow function');
      for (const e of late) assert.ok(e instanceof CancelledError, String(e));
      assert.deepEqual(record.taskRuns.map((t) => t.id), ['sleep-1'], 'the final record is not changed afterwards');
      assert.equal(Object.values(record.counts).reduce((a, b) => a + b, 0), record.taskRuns.length);
      assert.deepEqual(finished, ['sleep-1'], 'no events after the run finished');
    });

    it('cancelling a run cancels its subflow runs', async () => {
      const dir = scratch();
      const child = flow(async function childFlow() {
        return awaitAbort.submit(join(dir, 'child-aborted')).result();
      }, { taskRunner: r.make() });
      const parent = flow(async function parentFlow() {
        return child();
      }, { taskRunner: r.make() });
      const run = parent.run();
      run.on('task-run:started', () => setImmediate(() => run.cancel()));
      const record = await within(run, 20_000, 'the parent flow');
      assert.equal(record.state, 'Cancelled');
      if (!r.cancelKillsTasks) assert.equal(await readMarker(join(dir, 'child-aborted')), 'CancelledError');
    });

    it('future.cancel() cancels one run: a running one gets its signal, a queued one never starts', async () => {
      const dir = scratch();
      const f = flow(async function futureCancelFlow() {
        const running = awaitAbort.submit(join(dir, 'aborted'));
        const queued = touch.submit(join(dir, 'queued'));
        await new Promise((resolve) => setTimeout(resolve, 20));
        const cancelledRunning = running.cancel('not needed');
        const cancelledQueued = queued.cancel();
        const errors = await Promise.all([running, queued].map((x) => x.result().catch((e: unknown) => e)));
        const after = await add.submit(1, 2);
        const done = add.submit(2, 2);
        await done;
        return { cancelledRunning, cancelledQueued, errors, after, cancelDone: done.cancel(), states: [running.state, queued.state] };
      }, { taskRunner: r.make({ workers: 1 }) });
      const record = await within(f.run(), 20_000, 'the flow');
      assert.equal(record.state, 'Completed', 'cancelled futures do not fail the flow');
      const out = record.result as { cancelledRunning: boolean; cancelledQueued: boolean; errors: unknown[]; after: number; cancelDone: boolean; states: string[] };
      assert.equal(out.cancelledRunning, true);
      assert.equal(out.cancelledQueued, true);
      assert.equal(out.cancelDone, false, 'a finished future cannot be cancelled');
      assert.equal(out.after, 3);
      assert.deepEqual(out.states, ['Cancelled', 'Cancelled']);
      for (const e of out.errors) assert.ok(e instanceof CancelledError, String(e));
      assert.equal((out.errors[0] as CancelledError).reason, 'not needed');
      if (!r.cancelKillsTasks) assert.equal(await readMarker(join(dir, 'aborted')), 'CancelledError');
      assert.equal(existsSync(join(dir, 'queued')), false);
      assert.equal(record.taskRuns.find((t) => t.taskName === 'touch')?.attempts, 0);
    });

    it('cancelling a run interrupts a retry delay', async () => {
      const f = flow(async function retryDelayCancelFlow() {
        return sleep.withOptions({ timeoutMs: 10, retries: 1, retryDelayMs: 60_000 }).submit(1_000, 'never').result();
      }, { taskRunner: r.make() });
      const run = f.run();
      run.on('task-run:retried', () => run.cancel());
      const record = await within(run, 20_000, 'a flow cancelled during a retry delay');
      assert.equal(record.state, 'Cancelled');
      assert.equal(record.taskRuns[0]?.state, 'Cancelled');
    });

    it('a future cancelled as its retry delay begins frees its worker at once', async () => {
      let waiting: TaskFuture<number | undefined> | undefined;
      const f = flow(async function retryDelaySlotFlow() {
        waiting = flaky.withOptions({ retries: 1, retryDelayMs: 60_000 }).submit(1);
        const next = add.submit(1, 2);
        return next.result();
      }, { taskRunner: r.make({ workers: 1 }) });
      const run = f.run();
      run.on('task-run:retried', () => waiting?.cancel('no more retries'));
      const record = await within(run, 20_000, 'a task queued behind a cancelled retry');
      assert.equal(record.result, 3);
      assert.deepEqual(record.taskRuns.map((t) => t.state), ['Cancelled', 'Completed']);
    });

    it('a run cancelled as a timed attempt starts still aborts that attempt\'s signal', async () => {
      const dir = scratch();
      const f = flow(async function cancelAtStartFlow() {
        return awaitAbort.withOptions({ timeoutMs: 30_000 }).submit(join(dir, 'aborted')).result();
      }, { taskRunner: r.make() });
      const run = f.run();
      run.on('task-run:started', () => run.cancel('stop now'));
      const record = await within(run, 20_000, 'the flow');
      assert.equal(record.state, 'Cancelled');
      if (!r.cancelKillsTasks) assert.equal(await readMarker(join(dir, 'aborted')), 'CancelledError');
    });
  });
}
