import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flow } from '../../src/index.ts';
import { block, double } from '../fixtures/core/tasks.ts';
import { within } from '../helpers/eventually.ts';
import { RUNNERS } from './runners.ts';

for (const r of RUNNERS) {
  describe(`${r.name}: ordering`, () => {
    it('submit() and map() return before any task body runs, synchronous tasks included', async () => {
      // What the flow and the run's listeners saw, in the order they saw it (one process, one thread).
      const seen: string[] = [];
      const f = flow(async function returnsAtOnce() {
        const a = block.submit(100, 'a');
        const b = block.submit(100, 'b');
        seen.push('submit returned');
        const mapped = block.map([100, 100], ['c', 'd']);
        seen.push('map returned');
        return Promise.all([a, b, ...mapped]);
      }, { taskRunner: r.make({ workers: 2 }) });
      const run = f.run();
      run.on('task-run:started', (e) => seen.push(`started ${e.taskRunId}`));
      const record = await within(run, 30_000, 'the flow');
      assert.deepEqual(record.result, ['a', 'b', 'c', 'd']);
      assert.deepEqual(seen.slice(0, 2), ['submit returned', 'map returned'], `no run started inside submit() or map(): ${seen.join(', ')}`);
    });

    it("a run's finished event comes before the started event of the run its slot takes next", async () => {
      const f = flow(async function oneSlot() {
        return Promise.all(double.map(Array.from({ length: 300 }, (_, i) => i + 1)));
      }, { taskRunner: r.make({ workers: 1 }) });
      const run = f.run();
      // Per worker, what the stream says it is running: a started while another is unfinished overlaps.
      const running = new Map<string, string>();
      const overlaps: string[] = [];
      run.on('task-run:started', (e) => {
        const other = running.get(e.workerId);
        if (other !== undefined) overlaps.push(`${e.taskRunId} started on ${e.workerId} before ${other} finished`);
        running.set(e.workerId, e.taskRunId);
      });
      run.on('task-run:finished', (e) => {
        if (e.workerId !== undefined && running.get(e.workerId) === e.taskRunId) running.delete(e.workerId);
      });
      const record = await within(run, 30_000, 'the flow');
      assert.equal((record.result as number[]).length, 300);
      assert.deepEqual(overlaps, []);
    });
  });
}
