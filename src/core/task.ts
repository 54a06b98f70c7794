import { InvalidOptionError, UsageError } from '../errors.ts';
import { callerModule, registerTask, type TaskRef } from '../protocol/task-ref.ts';
import { runAttempts } from './attempts.ts';
import { RunSignal } from './run-signal.ts';
import { currentStore } from './context.ts';
import { isTaskFuture, type TaskFuture } from './future.ts';
import type { AllowFailure, Quoted } from './arguments.ts';
import { resolveTaskOptions, type ResolvedTaskOptions, type SubmitOptions, type TaskOptions } from './options.ts';
import type { FlowRunEngine } from './flow-run.ts';

/**
 * An argument of a submitted task: the value, a future of it, `quote(value)`, or plain data (a
 * list, an object, a Map, a Set, nested) whose parts may be futures. A parameter that takes an
 * `Error` (typed `T | Error`) also takes `allowFailure(future)` of a `T`.
 */
export type Arg<T> = T | TaskFuture<T> | Quoted<T> | Tolerant<T> | InData<T>;

/** `allowFailure(f)` where the parameter also takes the error that would stand in for the value. */
type Tolerant<T> = Error extends T ? AllowFailure<Exclude<T, Error>> : never;

/** Plain data with futures among its parts. Functions and other non-data are taken only as themselves. */
type InData<T> = T extends (...args: never[]) => unknown ? never
  : T extends readonly unknown[] ? { readonly [K in keyof T]: Arg<T[K]> }
  : T extends ReadonlyMap<infer K, infer V> ? ReadonlyMap<K, Arg<V>>
  : T extends ReadonlySet<infer E> ? ReadonlySet<Arg<E>>
  : T extends object ? { readonly [K in keyof T]: Arg<T[K]> }
  : never;

/** The arguments of `submit`: each may be a future of the right type. */
export type Args<A extends readonly unknown[]> = { [K in keyof A]: Arg<A[K]> };

const kUnmapped = Symbol.for('weft.unmapped');

/** A value passed whole to every run of a `map`. */
export interface Unmapped<T> {
  readonly [kUnmapped]: true;
  readonly value: T;
}

/** Passes `value` whole to every run of `t.map(...)`, instead of mapping over it. */
export function unmapped<T>(value: T): Unmapped<T> {
  return { [kUnmapped]: true, value };
}

function isUnmapped(value: unknown): value is Unmapped<unknown> {
  return typeof value === 'object' && value !== null && kUnmapped in value;
}

/** The arguments of `map`: an iterable per parameter (zipped), a future of one, or `unmapped(x)`. */
export type MapArgs<A extends readonly unknown[]> = { [K in keyof A]: Iterable<Arg<A[K]>> | TaskFuture<Iterable<A[K]>> | Unmapped<Arg<A[K]>> };

/**
 * What `map` returns: the futures, at once; or, when it maps over a future of a list, a promise of
 * them, resolved once that list is known (rejected, as `future.result()` is, if it is never known).
 */
export type MapResult<I extends readonly unknown[], T> = true extends { [K in keyof I]: I[K] extends TaskFuture<unknown> ? true : false }[number]
  ? Promise<TaskFuture<T>[]>
  : TaskFuture<T>[];

/**
 * A task: a function whose calls inside a flow become task runs.
 * - `t(...args)` runs it inline in the flow's process and records a task run.
 * - `t.submit(...args)` hands it to the flow's task runner and returns a {@link TaskFuture} at once.
 * - `t.map(as, bs)` submits one run per element (zip); `unmapped(x)` passes `x` whole to each;
 *   `t.map(futureOfList)` waits for the list, then maps over it (so it returns a promise of the futures).
 */
export interface Task<A extends unknown[], R> {
  (...args: Args<A>): Promise<Awaited<R>>;
  readonly taskName: string;
  readonly ref: TaskRef;
  readonly options: ResolvedTaskOptions;
  readonly fn: (...args: A) => R;
  submit(...args: Args<A>): TaskFuture<Awaited<R>>;
  map<I extends MapArgs<A>>(...iterables: I): MapResult<I, Awaited<R>>;
  /** A copy of this task with other options (and, for `waitFor`, ordering without data). */
  withOptions(options: SubmitOptions): Task<A, R>;
}

/**
 * Makes a task from a function. Its name is `options.name ?? fn.name`. Define tasks at a module's
 * top level, so that workers on other threads, processes or machines can find them by module and name.
 *
 * @example
 * export const download = task(async function download(year: number, month: number) {
 *   return `${year}-${month}.png`;
 * }, { retries: 2, retryDelayMs: 500, timeoutMs: 30_000 });
 */
export function task<A extends unknown[], R>(fn: (...args: A) => R, options?: TaskOptions): Task<A, R> {
  if (typeof fn !== 'function') throw new InvalidOptionError('fn', 'a function, as in task(async function name(...) { ... })', fn);
  const fallback = fn.name;
  if (!fallback && (options?.name === undefined)) {
    throw new InvalidOptionError('name', 'a name for an anonymous task function: task(async function myTask() { ... }) or task(fn, { name: "myTask" })', options?.name);
  }
  const resolved = resolveTaskOptions(options, undefined, fallback);
  const ref: TaskRef = { module: callerModule(task), name: resolved.name };
  registerTask({ ref, fn: fn as (...args: never[]) => unknown });
  return makeTask(fn, ref, resolved, undefined);
}

function makeTask<A extends unknown[], R>(fn: (...args: A) => R, ref: TaskRef, options: ResolvedTaskOptions, waitFor: readonly unknown[] | undefined): Task<A, R> {
  const self = function (...args: Args<A>): Promise<Awaited<R>> {
    const store = currentStore();
    const flowRun = store?.flowRun as FlowRunEngine | undefined;
    if (!flowRun) return callOutsideFlow(fn, options, args);
    return flowRun.submit<Awaited<R>>(self as unknown as Task<never[], unknown>, args, waitFor, true, store?.annotations).result();
  } as Task<A, R>;
  Object.defineProperties(self, {
    taskName: { value: options.name, enumerable: true },
    ref: { value: ref },
    options: { value: options },
    fn: { value: fn },
    name: { value: options.name },
  });
  self.submit = (...args: Args<A>) => {
    const store = currentStore();
    const flowRun = store?.flowRun as FlowRunEngine | undefined;
    if (!flowRun && store?.task) {
      throw new UsageError(`${options.name}.submit() was called inside task '${store.task.taskName}', which runs in a worker (a thread, a process or a cluster worker), away from its flow run: submit from there through getClient(), as in getClient().submit(${options.name}, ...args); its runs go to the same runner and the same flow run.`);
    }
    if (!flowRun) {
      throw new UsageError(`${options.name}.submit() was called outside a flow run: submit tasks from inside a flow (flow(async function main() { ... })), or call the task directly to run it here.`);
    }
    return flowRun.submit<Awaited<R>>(self as unknown as Task<never[], unknown>, args, waitFor, false, store?.annotations);
  };
  const submitEach = (runs: unknown[][]) => runs.map((args) => self.submit(...(args as Args<A>)));
  self.map = (<I extends MapArgs<A>>(...iterables: I) => {
    if (!iterables.some(isTaskFuture)) return submitEach(mapArgs(options.name, iterables));
    // A future of a list: its runs are submitted once the list is known (Prefect maps over its value).
    return Promise.all(iterables.map((it) => (isTaskFuture(it) ? it.result() : it))).then((known) => submitEach(mapArgs(options.name, known)));
  }) as Task<A, R>['map'];
  self.withOptions = (more: SubmitOptions) => {
    const next = resolveTaskOptions(more, options, options.name);
    const extraWait = more?.waitFor;
    if (extraWait !== undefined && !Array.isArray(extraWait)) throw new InvalidOptionError('waitFor', 'a list of futures', extraWait);
    return makeTask(fn, { module: ref.module, name: ref.name }, next, extraWait ? [...(waitFor ?? []), ...extraWait] : waitFor);
  };
  return self;
}

/** Outside a flow a task is a function with retries and a timeout: no run is recorded. */
async function callOutsideFlow<A extends unknown[], R>(fn: (...args: A) => R, options: ResolvedTaskOptions, args: unknown[]): Promise<Awaited<R>> {
  if (args.some((a) => typeof a === 'object' && a !== null && 'taskRunId' in a && typeof (a as { result?: unknown }).result === 'function')) {
    throw new UsageError(`${options.name}() was given a TaskFuture outside a flow run: futures belong to a flow run; await it first.`);
  }
  const outcome = await runAttempts(
    { taskRunId: options.name, flowRunId: '', fn: fn as (...args: never[]) => unknown, args, options, cancellation: new RunSignal(), workerId: 'main' },
    { started() {}, retried() {}, log: (_request, level, message) => console[level](message) },
    undefined,
  );
  if (outcome.state === 'Completed') return outcome.value as Awaited<R>;
  throw outcome.error;
}

/** @internal Zips the iterables of a `map` call into one argument list per run (also `getClient().map`). */
export function mapArgs(name: string, iterables: readonly unknown[]): unknown[][] {
  const columns: (unknown[] | Unmapped<unknown>)[] = iterables.map((it, i) => {
    if (isUnmapped(it)) return it;
    if (typeof it === 'string' || it === null || typeof it !== 'object' || typeof (it as Iterable<unknown>)[Symbol.iterator] !== 'function') {
      throw new InvalidOptionError(`${name}.map() argument ${i}`, 'an iterable (array, Set, generator) to map over, or unmapped(value) to pass whole to every run', it);
    }
    return [...(it as Iterable<unknown>)];
  });
  const lengths = columns.filter((c): c is unknown[] => Array.isArray(c)).map((c) => c.length);
  if (lengths.length === 0) throw new UsageError(`${name}.map() needs at least one iterable to map over; every argument was unmapped().`);
  const n = lengths[0] as number;
  if (lengths.some((l) => l !== n)) {
    throw new UsageError(`${name}.map() got iterables of different lengths (${lengths.join(', ')}): map zips them, so they must be equally long.`);
  }
  const runs: unknown[][] = [];
  for (let row = 0; row < n; row++) runs.push(columns.map((c) => (Array.isArray(c) ? c[row] : c.value)));
  return runs;
}
