import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { flow, ParallelTaskRunner, SequentialTaskRunner, type TaskRunner } from '../../src/index.ts';
import { fanOut, grandparent, parent } from '../fixtures/core/nested.ts';
import { within } from '../helpers/eventually.ts';

// A task that waits on tasks it submitted gives its slot back while it waits (secede/rejoin), so
// in-process runners with every slot taken by waiting tasks do not deadlock.
const RUNNERS: [string, () => TaskRunner][] = [
  ['sequential', () => new SequentialTaskRunner()],
  ["async, 1 worker", () => new ParallelTaskRunner({ scheduler: 'async', workers: 1 })],
  ["async, 2 workers", () => new ParallelTaskRunner({ scheduler: 'async', workers: 2 })],
];

for (const [name, make] of RUNNERS) {
  describe(`nested submit on ${name}`, () => {
    it('a task that submits a task and awaits it completes', async () => {
      const f = flow(async function nestedOnce() {
        return Promise.all(parent.map([1, 2, 3]));
      }, { taskRunner: make() });
      assert.deepEqual(await within(f(), 20_000, 'the nested flow'), [20, 30, 40]);
    });

    it('fan-out with asCompleted and two levels of nesting complete', async () => {
      const f = flow(async function nestedDeep() {
        return { fan: await fanOut.submit(10), deep: await grandparent.submit(1) };
      }, { taskRunner: make() });
      const run = f.run();
      const joined = new Set<string>();
      const left = new Set<string>();
      run.on('worker:joined', (e) => joined.add(e.workerId));
      run.on('worker:left', (e) => left.add(e.workerId));
      const record = await within(run, 20_000, 'the nested flow');
      assert.equal(record.state, 'Completed', String(record.error));
      assert.deepEqual(record.result, { fan: [11, 12, 13], deep: [20, 30] });
      // Slots lent to waiting tasks were workers of their own, and every one of them is gone.
      assert.deepEqual([...left].sort(), [...joined].sort());
    });
  });
}
