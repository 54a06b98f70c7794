import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { asCompleted, flow, TaskFuture, unmapped, wait } from '../../src/index.ts';
import { add, concat, double, echo, sleep, sum } from '../fixtures/core/tasks.ts';
import { within } from '../helpers/eventually.ts';
import { RUNNERS } from './runners.ts';

for (const r of RUNNERS) {
  describe(`${r.name}: futures`, () => {
    it('submit returns a future at once; result() gives the value, await and Promise.all work', async () => {
      const f = flow(async function submitFlow() {
        const future = add.submit(2, 3);
        assert.ok(future instanceof TaskFuture);
        const direct = await future.result();
        const awaited = await add.submit(4, 5);
        const all = await Promise.all([add.submit(1, 1), double.submit(21)]);
        return { direct, awaited, all, state: future.state };
      }, { taskRunner: r.make() });
      assert.deepEqual(await within(f(), 20_000, 'the flow'), { direct: 5, awaited: 9, all: [2, 42], state: 'Completed' });
    });

    it('an inline call runs the task and records a task run', async () => {
      const f = flow(async function inlineFlow() {
        return (await add(20, 22)) + (await double(1));
      }, { taskRunner: r.make() });
      const run = f.run();
      const record = await within(run, 20_000, 'the flow');
      assert.equal(record.result, 44);
      assert.deepEqual(record.taskRuns.map((t) => [t.taskName, t.state]), [['add', 'Completed'], ['double', 'Completed']]);
    });

    it('map zips its iterables and passes unmapped() values whole to every run', async () => {
      const f = flow(async function mapFlow() {
        const futures = add.map([1, 2, 3], new Set([10, 20, 30]));
        const wrapped = concat.map(['<', '['], unmapped([1, 2]), unmapped('>'));
        const fromGenerator = double.map((function* () { yield 1; yield 2; })());
        return { sums: await Promise.all(futures), wrapped: await Promise.all(wrapped), doubled: await Promise.all(fromGenerator), empty: add.map([], []).length };
      }, { taskRunner: r.make() });
      assert.deepEqual(await within(f(), 20_000, 'the flow'), { sums: [11, 22, 33], wrapped: ['<1,2>', '[1,2>'], doubled: [2, 4], empty: 0 });
    });

    it('passes futures (alone and in lists) as their values, waiting for them', async () => {
      const f = flow(async function chainFlow() {
        const a = sleep.submit(30, 'late');
        const b = add.submit(1, 2);
        const c = add.submit(b, 10); // 13
        const total = sum.submit([b, c, 100, double.submit(c)]); // 3 + 13 + 100 + 26
        const text = echo.submit(a);
        return { total: await total, text: await text, mapped: await Promise.all(add.map([b, c], unmapped(b))) };
      }, { taskRunner: r.make() });
      assert.deepEqual(await within(f(), 20_000, 'the flow'), { total: 142, text: 'late', mapped: [6, 16] });
    });

    it('waitFor orders a run after futures without passing their values', async () => {
      const f = flow(async function waitForFlow() {
        const first = sleep.submit(50, 'first');
        const second = add.withOptions({ waitFor: [first] }).submit(1, 1);
        return second.result();
      }, { taskRunner: r.make() });
      const run = f.run();
      // The order events reach the flow: causal, unlike time stamps from different workers' clocks.
      const seen: string[] = [];
      run.on('task-run:started', (e) => seen.push(`started ${e.taskName}`));
      run.on('task-run:finished', (e) => seen.push(`finished ${e.taskName}`));
      const record = await within(run, 20_000, 'the flow');
      assert.equal(record.result, 2);
      assert.deepEqual(seen, ['started sleep', 'finished sleep', 'started add', 'finished add']);
    });

    it('asCompleted yields futures in completion order', async () => {
      const f = flow(async function asCompletedFlow() {
        // Three runs at once bring up three workers (and load the task module in each) first.
        await Promise.all(sleep.map([20, 20, 20], ['a', 'b', 'c']));
        // Submitted slowest first; sequential runs them in that order, concurrent runners finish the fastest first.
        const futures = [sleep.submit(600, 'slow'), sleep.submit(300, 'mid'), sleep.submit(1, 'fast')];
        const settled: string[] = [];
        for (const x of futures) void x.wait().then(() => x.result()).then((label) => settled.push(label));
        const order: string[] = [];
        for await (const done of asCompleted(futures)) {
          assert.ok(done.future instanceof TaskFuture, 'the view carries the future itself');
          assert.ok(futures.includes(done.future));
          assert.equal(done.future.done, true);
          assert.equal(done.taskRunId, done.future.taskRunId);
          assert.equal(done.state, 'Completed');
          // What the types say: the view has no `then`, so awaiting it gives the view, not the value.
          assert.equal(await done, done);
          order.push(await done.result());
        }
        return { order, settled };
      }, { taskRunner: r.make({ workers: 3 }) });
      const { order, settled } = await within(f(), 20_000, 'the flow');
      assert.deepEqual(order, settled, 'the order the futures settled in');
      // Where completion order is certain (in process, no worker start-up), check it outright.
      if (r.name === 'sequential') assert.deepEqual(order, ['slow', 'mid', 'fast']);
      if (r.name === 'async') assert.deepEqual(order, ['fast', 'mid', 'slow']);
    });

    it('wait({ timeoutMs }) splits futures into done and notDone', async () => {
      const f = flow(async function waitFlow() {
        const quick = add.submit(1, 2);
        const slow = sleep.submit(5_000, 'slow');
        await quick;
        const { done, notDone } = await wait([quick, slow], { timeoutMs: 50 });
        const result = { done: [...done].map((x) => x.taskName), notDone: [...notDone].map((x) => x.taskName) };
        slow.cancel();
        const all = await wait([quick]);
        return { ...result, allDone: all.done.size, allNotDone: all.notDone.size };
      }, { taskRunner: r.make() });
      assert.deepEqual(await within(f(), 20_000, 'the flow'), { done: ['add'], notDone: ['sleep'], allDone: 1, allNotDone: 0 });
    });

    it('asCompleted and wait with timeoutMs 0 give the futures already done before the timeout applies', async () => {
      const f = flow(async function timeoutZeroFlow() {
        const quick = add.submit(1, 2);
        const slow = sleep.submit(5_000, 'slow');
        await quick;
        const yielded: string[] = [];
        let timedOut: unknown;
        try {
          for await (const done of asCompleted([quick, slow], { timeoutMs: 0 })) yielded.push(done.taskName);
        } catch (error) {
          timedOut = error;
        }
        const onlyDone: string[] = [];
        for await (const done of asCompleted([quick], { timeoutMs: 0 })) onlyDone.push(done.taskName);
        const { done, notDone } = await wait([quick, slow], { timeoutMs: 0 });
        slow.cancel();
        return { yielded, timedOut: (timedOut as Error)?.name, onlyDone, done: [...done].map((x) => x.taskName), notDone: [...notDone].map((x) => x.taskName) };
      }, { taskRunner: r.make() });
      assert.deepEqual(await within(f(), 20_000, 'the flow'), {
        yielded: ['add'], timedOut: 'AsCompletedTimeoutError', onlyDone: ['add'], done: ['add'], notDone: ['sleep'],
      });
    });

    it('future.wait() resolves the final state and never rejects', async () => {
      const f = flow(async function waitStateFlow() {
        const ok = add.submit(1, 2);
        const cancelled = sleep.submit(5_000, 'never');
        cancelled.cancel();
        return [await ok.wait(), await cancelled.wait()];
      }, { taskRunner: r.make() });
      assert.deepEqual(await within(f(), 20_000, 'the flow'), ['Completed', 'Cancelled']);
    });
  });
}
