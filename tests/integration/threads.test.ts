/** ParallelTaskRunner({ scheduler: 'threads' }) against real worker threads. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { transfer } from '../../src/index.ts';
import { runOn, schedulerCases } from '../fixtures/pool/cases.ts';
import * as t from '../fixtures/pool/tasks.ts';

schedulerCases('threads');

test('transfer(buffer) moves an ArrayBuffer to a thread without a copy; unmarked buffers are copied', async () => {
  const moved = new Float64Array(1_000).fill(2);
  const copied = new Float64Array(1_000).fill(3);
  const { record } = await runOn('threads', async () => {
    const a = t.total.submit(transfer(moved));
    const b = t.total.submit(copied);
    return Promise.all([a.result(), b.result()]);
  });
  assert.deepEqual(record.result, [{ sum: 2_000, length: 1_000 }, { sum: 3_000, length: 1_000 }]);
  assert.equal(moved.byteLength, 0, 'the moved buffer is detached here');
  assert.equal(copied.byteLength, 8_000, 'the copied buffer is intact');
});
