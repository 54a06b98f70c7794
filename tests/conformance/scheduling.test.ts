import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotate, flow, InvalidOptionError } from '../../src/index.ts';
import { span } from '../fixtures/core/tasks.ts';
import { within } from '../helpers/eventually.ts';
import { RUNNERS } from './runners.ts';

interface Span { label: string; start: number; end: number }

/** The most spans running at one moment. */
function maxOverlap(spans: readonly Span[]): number {
  const points = spans.flatMap((s) => [{ t: s.start, d: 1 }, { t: s.end, d: -1 }]).sort((a, b) => a.t - b.t || a.d - b.d);
  let now = 0;
  let max = 0;
  for (const p of points) max = Math.max(max, (now += p.d));
  return max;
}

for (const r of RUNNERS) {
  describe(`${r.name}: priority and resources`, () => {
    it('starts queued tasks by priority, first-in first-out within a priority', { skip: r.noPriorityWithinTurn }, async () => {
      const f = flow(async function priorityFlow() {
        // A first run makes sure the one worker is up (some runners start workers lazily, and
        // tasks queued before then start by priority alone), so the blocker takes it at once.
        await span.submit(1, 'warm-up');
        const futures = [span.submit(50, 'blocker')];
        futures.push(span.withOptions({ priority: 0 }).submit(1, 'low-1'));
        futures.push(span.submit(1, 'low-2'));
        futures.push(span.withOptions({ priority: 10 }).submit(1, 'high-1'));
        futures.push(annotate({ priority: 10 }, () => span.submit(1, 'high-2')));
        futures.push(span.withOptions({ priority: 5 }).submit(1, 'mid'));
        futures.push(span.withOptions({ priority: -1 }).submit(1, 'negative'));
        return Promise.all(futures);
      }, { taskRunner: r.make({ workers: 1 }) });
      const run = f.run();
      const startedIds: string[] = [];
      run.on('task-run:started', (e) => startedIds.push(e.taskRunId));
      const record = await within(run, 20_000, 'the flow');
      const spans = record.result as (Span & { taskRunId: string })[];
      startedIds.shift(); // the warm-up
      const byStart = [...spans].sort((a, b) => a.start - b.start).map((s) => s.label);
      assert.deepEqual(byStart, ['blocker', 'high-1', 'high-2', 'mid', 'low-1', 'low-2', 'negative']);
      const idToLabel = new Map(spans.map((s) => [s.taskRunId, s.label]));
      assert.deepEqual(startedIds.map((id) => idToLabel.get(id)), byStart, 'the started events agree');
    });

    it('runs at most `workers` tasks at once', async () => {
      const f = flow(async function boundedFlow() {
        return Promise.all(span.map([40, 40, 40, 40, 40, 40], ['a', 'b', 'c', 'd', 'e', 'f']));
      }, { taskRunner: r.make({ workers: 2 }) });
      const spans = await within(f(), 20_000, 'the flow');
      assert.ok(maxOverlap(spans) <= 2, `at most 2 at once, saw ${maxOverlap(spans)}`);
    });

    it('a task needing { process: 1 } on a runner with { process: 1 } runs one at a time; others pass it', async () => {
      const f = flow(async function exclusiveFlow() {
        const exclusive = span.withOptions({ resources: { process: 1 } });
        const held = exclusive.map([30, 30, 30, 30], ['x1', 'x2', 'x3', 'x4']);
        const free = span.map([1, 1], ['free-1', 'free-2']);
        return { held: await Promise.all(held), free: await Promise.all(free) };
      }, { taskRunner: r.make({ workers: 4, resources: { process: 1 } }) });
      const { held, free } = await within(f(), 20_000, 'the flow');
      assert.equal(maxOverlap(held), 1, 'tasks holding the one process never overlap');
      assert.equal(free.length, 2);
    });

    it('a task needing more than the runner has is an error at submit, naming the resource, not a hang', { skip: r.noCapacityCheck }, async () => {
      const f = flow(async function tooMuchFlow() {
        const errors: unknown[] = [];
        try { span.withOptions({ resources: { GPU: 3 } }).submit(1, 'x'); } catch (e) { errors.push(e); }
        try { annotate({ resources: { TPU: 1 } }, () => span.submit(1, 'y')); } catch (e) { errors.push(e); }
        const fits = await span.withOptions({ resources: { GPU: 2 } }).submit(1, 'fits');
        return { errors, fits: fits.label };
      }, { taskRunner: r.make({ resources: { GPU: 2 } }) });
      const { errors, fits } = await within(f(), 20_000, 'the flow');
      assert.equal(fits, 'fits');
      assert.equal(errors.length, 2);
      const [gpu, tpu] = errors;
      assert.ok(gpu instanceof InvalidOptionError);
      assert.equal(gpu.option, 'resources.GPU');
      assert.match(gpu.message, /at most 2.*task 'span' could never run.*got `3`/);
      assert.ok(tpu instanceof InvalidOptionError);
      assert.equal(tpu.option, 'resources.TPU');
      assert.match(tpu.message, /at most 0/);
    });
  });
}
