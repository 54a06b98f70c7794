import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { flow, TaskRunError, TaskTimeoutError, type TaskRunState } from '../../src/index.ts';
import { awaitAbort, block, flaky, retried, sleep, stubborn, userTimeout } from '../fixtures/core/tasks.ts';
import { readMarker, within } from '../helpers/eventually.ts';
import { scratchDir } from '../helpers/scratch.ts';
import { RUNNERS } from './runners.ts';

for (const r of RUNNERS) {
  describe(`${r.name}: retries and timeouts`, () => {
    it('retries a failing task: Retrying between attempts, then Completed, with the attempts counted', async () => {
      let future: { state: TaskRunState } | undefined;
      const f = flow(async function retryFlow() {
        const x = flaky.withOptions({ retries: 3 }).submit(2);
        future = x;
        return x.result();
      }, { taskRunner: r.make() });
      const run = f.run();
      const statesAtRetry: TaskRunState[] = [];
      const attempts: number[] = [];
      run.on('task-run:started', (e) => attempts.push(e.attempt));
      run.on('task-run:retried', (e) => {
        statesAtRetry.push(future?.state ?? 'Pending');
        assert.match(e.error.message, new RegExp(`attempt ${e.attempt} failed`));
      });
      const record = await within(run, 20_000, 'the flow');
      assert.equal(record.state, 'Completed');
      assert.equal(record.result, 3, 'the third attempt succeeds');
      assert.deepEqual(statesAtRetry, ['Retrying', 'Retrying']);
      assert.deepEqual(attempts, [1, 2, 3]);
      assert.equal(record.taskRuns[0]?.attempts, 3);
      assert.equal(record.taskRuns[0]?.state, 'Completed');
    });

    it('uses the retries given at definition, and fails once they run out', async () => {
      const f = flow(async function definedRetriesFlow() {
        const ok = await retried.submit(2);
        const outcome = await retried.submit(3).result().catch((e: unknown) => e);
        return { ok, outcome };
      }, { taskRunner: r.make() });
      const record = await within(f.run(), 20_000, 'the flow');
      const { ok, outcome } = record.result as { ok: number; outcome: unknown };
      assert.equal(ok, 3);
      assert.ok(outcome instanceof TaskRunError);
      assert.match((outcome.cause as Error).message, /attempt 3 failed/);
      assert.deepEqual(record.taskRuns.map((t) => [t.state, t.attempts]), [['Completed', 3], ['Failed', 3]]);
    });

    it('waits retryDelayMs before each retry, one entry per retry and the last repeating', async () => {
      const f = flow(async function delayFlow() {
        return flaky.withOptions({ retries: 3, retryDelayMs: [10, 30] }).submit(3);
      }, { taskRunner: r.make() });
      const run = f.run();
      const delays: number[] = [];
      run.on('task-run:retried', (e) => delays.push(e.delayMs));
      const record = await within(run, 20_000, 'the flow');
      assert.equal(record.result, 4);
      assert.deepEqual(delays, [10, 30, 30]);
    });

    it('fails an attempt past timeoutMs with TaskTimeoutError, whether or not the task heeds its signal', async () => {
      const f = flow(async function timeoutFlow() {
        const cooperative = await sleep.withOptions({ timeoutMs: 50 }).submit(10_000, 'never').result().catch((e: unknown) => e);
        const ignoring = await stubborn.withOptions({ timeoutMs: 50 }).submit(1_000).result().catch((e: unknown) => e);
        return [cooperative, ignoring];
      }, { taskRunner: r.make() });
      const record = await within(f.run(), 20_000, 'the flow (timeouts must not wait for the task)');
      for (const error of record.result as unknown[]) {
        assert.ok(error instanceof TaskRunError, String(error));
        assert.ok(error.cause instanceof TaskTimeoutError, String(error.cause));
        assert.equal(error.cause.timeoutMs, 50);
        assert.match(error.cause.message, /timeoutMs \(50 ms\)/);
      }
      assert.deepEqual(record.taskRuns.map((t) => t.state), ['Failed', 'Failed']);
    });

    it("aborts a timed-out attempt's signal with the TaskTimeoutError", async () => {
      const marker = join(scratchDir('weft-timeout'), 'aborted');
      const f = flow(async function timeoutSignalFlow() {
        return awaitAbort.withOptions({ timeoutMs: 50 }).submit(marker).result().catch((e: unknown) => e);
      }, { taskRunner: r.make() });
      const record = await within(f.run(), 20_000, 'the flow');
      assert.ok((record.result as TaskRunError).cause instanceof TaskTimeoutError);
      // Runners that stop tasks by force may end the worker before the task's handler is done.
      if (!r.cancelKillsTasks) assert.equal(await readMarker(marker), 'TaskTimeoutError');
    });

    it('retries a timed-out attempt like any failure', async () => {
      const f = flow(async function timeoutRetryFlow() {
        return sleep.withOptions({ timeoutMs: 30, retries: 1 }).submit(10_000, 'never').result().catch((e: unknown) => e);
      }, { taskRunner: r.make() });
      const record = await within(f.run(), 20_000, 'the flow');
      assert.ok((record.result as TaskRunError).cause instanceof TaskTimeoutError);
      assert.equal(record.taskRuns[0]?.attempts, 2);
    });

    it('a synchronous task that outlives timeoutMs never ends Completed: Failed with TaskTimeoutError, retried like any timeout', async () => {
      // Where the runner cannot interrupt the body (the flow's thread, a cluster worker's event
      // loop) the attempt fails as soon as the body returns; threads and processes would stop a
      // body that ran on past the grace period; 300 ms ends before that, so both paths report here.
      const f = flow(async function syncTimeoutFlow() {
        const submitted = await block.withOptions({ timeoutMs: 100, retries: 1 }).submit(300, 'late').result().catch((e: unknown) => e);
        const inline = await block.withOptions({ timeoutMs: 100 })(300, 'late').catch((e: unknown) => e);
        return [submitted, inline];
      }, { taskRunner: r.make() });
      const run = f.run();
      const retriedWith: unknown[] = [];
      run.on('task-run:retried', (e) => retriedWith.push(e.error));
      const record = await within(run, 20_000, 'the flow');
      for (const error of record.result as unknown[]) {
        assert.ok(error instanceof TaskRunError, String(error));
        assert.ok(error.cause instanceof TaskTimeoutError, String(error.cause));
      }
      assert.deepEqual(record.taskRuns.map((t) => [t.state, t.attempts]), [['Failed', 2], ['Failed', 1]]);
      assert.equal(retriedWith.length, 1);
      assert.ok(retriedWith[0] instanceof TaskTimeoutError, String(retriedWith[0]));
    });

    it("keeps a task's own TimeoutError apart from weft's timeout", async () => {
      const f = flow(async function userTimeoutFlow() {
        return userTimeout.withOptions({ timeoutMs: 5_000 }).submit().result().catch((e: unknown) => e);
      }, { taskRunner: r.make() });
      const error = (await within(f.run(), 20_000, 'the flow')).result;
      assert.ok(error instanceof TaskRunError);
      assert.ok(!(error.cause instanceof TaskTimeoutError));
      assert.equal((error.cause as Error).name, 'TimeoutError');
      assert.equal((error.cause as Error).message, 'the upstream API timed out');
    });
  });
}
