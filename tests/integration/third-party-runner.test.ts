/**
 * A task runner written outside weft, from the names weft's entry point exports and nothing else
 * (the first case checks this file's imports): the plug point is implementable by a third party.
 * It runs a few tasks at a time in the flow's process, lends a slot to tasks that wait on other
 * tasks, and learns of cancels only through each job's cancellation, as the contract says.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  CancelledError, flow, getRunContext, task,
  type Lend, type LifecycleState, type Resources, type RunnerContext, type TaskJob, type TaskOutcome, type TaskRunner,
} from '../../src/index.ts';
import { within } from '../helpers/eventually.ts';

/** At most `slots` tasks at once, first come first served. */
class FewAtATime implements TaskRunner {
  readonly name: string;
  readonly capacity: Resources = {};
  readonly serializes = false;
  state: LifecycleState = 'idle';
  #context: RunnerContext | undefined;
  #free: number;
  readonly #queue: { job: TaskJob; resolve: (o: TaskOutcome) => void }[] = [];
  readonly #loans = new Map<string, number>();

  constructor(readonly slots: number) {
    this.name = `few(${slots})`;
    this.#free = slots;
  }

  async start(context: RunnerContext): Promise<void> {
    this.#context = context;
    this.state = 'running';
    context.events.emit('worker:joined', { workerId: 'few', resources: {}, time: Date.now() });
  }

  submit(job: TaskJob): Promise<TaskOutcome> {
    return new Promise((resolve) => {
      this.#queue.push({ job, resolve });
      this.#pump();
    });
  }

  async shutdown(): Promise<void> {
    for (const { resolve } of this.#queue.splice(0)) resolve({ state: 'Cancelled', error: new CancelledError('shut down') });
    this.state = 'closed';
    this.#context?.events.emit('worker:left', { workerId: 'few', reason: 'shut down', time: Date.now() });
  }

  duplicate(): TaskRunner {
    return new FewAtATime(this.slots);
  }

  /** One slot more while a holder waits, however many of its waits overlap. */
  readonly #lend: Lend = (holder) => {
    const n = this.#loans.get(holder) ?? 0;
    this.#loans.set(holder, n + 1);
    if (n === 0) this.#release();
    let back = false;
    return () => {
      if (back) return;
      back = true;
      const left = (this.#loans.get(holder) ?? 1) - 1;
      if (left > 0) return void this.#loans.set(holder, left);
      this.#loans.delete(holder);
      this.#free--;
    };
  };

  #release(): void {
    this.#free++;
    this.#pump();
  }

  #pump(): void {
    while (this.#free > 0 && this.#queue.length > 0) {
      const { job, resolve } = this.#queue.shift() as { job: TaskJob; resolve: (o: TaskOutcome) => void };
      if (job.cancellation.aborted) {
        resolve({ state: 'Cancelled', error: job.cancellation.reason as Error });
        continue;
      }
      this.#free--;
      void job.runHere('few', this.#lend).then((outcome) => {
        resolve(outcome);
        this.#release();
      });
    }
  }
}

export const square = task(async function square(x: number) {
  await new Promise((r) => setTimeout(r, 5));
  return x * x;
});
export const sumOfSquares = task(async function sumOfSquares(n: number) {
  // Waits on tasks it submits: with one slot, it must lend its own.
  const futures = square.map(Array.from({ length: n }, (_, i) => i));
  const values = await Promise.all(futures);
  return values.reduce((a, b) => a + b, 0);
});
let tries = 0;
export const flakyOnce = task(async function flakyOnce() {
  if (tries++ === 0) throw new Error('first try fails');
  return 'second try';
}, { retries: 1 });
export const waitForAbort = task(async function waitForAbort() {
  const { signal } = getRunContext();
  await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  return 'aborted';
});

describe('a task runner written from the public exports alone', () => {
  it('this file imports nothing of weft but its entry point', () => {
    const source = readFileSync(new URL(import.meta.url), 'utf8');
    const weftImports = [...source.matchAll(/from '(\.\.\/\.\.\/src\/[^']+)'/g)].map((m) => m[1]);
    assert.ok(weftImports.length > 0);
    assert.deepEqual([...new Set(weftImports)], ['../../src/index.ts']);
  });

  it('runs tasks with retries, run context and events, and lends its one slot to a task waiting on others', async () => {
    const f = flow(async function thirdParty() {
      return Promise.all([sumOfSquares.submit(4), flakyOnce.submit()]);
    }, { taskRunner: new FewAtATime(1) });
    const run = f.run();
    const started: string[] = [];
    run.on('task-run:started', (e) => started.push(`${e.taskRunId}#${e.attempt}@${e.workerId}`));
    const record = await within(run, 10_000, 'the flow');
    assert.equal(record.state, 'Completed');
    assert.deepEqual(record.result, [0 + 1 + 4 + 9, 'second try']);
    assert.ok(started.includes('flakyOnce-1#2@few'), started.join(' '));
    assert.deepEqual(record.taskRuns.map((t) => [t.id, t.state]).sort(), [
      ['flakyOnce-1', 'Completed'], ['square-1', 'Completed'], ['square-2', 'Completed'], ['square-3', 'Completed'], ['square-4', 'Completed'], ['sumOfSquares-1', 'Completed'],
    ]);
  });

  it('cancelling the flow run reaches a running task through its job cancellation, and queued ones never start', async () => {
    const f = flow(async function thirdPartyCancel() {
      return Promise.allSettled([waitForAbort.submit(), square.submit(3)]);
    }, { taskRunner: new FewAtATime(1) });
    const run = f.run();
    run.on('task-run:started', (e) => {
      if (e.taskName === 'waitForAbort') setImmediate(() => run.cancel('stop'));
    });
    const record = await within(run, 10_000, 'the flow');
    assert.equal(record.state, 'Cancelled');
    assert.deepEqual(record.taskRuns.map((t) => [t.id, t.state, t.attempts]), [['waitForAbort-1', 'Cancelled', 1], ['square-1', 'Cancelled', 0]]);
  });
});
