import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flow, FlowRunError, TaskRunError, type FlowRunRecord, type WeftEventName } from '../../src/index.ts';
import { add, double, fail, flaky, sleep } from '../fixtures/core/tasks.ts';
import { within } from '../helpers/eventually.ts';
import { RUNNERS } from './runners.ts';

for (const r of RUNNERS) {
  describe(`${r.name}: flows, records, hooks and events`, () => {
    it('a flow called in a flow is a subflow with its own run; subflows run in parallel with Promise.all', async () => {
      const records: FlowRunRecord<unknown>[] = [];
      const child = flow(async function child(x: number, ms: number) {
        await sleep.submit(ms, 'slept');
        return double.submit(x).result();
      }, { taskRunner: r.make(), onTerminal: (run) => void records.push(run) });
      const parent = flow(async function parent() {
        const one = await child(1, 1);
        const [a, b] = await Promise.all([child(2, 60), child(3, 60)]);
        return one + a + b + (await add.submit(0, 0));
      }, { taskRunner: r.make() });
      const run = parent.run();
      const record = await within(run, 20_000, 'the parent flow');
      assert.equal(record.state, 'Completed');
      assert.equal(record.result, 12);
      assert.equal(records.length, 3);
      assert.deepEqual([...record.subflowRunIds].sort(), records.map((c) => c.id).sort());
      for (const c of records) {
        assert.equal(c.parentId, run.id);
        assert.equal(c.state, 'Completed');
        assert.deepEqual(c.taskRuns.map((t) => t.taskName), ['sleep', 'double'], "a subflow's task runs are on its own record");
      }
      assert.deepEqual(record.taskRuns.map((t) => t.taskName), ['add']);
      const byId = (id: string | undefined) => records.find((c) => c.id === id);
      const [second, third] = [byId(record.subflowRunIds[1]), byId(record.subflowRunIds[2])];
      assert.ok(second && third && second.startedAt < (third.endedAt ?? 0) && third.startedAt < (second.endedAt ?? 0), 'the two subflows overlapped');
    });

    it('a flow run ends after the subflow runs it started, awaited or not', async () => {
      const ended: string[] = [];
      const child = flow(async function unawaitedChild() {
        return sleep.submit(100, 'child');
      }, { taskRunner: r.make(), onTerminal: (run) => void ended.push(`child:${run.state}`) });
      const parent = flow(async function forgetfulParent() {
        void child.run();
        return 'returned at once';
      }, { taskRunner: r.make(), onTerminal: (run) => void ended.push(`parent:${run.state}`) });
      const record = await within(parent.run(), 20_000, 'the parent');
      assert.equal(record.state, 'Completed');
      assert.deepEqual(ended, ['child:Completed', 'parent:Completed']);
    });

    it('a flow whose function throws cancels the subflow runs still going', async () => {
      const ended: string[] = [];
      const child = flow(async function abandonedChild() {
        return sleep.submit(10_000, 'child');
      }, { taskRunner: r.make(), onTerminal: (run) => void ended.push(`child:${run.state}`) });
      const parent = flow(async function throwingParent() {
        child.run();
        await new Promise((resolve) => setTimeout(resolve, 10));
        throw new Error('parent failed');
      }, { taskRunner: r.make() });
      const record = await within(parent.run(), 20_000, 'the parent');
      assert.equal(record.state, 'Failed');
      assert.deepEqual(ended, ['child:Cancelled']);
    });

    it("a failed subflow rejects in its parent with FlowRunError; the parent fails unless it catches it", async () => {
      const child = flow(async function failingChild() {
        return fail.submit('child task failed').result();
      }, { taskRunner: r.make() });
      const catching = flow(async function catchingParent() {
        const error = await child().catch((e: unknown) => e);
        return error instanceof FlowRunError ? `${error.flowName}: ${error.state}` : 'no error';
      }, { taskRunner: r.make() });
      assert.equal(await within(catching(), 20_000, 'the catching parent'), 'failingChild: Failed');
      const letting = flow(async function lettingParent() {
        return child();
      }, { taskRunner: r.make() });
      const record = await within(letting.run(), 20_000, 'the parent');
      assert.equal(record.state, 'Failed');
      assert.ok(record.error instanceof FlowRunError);
      assert.ok(record.error.cause instanceof TaskRunError);
    });

    it('calls onCompletion or onFailure, then onTerminal, with the final record', async () => {
      const calls: string[] = [];
      const hooks = {
        onCompletion: (run: FlowRunRecord<unknown>) => void calls.push(`completion:${run.state}:${run.taskRuns.length}`),
        onFailure: (run: FlowRunRecord<unknown>) => void calls.push(`failure:${run.state}:${run.error?.name}`),
        onTerminal: (run: FlowRunRecord<unknown>) => void calls.push(`terminal:${run.state}:${run.taskRuns.map((t) => t.state).join(',')}`),
        taskRunner: r.make(),
      };
      const good = flow(async function good() {
        return add.submit(1, 1);
      }, hooks);
      const bad = flow(async function bad() {
        await add.submit(1, 1);
        return fail.submit('boom').result();
      }, hooks);
      assert.equal(await within(good(), 20_000, 'the good flow'), 2);
      await assert.rejects(within(bad(), 20_000, 'the bad flow'));
      assert.deepEqual(calls, [
        'completion:Completed:1', 'terminal:Completed:Completed',
        'failure:Failed:TaskRunError', 'terminal:Failed:Completed,Failed',
      ]);
    });

    it('await run resolves after async hooks have finished', async () => {
      const calls: string[] = [];
      const f = flow(async function asyncHooks() {
        return add.submit(1, 1);
      }, {
        taskRunner: r.make(),
        onCompletion: async () => {
          await new Promise((resolve) => setTimeout(resolve, 30));
          calls.push('completion');
        },
        onTerminal: async () => {
          await new Promise((resolve) => setTimeout(resolve, 30));
          calls.push('terminal');
        },
      });
      await within(f.run(), 20_000, 'the flow');
      assert.deepEqual(calls, ['completion', 'terminal']);
    });

    it('a hook that throws does not change the run', async () => {
      const f = flow(async function hookThrows() {
        return 1;
      }, { taskRunner: r.make(), onCompletion: () => { throw new Error('hook failed on purpose (expected in test output)'); } });
      const original = console.error;
      console.error = () => undefined;
      try {
        assert.equal(await within(f(), 20_000, 'the flow'), 1);
      } finally {
        console.error = original;
      }
    });

    it("the run record has every task run's state, timings, attempts and worker", async () => {
      const f = flow(async function recordFlow() {
        const ok = add.submit(1, 2);
        const retried = flaky.withOptions({ retries: 1 }).submit(1);
        const failed = fail.submit('x').result().catch(() => 'handled');
        const cancelled = sleep.submit(10_000, 'never');
        await Promise.all([ok, retried, failed]);
        cancelled.cancel();
        return 'done';
      }, { taskRunner: r.make() });
      const run = f.run();
      const record = await within(run, 20_000, 'the flow');
      assert.equal(record.id, run.id);
      assert.equal(record.flowName, 'recordFlow');
      assert.equal(record.state, 'Completed');
      assert.equal(record.result, 'done');
      assert.equal(record.parentId, undefined);
      assert.ok(record.endedAt !== undefined && record.endedAt >= record.startedAt);
      assert.equal(record.durationMs, record.endedAt - record.startedAt);
      assert.deepEqual(record.taskRuns.map((t) => [t.id, t.taskName, t.state]), [
        ['add-1', 'add', 'Completed'], ['flaky-1', 'flaky', 'Completed'], ['fail-1', 'fail', 'Failed'], ['sleep-1', 'sleep', 'Cancelled'],
      ]);
      assert.deepEqual(record.taskRuns.slice(0, 3).map((t) => t.attempts), [1, 2, 1]);
      assert.ok([0, 1].includes(record.taskRuns[3]?.attempts ?? -1), 'the cancelled run may or may not have started');
      // startedAt is stamped where the task runs, submittedAt and endedAt in the flow's process: allow
      // for two clocks that disagree a little.
      const skew = 50;
      for (const t of record.taskRuns) {
        assert.ok(t.endedAt !== undefined && t.endedAt >= t.submittedAt, `${t.id} has an end time`);
        if (t.attempts > 0) {
          assert.ok(t.startedAt !== undefined && t.submittedAt <= t.startedAt + skew && t.startedAt <= t.endedAt + skew, `${t.id} timings are ordered`);
          assert.equal(typeof t.workerId, 'string', `${t.id} names its worker`);
        }
      }
      assert.equal(record.taskRuns[2]?.error?.name, 'HttpError');
      assert.equal(record.taskRuns[3]?.error?.name, 'CancelledError');
      assert.deepEqual(record.counts, { Pending: 0, Running: 0, Retrying: 0, Completed: 2, Failed: 1, Crashed: 0, Cancelled: 1 });
      assert.equal(run.state, 'Completed');
    });

    it('emits submitted, started, (retried,) finished for every task run, in that order, and flow-run events around them', async () => {
      const f = flow(async function eventsFlow() {
        await Promise.all([...add.map([1, 2, 3], [1, 1, 1]), flaky.withOptions({ retries: 1 }).submit(1)]);
      }, { taskRunner: r.make() });
      const run = f.run();
      const log: { name: WeftEventName; id: string; workerId?: string | undefined }[] = [];
      for (const name of ['flow-run:started', 'flow-run:finished'] as const) run.on(name, (e) => log.push({ name, id: e.flowRunId }));
      run.on('task-run:submitted', (e) => log.push({ name: 'task-run:submitted', id: e.taskRunId }));
      run.on('task-run:started', (e) => log.push({ name: 'task-run:started', id: e.taskRunId, workerId: e.workerId }));
      run.on('task-run:retried', (e) => log.push({ name: 'task-run:retried', id: e.taskRunId }));
      run.on('task-run:finished', (e) => log.push({ name: 'task-run:finished', id: e.taskRunId, workerId: e.workerId }));
      const record = await within(run, 20_000, 'the flow');
      assert.deepEqual(log[0], { name: 'flow-run:started', id: run.id });
      assert.deepEqual(log.at(-1), { name: 'flow-run:finished', id: run.id });
      for (const t of record.taskRuns) {
        const mine = log.filter((e) => e.id === t.id);
        const expected = t.attempts === 2
          ? ['task-run:submitted', 'task-run:started', 'task-run:retried', 'task-run:started', 'task-run:finished']
          : ['task-run:submitted', 'task-run:started', 'task-run:finished'];
        assert.deepEqual(mine.map((e) => e.name), expected, t.id);
        assert.equal(mine.at(-1)?.workerId, t.workerId);
      }
      assert.equal(record.taskRuns.length, 4);
    });

    it('withOptions swaps the runner without touching the flow', async () => {
      const base = flow(async function swapped() {
        return add.submit(2, 2);
      });
      const run = base.withOptions({ taskRunner: r.make() }).run();
      let runner = '';
      run.on('flow-run:started', (e) => (runner = e.runner));
      assert.equal((await within(run, 20_000, 'the flow')).result, 4);
      assert.equal(runner, r.make().name);
      const defaultRun = base.run();
      let defaultRunner = '';
      defaultRun.on('flow-run:started', (e) => (defaultRunner = e.runner));
      await defaultRun;
      assert.equal(defaultRunner, 'sequential', 'the default runner is SequentialTaskRunner');
    });
  });
}
