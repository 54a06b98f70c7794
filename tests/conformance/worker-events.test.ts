import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flow } from '../../src/index.ts';
import { add } from '../fixtures/core/tasks.ts';
import { within } from '../helpers/eventually.ts';
import { RUNNERS } from './runners.ts';

for (const r of RUNNERS) {
  describe(`${r.name}: worker events`, () => {
    it('every worker that runs a task has joined before it, and leaves by the end of the run', { skip: r.sharedWorkers }, async () => {
      const f = flow(async function workerEventsFlow() {
        return Promise.all(add.map([1, 2, 3, 4], [1, 1, 1, 1]));
      }, { taskRunner: r.make({ workers: 2 }) });
      const run = f.run();
      const log: string[] = [];
      run.on('worker:joined', (e) => log.push(`joined ${e.workerId}`));
      run.on('worker:left', (e) => log.push(`left ${e.workerId}`));
      run.on('task-run:started', (e) => log.push(`started ${e.workerId}`));
      const record = await within(run, 20_000, 'the flow');
      assert.deepEqual(record.result, [2, 3, 4, 5]);
      const workers = new Set(record.taskRuns.map((t) => t.workerId));
      for (const w of workers) {
        const joined = log.indexOf(`joined ${w}`);
        assert.ok(joined >= 0, `${w} joined`);
        assert.ok(joined < log.indexOf(`started ${w}`), `${w} joined before its first task started`);
        assert.ok(log.lastIndexOf(`left ${w}`) > log.lastIndexOf(`started ${w}`), `${w} left after its last task`);
      }
    });
  });
}
