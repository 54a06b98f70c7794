/**
 * Scale inside one flow run (issue 2): 100,000 submitted tasks complete without stalls, and memory
 * does not grow with finished tasks whose results were consumed. Runs on the runners listed in
 * SCALE_RUNNERS (the in-process ones by default); the bounds are generous hang bounds, not timings.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { flow } from '../../src/index.ts';
import { big, noop } from '../fixtures/core/tasks.ts';
import { within } from '../helpers/eventually.ts';
import { RUNNERS } from './runners.ts';

const SCALE_RUNNERS = new Set(['async']);

setFlagsFromString('--expose_gc');
const gc = runInNewContext('gc') as () => void;

function heapAfterGc(): number {
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage().heapUsed;
}

for (const r of RUNNERS.filter((c) => SCALE_RUNNERS.has(c.name))) {
  describe(`${r.name}: scale`, () => {
    it('100,000 submitted no-op tasks complete', async () => {
      const n = 100_000;
      const f = flow(async function hundredThousand() {
        const futures = [];
        for (let i = 0; i < n; i++) futures.push(noop.submit());
        await Promise.all(futures);
        return futures.filter((x) => x.state === 'Completed').length;
      }, { taskRunner: r.make() });
      const record = await within(f.run(), 60_000, '100,000 no-op tasks');
      assert.equal(record.state, 'Completed');
      assert.equal(record.result, n);
      assert.equal(record.counts.Completed, n);
    });

    it('memory does not grow with finished tasks whose results were consumed', async () => {
      const batch = 30_000;
      const window = 2_000;
      // Its own function, so that nothing of a window stays reachable from the flow's frame.
      async function consumeWindow(start: number): Promise<number> {
        let bytes = 0;
        for (const x of await Promise.all(big.map(Array.from({ length: window }, (_, i) => start + i)))) bytes += x.length;
        return bytes;
      }
      const f = flow(async function consumed() {
        const heap: number[] = [];
        let bytes = 0;
        for (let b = 0; b < 3; b++) {
          for (let start = 0; start < batch; start += window) bytes += await consumeWindow(start);
          await new Promise((resolve) => setImmediate(resolve));
          heap.push(heapAfterGc());
        }
        return { heap, bytes };
      }, { taskRunner: r.make() });
      const record = await within(f.run(), 120_000, '3 batches of 30,000 tasks');
      const { heap, bytes } = record.result as { heap: number[]; bytes: number };
      assert.equal(bytes, 3 * batch * 10_000, 'every result was consumed');
      const [first = 0, second = 0, third = 0] = heap;
      // Each batch adds 30,000 small task run records (~0.2 KB each, ~6 MB); had the engine kept
      // their 10 KB results, each batch would add ~300 MB.
      const mb = (x: number) => (x / 2 ** 20).toFixed(1);
      const shown = heap.map(mb).join(', ');
      console.log(`heap after each batch: ${shown} MB`);
      assert.ok(third - first < 60 * 2 ** 20, `heap grew ${mb(third - first)} MB from batch 1 to batch 3 (${shown} MB)`);
      assert.ok(third - second < 30 * 2 ** 20, `heap grew ${mb(third - second)} MB from batch 2 to batch 3 (${shown} MB)`);
    });
  });
}
