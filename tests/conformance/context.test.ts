import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotate, flow, getRunContext, InvalidOptionError, UsageError } from '../../src/index.ts';
import { add, chatty, context, flaky } from '../fixtures/core/tasks.ts';
import { within } from '../helpers/eventually.ts';
import { RUNNERS } from './runners.ts';

for (const r of RUNNERS) {
  describe(`${r.name}: annotate and run context`, () => {
    it('annotate applies to every submit inside it, nested annotations merged, async code included', async () => {
      const f = flow(async function annotateFlow() {
        const plain = add.submit(0, 0);
        const outer = annotate({ priority: 1, retries: 2 }, () => {
          const a = add.submit(1, 0);
          const nested = annotate({ priority: 3 }, () => [add.submit(2, 0), flaky.submit(2)]);
          return [a, ...nested];
        });
        const later = await annotate({ priority: 7 }, async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          await Promise.resolve();
          return add.submit(3, 0);
        });
        const mapped = annotate({ priority: 4 }, () => add.map([4], [0]));
        const definedPriority = annotate({ retries: 1 }, () => add.withOptions({ priority: 9 }).submit(5, 0));
        const values = await Promise.all([plain, ...outer, later, ...mapped, definedPriority]);
        return values;
      }, { taskRunner: r.make() });
      const run = f.run();
      const priorities = new Map<string, number>();
      run.on('task-run:submitted', (e) => priorities.set(e.taskRunId, e.priority));
      const record = await within(run, 20_000, 'the flow');
      assert.equal(record.state, 'Completed', String(record.error));
      assert.deepEqual(record.result, [0, 1, 2, 3, 3, 4, 5], 'flaky(2) succeeded on its third attempt: retries 2 reached it through the outer annotation');
      assert.deepEqual(Object.fromEntries(priorities), {
        'add-1': 0, 'add-2': 1, 'add-3': 3, 'flaky-1': 3, 'add-4': 7, 'add-5': 4, 'add-6': 9,
      });
      assert.equal(record.taskRuns.find((t) => t.id === 'flaky-1')?.attempts, 3);
    });

    it('annotate returns what its callback returns and validates its options', async () => {
      assert.equal(annotate({ priority: 1 }, () => 'value'), 'value');
      assert.throws(() => annotate({ retries: -1 }, () => 0), (e: unknown) => e instanceof InvalidOptionError && e.option === 'annotations.retries');
      assert.throws(() => annotate({ colour: 'red' } as never, () => 0), (e: unknown) => e instanceof InvalidOptionError && e.option === 'annotations.colour');
      assert.throws(() => annotate({ resources: { GPU: -1 } }, () => 0), (e: unknown) => e instanceof InvalidOptionError && e.option === 'annotations.resources.GPU');
    });

    it('getRunContext() inside a task gives its run, attempt, worker and signal', async () => {
      const f = flow(async function contextFlow() {
        const fromFlow = getRunContext();
        const future = context.submit();
        return { task: await future, taskRunId: future.taskRunId, flow: { flowRunId: fromFlow.flowRunId, flowName: fromFlow.flowName, taskRunId: fromFlow.taskRunId } };
      }, { taskRunner: r.make() });
      const run = f.run();
      const record = await within(run, 20_000, 'the flow');
      const out = record.result as { task: Awaited<ReturnType<typeof context.fn>>; taskRunId: string; flow: Record<string, unknown> };
      assert.deepEqual(out.task, {
        flowRunId: run.id, taskRunId: out.taskRunId, taskName: 'context', attempt: 1,
        workerId: record.taskRuns[0]?.workerId, hasSignal: true, aborted: false,
      });
      assert.equal(typeof out.task.workerId, 'string');
      assert.deepEqual(out.flow, { flowRunId: run.id, flowName: 'contextFlow', taskRunId: undefined });
    });

    it("a task's logger lines reach the flow's process as events, labelled with the task run", async () => {
      const f = flow(async function logsFlow() {
        getRunContext().logger.info('from the flow');
        return chatty.submit(7);
      }, { taskRunner: r.make() });
      const run = f.run();
      const lines: string[] = [];
      run.on('task-run:log', (e) => lines.push(`${e.level} ${e.taskRunId || '-'} ${e.taskName} ${e.message}`));
      const original = console.log;
      const originalWarn = console.warn;
      console.log = () => undefined;
      console.warn = () => undefined;
      try {
        await within(run, 20_000, 'the flow');
      } finally {
        console.log = original;
        console.warn = originalWarn;
      }
      assert.deepEqual(lines, [
        'info - logsFlow from the flow',
        'info chatty-1 chatty working on 7 { detail: [ 7 ] }',
        'warn chatty-1 chatty almost done',
      ]);
    });

    it('getRunContext() outside any run is a UsageError', () => {
      assert.throws(() => getRunContext(), UsageError);
    });
  });
}
