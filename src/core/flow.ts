import { FlowRunError, InvalidOptionError, UnguardedModuleError, UsageError } from '../errors.ts';
import type { Listener } from '../events/bus.ts';
import { now, type WeftEventName } from '../events/events.ts';
import { currentStore, storage, type Annotations } from './context.ts';
import { FlowRunEngine } from './flow-run.ts';
import { readParameters, validateArguments } from './parameters.ts';
import { callerModule } from '../protocol/task-ref.ts';
import { isWeftWorker } from './is-main.ts';
import { resolveFlowOptions, type FlowOptions, type ResolvedFlowOptions } from './options.ts';
import type { FlowRunRecord, FlowRunState, TaskRunState } from './states.ts';
import type { TaskRunner } from './task-runner.ts';
import { startReport, type RunReport } from '../report/report.ts';

/**
 * A flow: a function whose calls are flow runs. Calling it runs a flow run and resolves the
 * function's return value, or rejects with {@link FlowRunError}.
 */
export interface Flow<A extends unknown[], R> {
  (...args: A): Promise<R>;
  readonly flowName: string;
  readonly options: ResolvedFlowOptions<R>;
  /** The flow's function itself. */
  readonly fn: (...args: A) => unknown;
  /** Starts a flow run and returns its handle at once. */
  run(...args: A): FlowRun<R>;
  /** A copy with other options, e.g. another task runner; the flow's code is untouched. */
  withOptions(options: FlowOptions<R>): Flow<A, R>;
}

let defaultRunner: (() => TaskRunner) | undefined;
let observer: ((run: FlowRun<unknown>) => void) | undefined;

/** @internal Sets what watches every top-level flow run as it starts (index.ts: task logs to the terminal). */
export function setRunObserver(watch: (run: FlowRun<unknown>) => void): void {
  observer = watch;
}

function moduleName(url: string | undefined): string {
  return url?.split('/').pop()?.replace(/\.[cm]?[jt]sx?$/, '') || 'flow';
}

/** @internal Sets the runner a flow without `taskRunner` uses (index.ts: SequentialTaskRunner). */
export function setDefaultTaskRunner(factory: () => TaskRunner): void {
  defaultRunner = factory;
}

/**
 * Makes a flow from a function. Its name is `options.name ?? fn.name`; an arrow function's is its
 * module's file name (`report.ts`: `report`) unless `options.name` gives one.
 *
 * @example
 * export const plumes = flow(async function plumes(year: number) {
 *   const futures = download.map(Array.from({ length: 12 }, () => year), months);
 *   return Promise.all(futures);
 * }, { taskRunner: new ParallelTaskRunner({ scheduler: 'async', workers: 12 }) });
 */
export function flow<A extends unknown[], R>(fn: (...args: A) => R, options?: FlowOptions<Awaited<R>>): Flow<A, Awaited<R>> {
  if (typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function, as in flow(async function name(...) { ... })', fn);
  // An arrow function has no name of its own: the flow is named after its module (`report.ts`: 'report').
  const fallback = fn.name || (options?.name === undefined ? moduleName(callerModule(flow as (...args: never[]) => unknown)) : '');
  return makeFlow(fn, resolveFlowOptions(options, undefined, fallback));
}

function makeFlow<A extends unknown[], R>(fn: (...args: A) => unknown, options: ResolvedFlowOptions<R>): Flow<A, R> {
  const self = ((...args: A) => self.run(...args).result()) as Flow<A, R>;
  Object.defineProperties(self, {
    flowName: { value: options.name, enumerable: true },
    options: { value: options },
    fn: { value: fn },
    name: { value: options.name },
  });
  self.run = (...args: A) => new FlowRun<R>(fn, args, options);
  self.withOptions = (more: FlowOptions<R>) => makeFlow<A, R>(fn, resolveFlowOptions(more, options, options.name));
  return self;
}

/**
 * A running (or finished) flow run. `await run` gives its {@link FlowRunRecord} and never
 * rejects; `run.result()` gives the flow's value or rejects with {@link FlowRunError}.
 */
export class FlowRun<R> implements PromiseLike<FlowRunRecord<R>> {
  readonly #engine: FlowRunEngine;
  readonly #record: FlowRunRecord<R>;
  readonly #done: Promise<FlowRunRecord<R>>;

  /** @internal Flow runs are made by `f.run()`. */
  constructor(fn: (...args: never[]) => unknown, args: readonly unknown[], options: ResolvedFlowOptions<R>) {
    const store = currentStore();
    if (isWeftWorker() && !store?.task) {
      throw new UnguardedModuleError(options.name, undefined);
    }
    const parent = store?.flowRun instanceof FlowRunEngine ? store.flowRun : undefined;
    const factory = defaultRunner;
    if (!options.taskRunner && !factory) throw new UsageError('No default task runner is set: import flow from the weft package entry point.');
    const runner = options.taskRunner ? options.taskRunner.duplicate() : (factory as () => TaskRunner)();
    this.#engine = new FlowRunEngine(options.name, runner, parent);
    this.#record = {
      id: this.#engine.id, flowName: options.name, parentId: parent?.id, state: 'Running', startedAt: now(),
      taskRuns: this.#engine.taskRuns, subflowRunIds: this.#engine.subflowRunIds, counts: emptyCounts(),
    };
    // A subflow's events reach its parent's listeners, so only a top-level run is observed.
    if (!parent) observer?.(this);
    this.#done = execute(this.#engine, this.#record, fn, args, options, store?.annotations);
  }

  get id(): string {
    return this.#engine.id;
  }

  get flowName(): string {
    return this.#record.flowName;
  }

  get state(): FlowRunState {
    return this.#record.state;
  }

  /** Listens to this flow run's events (subflows' events included). Returns an unsubscribe function. */
  on<E extends WeftEventName>(name: E, listener: Listener<E>, options?: { first?: boolean }): () => void {
    return this.#engine.bus.on(name, listener, options);
  }

  /**
   * Cancels the run: nothing new starts, queued task runs are dropped, running ones have their
   * `AbortSignal` fired (and, on threads and processes, their workers stopped), and every
   * unfinished future rejects with `CancelledError`.
   */
  cancel(reason?: string): void {
    this.#engine.cancel(reason);
  }

  /** The flow's return value, or a rejection with {@link FlowRunError}. */
  async result(): Promise<R> {
    const record = await this.#done;
    if (record.state === 'Completed') return record.result as R;
    throw new FlowRunError(record.flowName, record.id, record.state as 'Failed', record.error);
  }

  then<A = FlowRunRecord<R>, B = never>(onFulfilled?: ((value: FlowRunRecord<R>) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.#done.then(onFulfilled, onRejected);
  }
}

async function execute<R>(engine: FlowRunEngine, record: FlowRunRecord<R>, fn: (...args: never[]) => unknown, args: readonly unknown[], options: ResolvedFlowOptions<R>, annotations: Annotations | undefined): Promise<FlowRunRecord<R>> {
  // Let the caller attach listeners to the handle before the first event.
  await Promise.resolve();
  const path = engine.runner.performanceReport;
  const report = path ? startReport(engine, path) : undefined;
  try {
    return await runFlow(engine, record, fn, args, options, annotations, report);
  } finally {
    // Whatever way the run ended: its report thread does not outlive it.
    report?.close();
  }
}

async function runFlow<R>(engine: FlowRunEngine, record: FlowRunRecord<R>, fn: (...args: never[]) => unknown, args: readonly unknown[], options: ResolvedFlowOptions<R>, annotations: Annotations | undefined, report: RunReport | undefined): Promise<FlowRunRecord<R>> {
  const { events, runner } = engine;
  events.emit('flow-run:started', { flowRunId: engine.id, flowName: record.flowName, parentFlowRunId: record.parentId, runner: runner.name, time: record.startedAt });
  let state: FlowRunState = 'Completed';
  let error: Error | undefined;
  if (options.parameters) {
    // Before the runner starts: a run with bad parameters starts no workers and runs nothing.
    try {
      args = await validateArguments(record.flowName, options.parameters, readParameters(fn), args);
    } catch (invalid) {
      state = 'Failed';
      error = invalid as Error;
    }
  }
  if (state === 'Completed') {
    try {
      await runner.start({ flowRunId: engine.id, flowName: record.flowName, events, signal: engine.signal });
    } catch (startError) {
      state = 'Crashed';
      error = startError as Error;
    }
  }
  if (state === 'Completed') {
    let threw = false;
    // A run cancelled before its function started (right after run(), or while the runner
    // started) does not run it at all.
    const body = engine.cancelReason ? Promise.resolve() : new Promise<unknown>((resolve) => resolve(storage.run({ flowRun: engine, task: undefined, annotations }, fn as (...a: unknown[]) => unknown, ...args))).then(
      // The body may go on after a cancel has ended the run: a Cancelled record keeps no result.
      (value) => {
        if (!engine.cancelReason) record.result = value as R;
      },
      (thrown: unknown) => {
        threw = true;
        error = thrown instanceof Error ? thrown : new Error(String(thrown));
      },
    );
    // A run cancelled before this point (right after run(), or while the runner started) has
    // already fired its signal: a listener added now would never be called.
    const cancelled = engine.signal.aborted
      ? Promise.resolve()
      : new Promise<void>((resolve) => engine.signal.addEventListener('abort', () => resolve(), { once: true }));
    await Promise.race([body, cancelled]);
    if (threw && !engine.cancelReason) engine.cancelLive(`flow '${record.flowName}' failed, so its unfinished task runs were cancelled`);
    await engine.drain();
    const unobserved = engine.unobservedFailure();
    if (engine.cancelReason) {
      state = 'Cancelled';
      error = engine.cancelReason;
      delete record.result;
    } else if (threw) {
      state = 'Failed';
    } else if (unobserved) {
      state = 'Failed';
      error = new UsageError(`Task run '${unobserved.taskRunId}' failed and its future was never awaited, so the flow run cannot succeed`, { cause: engine.errorOf(unobserved) });
      delete record.result;
    }
  }
  try {
    await runner.shutdown({ state });
  } catch (shutdownError) {
    console.error(`weft: the task runner of flow run ${engine.id} failed to shut down cleanly:`, shutdownError);
  }
  engine.parent?.removeChild(engine);
  record.state = state;
  record.error = error;
  record.endedAt = now();
  record.durationMs = record.endedAt - record.startedAt;
  for (const t of record.taskRuns) record.counts[t.state]++;
  events.emit('flow-run:finished', { flowRunId: engine.id, flowName: record.flowName, state, time: record.endedAt, error });
  if (report) {
    try {
      record.performanceReport = await report.finish();
    } catch (reportError) {
      console.error(`weft: the performance report of flow run ${engine.id} could not be written to ${runner.performanceReport}; the run's state stands:`, reportError);
    }
  }
  await callHook(state === 'Completed' ? options.onCompletion : options.onFailure, record, record.flowName);
  await callHook(options.onTerminal, record, record.flowName);
  return record;
}

async function callHook<R>(hook: ((run: FlowRunRecord<R>) => void | Promise<void>) | undefined, record: FlowRunRecord<R>, name: string): Promise<void> {
  if (!hook) return;
  try {
    await hook(record);
  } catch (error) {
    console.error(`weft: a hook of flow '${name}' threw; the run's state stands:`, error);
  }
}

function emptyCounts(): Record<TaskRunState, number> {
  return { Pending: 0, Running: 0, Retrying: 0, Completed: 0, Failed: 0, Crashed: 0, Cancelled: 0 };
}
