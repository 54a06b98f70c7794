import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { flow, FlowRunError, TaskRunError, unmapped, UpstreamFailedError, UsageError, type TaskFuture } from '../../src/index.ts';
import { add, double, fail, sleep, sum, throwsString, touch } from '../fixtures/core/tasks.ts';
import { within } from '../helpers/eventually.ts';
import { scratchDir } from '../helpers/scratch.ts';
import { RUNNERS } from './runners.ts';

const scratch = () => scratchDir('weft-errors');

for (const r of RUNNERS) {
  describe(`${r.name}: errors`, () => {
    it("rejects with TaskRunError whose cause is the task's own error: name, message, own fields, stack", async () => {
      const f = flow(async function failFlow() {
        return fail.submit('service unavailable').result().catch((e: unknown) => e);
      }, { taskRunner: r.make() });
      const record = await within(f.run(), 20_000, 'the flow');
      const error = record.result;
      assert.ok(error instanceof TaskRunError, String(error));
      assert.equal(error.taskName, 'fail');
      assert.equal(error.taskRunId, 'fail-1');
      assert.equal(error.message, "Task run 'fail-1' of task 'fail' failed on attempt 1", 'its own fact; the cause tells its own');
      const cause = error.cause as Error & { statusCode?: unknown; retryable?: unknown };
      assert.equal(cause.name, 'HttpError');
      assert.equal(cause.message, 'service unavailable');
      assert.equal(cause.statusCode, 503);
      assert.equal(cause.retryable, true);
      assert.match(cause.stack ?? '', /fixtures[/\\]core[/\\]tasks\.ts/, 'the stack points into the task module');
      assert.equal(record.taskRuns[0]?.state, 'Failed');
      assert.equal(record.taskRuns[0]?.error?.name, 'HttpError');
      assert.equal(record.state, 'Completed', 'the flow handled the failure');
    });

    it('a thrown non-Error becomes an Error that keeps the thrown value', async () => {
      const f = flow(async function throwsStringFlow() {
        return throwsString.submit('plain text').result().catch((e: unknown) => e);
      }, { taskRunner: r.make() });
      const error = (await within(f.run(), 20_000, 'the flow')).result;
      assert.ok(error instanceof TaskRunError, String(error));
      const cause = error.cause as Error & { thrown?: unknown };
      assert.ok(cause instanceof Error);
      assert.match(cause.message, /A non-Error value was thrown: plain text/);
      assert.equal(cause.thrown, 'plain text');
    });

    it('does not run a task whose upstream failed; its future names the upstream task', async () => {
      const dir = scratch();
      const f = flow(async function upstreamFlow() {
        const bad = fail.submit('no data');
        const downstream = touch.submit(join(dir, 'arg'), bad);
        const inList = sum.submit([1, bad as unknown as TaskFuture<number>]);
        const ordered = touch.withOptions({ waitFor: [bad] }).submit(join(dir, 'waitFor'));
        const errors = await Promise.all([downstream, inList, ordered].map((x) => x.result().catch((e: unknown) => e)));
        await bad.result().catch(() => undefined);
        return errors;
      }, { taskRunner: r.make() });
      const record = await within(f.run(), 20_000, 'the flow');
      for (const error of record.result as unknown[]) {
        assert.ok(error instanceof UpstreamFailedError, String(error));
        assert.equal(error.upstreamTaskName, 'fail');
        assert.equal(error.upstreamTaskRunId, 'fail-1');
        assert.equal(error.upstreamState, 'Failed');
        assert.match(error.message, /upstream task run 'fail-1' \('fail'\) ended Failed/);
      }
      assert.equal(existsSync(join(dir, 'arg')), false, 'the downstream task did not run');
      assert.equal(existsSync(join(dir, 'waitFor')), false, 'the waitFor task did not run');
      const touched = record.taskRuns.filter((t) => t.taskName === 'touch');
      assert.deepEqual(touched.map((t) => [t.state, t.attempts, t.startedAt]), [['Failed', 0, undefined], ['Failed', 0, undefined]]);
    });

    it('fails the flow run when a task failed and its future was never awaited', async () => {
      const f = flow(async function unobservedFlow() {
        fail.submit('nobody looks at me');
        return add.submit(1, 2).result();
      }, { taskRunner: r.make() });
      const record = await within(f.run(), 20_000, 'the flow');
      assert.equal(record.state, 'Failed');
      assert.equal(record.result, undefined);
      assert.match(record.error?.message ?? '', /fail-1.*never awaited/);
      await assert.rejects(f(), (e: unknown) => e instanceof FlowRunError && e.state === 'Failed');
    });

    it('fails the flow run when a failure was handed downstream and never observed', async () => {
      const f = flow(async function unobservedChainFlow() {
        double.submit(fail.submit('deep') as unknown as TaskFuture<number>);
      }, { taskRunner: r.make() });
      const record = await within(f.run(), 20_000, 'the flow');
      assert.equal(record.state, 'Failed');
    });

    it('a flow whose function throws is Failed with FlowRunError, and its unfinished tasks are cancelled', async () => {
      const f = flow(async function throwingFlow() {
        sleep.submit(10_000, 'abandoned');
        throw new RangeError('the flow itself failed');
      }, { taskRunner: r.make() });
      const run = f.run();
      const record = await within(run, 20_000, 'the flow');
      assert.equal(record.state, 'Failed');
      assert.equal(record.error?.name, 'RangeError');
      assert.equal(record.taskRuns[0]?.state, 'Cancelled');
      await assert.rejects(run.result(), (e: unknown) => {
        assert.ok(e instanceof FlowRunError);
        assert.equal(e.flowName, 'throwingFlow');
        assert.equal(e.flowRunId, run.id);
        assert.equal((e.cause as Error).message, 'the flow itself failed');
        assert.match(e.message, /^Flow run '.+' of flow 'throwingFlow' failed$/);
        return true;
      });
    });

    it('rejects a future from another flow run', async () => {
      let foreign: TaskFuture<number> | undefined;
      const first = flow(async function firstFlow() {
        foreign = add.submit(1, 2);
        return foreign.result();
      }, { taskRunner: r.make() });
      await within(first(), 20_000, 'the first flow');
      const second = flow(async function secondFlow() {
        return double.submit(foreign as TaskFuture<number>).result();
      }, { taskRunner: r.make() });
      await assert.rejects(within(second(), 20_000, 'the second flow'), (e: unknown) => {
        assert.ok(e instanceof FlowRunError);
        assert.ok(e.cause instanceof UsageError);
        assert.match(e.cause.message, /future \(add-1\) from another flow run/);
        return true;
      });
    });

    it('rejects map over unequal lengths or a non-iterable', async () => {
      const f = flow(async function badMapFlow() {
        const unequal = (() => { try { add.map([1, 2], [1]); } catch (e) { return e; } })();
        const notIterable = (() => { try { add.map(5 as unknown as number[], [1]); } catch (e) { return e; } })();
        const allUnmapped = (() => { try { add.map(unmapped(1), unmapped(2)); } catch (e) { return e; } })();
        const text = (() => { try { add.map('12' as unknown as number[], [1, 2]); } catch (e) { return e; } })();
        return { unequal, notIterable, allUnmapped, text };
      }, { taskRunner: r.make() });
      const { unequal, notIterable, allUnmapped, text } = await within(f(), 20_000, 'the flow');
      assert.ok(allUnmapped instanceof UsageError);
      assert.match(allUnmapped.message, /needs at least one iterable to map over/);
      assert.ok(text instanceof Error && text.name === 'InvalidOptionError', 'a string is not mapped over character by character');
      assert.ok(unequal instanceof UsageError);
      assert.match(unequal.message, /add\.map\(\) got iterables of different lengths \(2, 1\)/);
      assert.ok(notIterable instanceof Error && notIterable.name === 'InvalidOptionError');
      assert.match(notIterable.message, /add\.map\(\) argument 0.*an iterable.*got `5` \(number\)/);
    });
  });
}

describe('tasks outside a flow', () => {
  it('submit outside a flow run is a UsageError that says what to do', () => {
    assert.throws(() => add.submit(1, 2), (e: unknown) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, /add\.submit\(\) was called outside a flow run/);
      return true;
    });
    assert.throws(() => add.map([1], [2]), UsageError);
  });

  it('a direct call outside a flow runs the function with its retries', async () => {
    assert.equal(await add(1, 2), 3);
    await assert.rejects(fail('direct'), (e: unknown) => e instanceof Error && e.name === 'HttpError');
  });
});
