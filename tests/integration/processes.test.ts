/** ParallelTaskRunner({ scheduler: 'processes' }) against real child processes. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { transfer, WorkerCrashedError, WorkerStartError } from '../../src/index.ts';
import { readMarker } from '../helpers/eventually.ts';
import { rejection, runOn, schedulerCases } from '../fixtures/pool/cases.ts';
import * as t from '../fixtures/pool/tasks.ts';

schedulerCases('processes');

const dir = mkdtempSync(join(tmpdir(), 'weft-processes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a worker process killed with SIGKILL (by the task or from outside) crashes that task alone', async () => {
  const marker = join(dir, 'spin.pid');
  const errors: Error[] = [];
  const { record } = await runOn('processes', async () => {
    const others = t.add.map([1, 2], [1, 1]);
    errors.push(await rejection(t.killSelf.submit()));
    const victim = t.spin.submit(60_000, marker);
    process.kill(Number(await readMarker(marker, 30_000)), 'SIGKILL');
    errors.push(await rejection(victim));
    return Promise.all([...others, t.add.submit(3, 1)]);
  });
  assert.deepEqual(record.result, [2, 3, 4]);
  for (const e of errors) {
    assert.ok(e instanceof WorkerCrashedError, String(e));
    assert.match(e.message, /killed by SIGKILL/);
  }
});

test('transfer() is accepted on processes: the buffer is copied, the sender keeps it', async () => {
  const xs = new Float64Array(100).fill(1);
  const { record } = await runOn('processes', () => t.total.submit(transfer(xs)).result());
  assert.deepEqual(record.result, { sum: 100, length: 100 });
  assert.equal(xs.byteLength, 800);
});

test('workers that die at start-up fail the flow run with a clear error instead of looping', async () => {
  const saved = process.env.NODE_OPTIONS;
  process.env.NODE_OPTIONS = '--no-such-node-flag';
  try {
    let error: Error | undefined;
    const { record } = await runOn('processes', async () => {
      error = await rejection(t.add.submit(1, 1));
    });
    assert.equal(record.state, 'Completed');
    assert.ok(error instanceof WorkerStartError, String(error));
    assert.equal(error.attempts, 3);
    assert.match(error.workerId, /^process-\d+$/);
    assert.match(error.message, /could not start \(3 attempts in a row\).*before it was ready/);
  } finally {
    if (saved === undefined) delete process.env.NODE_OPTIONS;
    else process.env.NODE_OPTIONS = saved;
  }
});
