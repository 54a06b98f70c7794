import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flow } from '../../src/index.ts';
import { viaClientErrors, viaClientTwice } from '../fixtures/core/nested.ts';
import { within } from '../helpers/eventually.ts';
import { RUNNERS } from './runners.ts';

for (const r of RUNNERS) {
  describe(`${r.name}: nested submission through getClient()`, () => {
    for (const workers of [1, 2]) {
      it(`tasks submitted from a task run on the same runner, in the same flow run, without deadlock (${workers} worker${workers > 1 ? 's' : ''})`, async () => {
        const f = flow(async function nestedClient() {
          return viaClientTwice.submit(1);
        }, { taskRunner: r.make({ workers }) });
        const run = f.run();
        const started: string[] = [];
        const finished: string[] = [];
        run.on('task-run:started', (e) => started.push(e.taskName));
        run.on('task-run:finished', (e) => finished.push(`${e.taskName} ${e.state}`));
        const record = await within(run, 60_000, 'the nested flow (a waiting parent must lend its slot)');
        assert.equal(record.state, 'Completed', String(record.error));
        const [low, high] = record.result as { mapped: number[]; single: number; flowRunId: string }[];
        assert.deepEqual([low?.mapped, low?.single, high?.mapped, high?.single], [[2, 3], 12, [102, 103], 112]);
        assert.equal(low?.flowRunId, run.id, 'a nested task runs as part of the same flow run');
        const names = ['leaf', 'leaf', 'leaf', 'leaf', 'leaf', 'leaf', 'viaClient', 'viaClient', 'viaClientTwice'];
        assert.deepEqual(record.taskRuns.map((t) => t.taskName).sort(), names, 'nested runs are in the flow run\'s record');
        assert.ok(record.taskRuns.every((t) => t.state === 'Completed'));
        // ... and on its event stream, as its own runs are.
        assert.deepEqual(started.sort(), names);
        assert.deepEqual(finished.sort(), names.map((n) => `${n} Completed`));
      });
    }

    it('a nested run that fails rejects with TaskRunError; getClient().map zips as task.map does', async () => {
      const f = flow(async function nestedErrors() {
        return viaClientErrors.submit();
      }, { taskRunner: r.make() });
      const { failed, unequal } = await within(f(), 60_000, 'the flow');
      assert.deepEqual(failed, { name: 'TaskRunError', cause: 'nested' });
      assert.match(unequal ?? '', /different lengths \(2, 1\)/);
    });
  });
}
