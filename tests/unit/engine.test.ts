/**
 * The engine against stub runners (what a broken runner does to a flow run), and the small
 * runner-independent pieces: task identity, isMain, asCompleted/wait options.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import {
  AsCompletedTimeoutError, asCompleted, flow, FlowRunError, InvalidOptionError, SequentialTaskRunner, TaskNotFoundError, TaskRunError,
  UpstreamFailedError, wait, WorkerCrashedError, type TaskJob, type TaskOutcome, type TaskRunner,
} from '../../src/index.ts';
import { findTask, loadTask, registerTask } from '../../src/protocol/task-ref.ts';
import { add, retried, sleep } from '../fixtures/core/tasks.ts';
import { within } from '../helpers/eventually.ts';

/** A runner whose parts misbehave as asked; otherwise a SequentialTaskRunner. */
function stubRunner(faults: { start?: boolean; submitThrows?: boolean; submitRejects?: boolean; shutdown?: boolean }): TaskRunner {
  const inner = new SequentialTaskRunner();
  const runner: TaskRunner = {
    name: 'stub', serializes: false, capacity: {},
    get state() { return inner.state; },
    async start(context) {
      if (faults.start) throw new Error('no workers could start');
      return inner.start(context);
    },
    submit(job: TaskJob): Promise<TaskOutcome> {
      if (faults.submitThrows) throw new RangeError('cannot send that');
      if (faults.submitRejects) return Promise.reject(new Error('the worker vanished'));
      return inner.submit(job);
    },
    async shutdown() {
      await inner.shutdown();
      if (faults.shutdown) throw new Error('shutdown failed');
    },
    duplicate: () => runner,
  };
  return runner;
}

describe('the engine with a misbehaving runner', () => {
  it('a runner that cannot start makes the flow run Crashed, and the flow function never runs', async () => {
    let ran = false;
    const f = flow(async function noStart() {
      ran = true;
    }, { taskRunner: stubRunner({ start: true }) });
    const run = f.run();
    const record = await within(run, 5_000, 'the flow');
    assert.equal(record.state, 'Crashed');
    assert.equal(record.error?.message, 'no workers could start');
    assert.equal(ran, false);
    await assert.rejects(run.result(), (e: unknown) => e instanceof FlowRunError && e.state === 'Crashed');
  });

  it("a runner's submit that throws fails that task run; one that rejects crashes it", async () => {
    const throws = flow(async function submitThrows() {
      return add.submit(1, 2).result().catch((e: unknown) => e);
    }, { taskRunner: stubRunner({ submitThrows: true }) });
    const thrown = await within(throws.run(), 5_000, 'the flow');
    assert.ok(thrown.result instanceof TaskRunError);
    assert.equal((thrown.result.cause as Error).message, 'cannot send that');
    assert.equal(thrown.taskRuns[0]?.state, 'Failed');

    const rejects = flow(async function submitRejects() {
      return add.submit(1, 2).result().catch((e: unknown) => e);
    }, { taskRunner: stubRunner({ submitRejects: true }) });
    const rejected = await within(rejects.run(), 5_000, 'the flow');
    assert.equal(rejected.taskRuns[0]?.state, 'Crashed');
    assert.ok(!(rejected.result instanceof TaskRunError), 'a crash is not a task failure');
    assert.equal((rejected.result as Error).message, 'the worker vanished');
  });

  it('a crash is never a failure: Crashed state, the crash error itself, and downstream names the crash', async () => {
    const inner = new SequentialTaskRunner();
    const crashing: TaskRunner = {
      name: 'crashing', serializes: false, capacity: {},
      get state() { return inner.state; },
      start: (context) => inner.start(context),
      submit: (job) => job.options.name === 'add' && job.args[0] === 13
        ? Promise.resolve({ state: 'Crashed', error: new WorkerCrashedError('add', 'thread-7', 'exited with code 134'), workerId: 'thread-7' })
        : inner.submit(job),
      shutdown: () => inner.shutdown(),
      duplicate: () => crashing,
    };
    const f = flow(async function crashFlow() {
      const crashed = add.submit(13, 0);
      const downstream = add.submit(crashed, 1);
      const errors = await Promise.all([crashed, downstream].map((x) => x.result().catch((e: unknown) => e)));
      return errors;
    }, { taskRunner: crashing });
    const record = await within(f.run(), 5_000, 'the flow');
    const [crash, upstream] = record.result as unknown[];
    assert.ok(crash instanceof WorkerCrashedError, String(crash));
    assert.ok(!(crash instanceof TaskRunError));
    assert.ok(upstream instanceof UpstreamFailedError);
    assert.equal(upstream.upstreamState, 'Crashed');
    assert.match(upstream.message, /ended Crashed/);
    assert.deepEqual(record.taskRuns.map((t) => [t.state, t.workerId]), [['Crashed', 'thread-7'], ['Failed', undefined]]);
    assert.deepEqual([record.counts.Crashed, record.counts.Failed], [1, 1]);

    const unobserved = flow(async function unobservedCrash() {
      add.submit(13, 0);
    }, { taskRunner: crashing });
    assert.equal((await within(unobserved.run(), 5_000, 'the flow')).state, 'Failed', 'an unobserved crash fails the flow run');
  });

  it('a runner that fails to shut down does not change the run', async () => {
    const f = flow(async function badShutdown() {
      return add.submit(1, 2);
    }, { taskRunner: stubRunner({ shutdown: true }) });
    const original = console.error;
    console.error = () => undefined;
    try {
      const record = await within(f.run(), 5_000, 'the flow');
      assert.equal(record.state, 'Completed');
      assert.equal(record.result, 3);
    } finally {
      console.error = original;
    }
  });

  it('run.state is Running until the run ends', async () => {
    const f = flow(async function stateFlow() {
      return sleep.submit(20, 'x');
    });
    const run = f.run();
    assert.equal(run.state, 'Running');
    await run;
    assert.equal(run.state, 'Completed');
  });

  it('task runs keep their tags on the record', async () => {
    const f = flow(async function tagsFlow() {
      await retried.submit(0);
      await add.withOptions({ tags: ['math'] }).submit(1, 1);
      await add.submit(1, 1);
    });
    const record = await within(f.run(), 5_000, 'the flow');
    assert.deepEqual(record.taskRuns.map((t) => t.tags), [['flaky', 'network'], ['math'], []]);
  });
});

describe('asCompleted and wait options', () => {
  it('asCompleted with timeoutMs throws AsCompletedTimeoutError naming how many are left', async () => {
    const f = flow(async function asCompletedTimeout() {
      const quick = add.submit(1, 1);
      const slow = sleep.submit(5_000, 'slow');
      const seen: string[] = [];
      let error: unknown;
      try {
        for await (const x of asCompleted([quick, slow], { timeoutMs: 50 }) as AsyncIterable<unknown>) seen.push(String(x));
      } catch (e) {
        error = e;
      }
      slow.cancel();
      const empty: unknown[] = [];
      for await (const x of asCompleted([]) as AsyncIterable<unknown>) empty.push(x);
      return { seen, error, empty };
    });
    const { seen, error, empty } = await within(f(), 5_000, 'the flow');
    assert.deepEqual(seen, ['TaskFuture(add-1, Completed)']);
    assert.ok(error instanceof AsCompletedTimeoutError);
    assert.equal(error.notDone, 1);
    assert.equal(error.timeoutMs, 50);
    assert.deepEqual(empty, []);
  });

  it('wait and asCompleted reject a bad timeoutMs', async () => {
    await assert.rejects(wait([], { timeoutMs: -1 }), (e: unknown) => e instanceof InvalidOptionError && e.option === 'timeoutMs');
    assert.deepEqual(await wait([]), { done: new Set(), notDone: new Set() });
    assert.throws(() => asCompleted([], { timeoutMs: Number.NaN }), (e: unknown) => e instanceof InvalidOptionError && e.option === 'timeoutMs');
    assert.throws(() => asCompleted([], { timeoutMs: -5 }), (e: unknown) => e instanceof InvalidOptionError && e.option === 'timeoutMs');
  });

  it('a timeoutMs longer than a Node timer can hold means no timeout, not 1 ms', async () => {
    const f = flow(async function longWaitFlow() {
      const slow = sleep.submit(100, 'slow');
      const { done, notDone } = await wait([slow], { timeoutMs: 3e9 });
      const seen: unknown[] = [];
      for await (const x of asCompleted([add.submit(1, 1)], { timeoutMs: 3e9 }) as AsyncIterable<unknown>) seen.push(String(x));
      return { done: done.size, notDone: notDone.size, seen };
    });
    const original = process.emitWarning;
    const warnings: string[] = [];
    process.emitWarning = ((warning: string | Error) => void warnings.push(String(warning))) as typeof process.emitWarning;
    try {
      const out = await within(f(), 5_000, 'the flow');
      assert.deepEqual(out, { done: 1, notDone: 0, seen: ['TaskFuture(add-1, Completed)'] });
    } finally {
      process.emitWarning = original;
    }
    assert.deepEqual(warnings, [], 'no TimeoutOverflowWarning');
  });
});

describe('task identity', () => {
  it('a task is known by the module that defines it and its name', async () => {
    const module = pathToFileURL(fileURLToPath(new URL('../fixtures/core/tasks.ts', import.meta.url))).href;
    assert.deepEqual(add.ref, { module, name: 'add' });
    assert.equal(findTask(add.ref).fn, add.fn);
    assert.deepEqual(add.withOptions({ name: 'other' }).ref, add.ref, 'a renamed copy still finds the defined task');
  });

  it('loadTask imports the module and finds the task', async () => {
    const module = new URL('../fixtures/core/modules/imported.ts', import.meta.url).href;
    const found = await loadTask({ module, name: 'shout' });
    assert.equal(await (found.fn as (s: string) => Promise<string>)('hi'), 'HI');
  });

  it('a missing task, a module that fails to import, and an ambiguous name are TaskNotFoundErrors that say why', async () => {
    const module = new URL('../fixtures/core/modules/imported.ts', import.meta.url).href;
    await assert.rejects(loadTask({ module, name: 'whisper' }), (e: unknown) => {
      assert.ok(e instanceof TaskNotFoundError);
      assert.equal(e.module, module);
      assert.equal(e.taskName, 'whisper');
      assert.match(e.message, /defines no task of that name at its top level/);
      return true;
    });
    const broken = new URL('../fixtures/core/modules/broken.ts', import.meta.url).href;
    await assert.rejects(loadTask({ module: broken, name: 'never' }), (e: unknown) => {
      assert.ok(e instanceof TaskNotFoundError);
      assert.match(e.message, /failed to import \(this module fails to import on purpose\)/);
      assert.match(e.message, /broken\.ts/);
      return true;
    });
    const fake = 'file:///nowhere/dupes.ts';
    registerTask({ ref: { module: fake, name: 'twin' }, fn: () => 1 });
    registerTask({ ref: { module: fake, name: 'twin' }, fn: () => 2 });
    assert.throws(() => findTask({ module: fake, name: 'twin' }), /more than one task of that name.*unique options\.name/);
    assert.throws(() => findTask({ module: undefined, name: 'x' }), TaskNotFoundError);
  });

  it('isMain(import.meta) is true only in the module Node started', () => {
    const entry = fileURLToPath(new URL('../fixtures/core/modules/main-guard.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', entry], { encoding: 'utf8', timeout: 30_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout.trim()), { entry: true, imported: false });
  });
});
