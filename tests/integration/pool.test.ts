/**
 * The local pool's own rules, with scripted worker handles: start-up failures, the crash-loop
 * guard, suspects of a crash run alone, pipelining only for short tasks.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveTaskOptions } from '../../src/core/options.ts';
import { RunSignal } from '../../src/core/run-signal.ts';
import type { TaskJob, TaskOutcome } from '../../src/core/task-runner.ts';
import { WorkerCrashedError, WorkerStartError } from '../../src/errors.ts';
import { Pool } from '../../src/pool/pool.ts';
import type { HandleOutcome, WorkerHandle } from '../../src/pool/worker-handle.ts';
import { within } from '../helpers/eventually.ts';

function job(name: string, priority = 0): TaskJob {
  return {
    taskRunId: `${name}-1`, flowRunId: 'flow', ref: { module: 'file:///x.ts', name }, fn: () => undefined, args: [],
    options: resolveTaskOptions({ priority }, undefined, name), cancellation: new RunSignal(), readyTime: 0,
    runHere: () => Promise.resolve({ state: 'Completed', value: undefined }),
  };
}

/** A handle whose jobs end as `script` says; it dies when an outcome is not Completed. */
class ScriptedHandle implements WorkerHandle {
  alive = true;
  closed = false;
  readonly ran: { name: string; crashes: number; inFlight: number }[] = [];
  #inFlight = 0;
  constructor(
    readonly id: string,
    readonly script: (job: TaskJob, crashes: number) => HandleOutcome,
  ) {}
  async run(j: TaskJob, crashes = 0): Promise<HandleOutcome> {
    this.ran.push({ name: j.options.name, crashes, inFlight: ++this.#inFlight });
    await new Promise((r) => setTimeout(r, 1));
    this.#inFlight--;
    const outcome = this.script(j, crashes);
    if (outcome.state !== 'Completed') this.alive = false;
    return outcome;
  }
  async close(): Promise<void> {
    this.closed = true;
    this.alive = false;
  }
}

const done = (): HandleOutcome => ({ state: 'Completed', value: 1, serviceMs: 0.01 });

test('a worker that fails at start-up fails start(); the workers that did start are closed', async () => {
  const made: ScriptedHandle[] = [];
  const pool = new Pool({
    size: 2, resources: {},
    createHandle: (i) => {
      if (i === 1) throw new WorkerStartError('thread-1', 1, 'it exited with code 1 before it was ready');
      const h = new ScriptedHandle(`h${i}`, done);
      made.push(h);
      return h;
    },
  });
  await assert.rejects(pool.start(), WorkerStartError);
  assert.equal(pool.state, 'failed');
  assert.ok(made.every((h) => h.closed));
});

test('replacements that keep dying at start-up fail the pool after a few tries instead of looping', async () => {
  let creations = 0;
  const pool = new Pool({
    size: 1, resources: {},
    createHandle: async () => {
      if (++creations > 1) throw new Error('exited with code 1 before it was ready');
      return new ScriptedHandle('h0', () => ({ state: 'Crashed', error: new Error('died') }));
    },
  });
  await pool.start();
  const first = pool.submit(job('a'));
  const second = pool.submit(job('b'));
  const outcomes: TaskOutcome[] = await within(Promise.all([first, second]), 10_000, 'pool settling its jobs');
  assert.equal(outcomes[0]?.state, 'Crashed');
  assert.equal(outcomes[1]?.state, 'Crashed');
  assert.ok((outcomes[1] as { error: Error }).error instanceof WorkerStartError);
  assert.match(String((outcomes[1] as { error: Error }).error.message), /could not start \(3 attempts in a row\)/);
  assert.equal(creations, 4, 'the first worker and three failed replacements');
  assert.equal(pool.state, 'failed');
  await pool.shutdown();
});

test('jobs caught in a crash with others run again alone; the one that crashes alone is charged', async () => {
  const handles: ScriptedHandle[] = [];
  const pool = new Pool({
    size: 1, resources: {}, pipelineDepth: 4,
    createHandle: () => {
      const first = handles.length === 0;
      const h: ScriptedHandle = new ScriptedHandle(`h${handles.length}`, (j) => {
        const bad = j.args[0] === 'crash';
        // The first worker dies with several jobs in it: it cannot tell which one did it.
        if (first && (bad || !h.alive)) return { state: 'Requeue', suspect: true };
        if (bad) return { state: 'Crashed', error: new WorkerCrashedError('ok', h.id, 'exited with code 3') };
        return done();
      });
      handles.push(h);
      return h;
    },
  });
  await pool.start();
  // Teach the pool that 'ok' is short, so the next ones are pipelined into one worker.
  assert.equal((await pool.submit(job('ok'))).state, 'Completed');
  const crashing = { ...job('ok'), args: ['crash'] };
  const outcomes = await within(Promise.all([pool.submit(job('ok')), pool.submit(crashing), pool.submit(job('ok'))]), 10_000, 'pool');
  await pool.shutdown();
  assert.deepEqual(outcomes.map((o) => o.state), ['Completed', 'Crashed', 'Completed']);
  const suspects = handles.slice(1).flatMap((h) => h.ran).filter((r) => r.crashes > 0);
  assert.ok(suspects.length >= 2, 'the jobs caught in the crash ran again');
  assert.ok(suspects.every((r) => r.inFlight === 1), 'each suspect ran alone');
});

test('only short, measured tasks are pipelined; unknown and long ones wait for an idle worker', async () => {
  const h = new ScriptedHandle('h0', (j) => ({ state: 'Completed', value: 1, serviceMs: j.options.name === 'long' ? 50 : 0.01 }));
  const pool = new Pool({ size: 1, resources: {}, pipelineDepth: 8, createHandle: () => h });
  await pool.start();
  await Promise.all([pool.submit(job('long')), pool.submit(job('long')), pool.submit(job('long'))]);
  assert.deepEqual(h.ran.map((r) => r.inFlight), [1, 1, 1]);
  await pool.submit(job('short'));
  h.ran.length = 0;
  await Promise.all(Array.from({ length: 6 }, () => pool.submit(job('short'))));
  assert.ok(Math.max(...h.ran.map((r) => r.inFlight)) > 1, 'short jobs were pipelined');
  await pool.shutdown();
});
