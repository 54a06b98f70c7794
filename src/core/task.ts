import { InvalidOptionError, UsageError } from '../errors.ts';
import { callerModule, registerTask, type TaskRef } from '../protocol/task-ref.ts';
import { runAttempts } from './attempts.ts';
import { RunSignal } from './run-signal.ts';
import { currentStore } from './context.ts';
import type { TaskFuture } from './future.ts';
import { resolveTaskOptions, type ResolvedTaskOptions, type SubmitOptions, type TaskOptions } from './options.ts';
import type { FlowRunEngine } from './flow-run.ts';

/** An argument of a submitted task: the value, a future of it, or (for a list) a list of values and futures. */
export type Arg<T> = T | TaskFuture<T> | (T extends readonly (infer E)[] ? readonly (E | TaskFuture<E>)[] : never);

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

/** The arguments of `map`: an iterable per parameter (zipped), or `unmapped(x)`. */
export type MapArgs<A extends readonly unknown[]> = { [K in keyof A]: Iterable<Arg<A[K]>> | Unmapped<Arg<A[K]>> };

/**
 * A task: a function whose calls inside a flow become task runs.
 * - `t(...args)` runs it inline in the flow's process and records a task run.
 * - `t.submit(...args)` hands it to the flow's task runner and returns a {@link TaskFuture} at once.
 * - `t.map(as, bs)` submits one run per element (zip); `unmapped(x)` passes `x` whole to each.
 */
export interface Task<A extends unknown[], R> {
  (...args: Args<A>): Promise<Awaited<R>>;
  readonly taskName: string;
  readonly ref: TaskRef;
  readonly options: ResolvedTaskOptions;
  readonly fn: (...args: A) => R;
  submit(...args: Args<A>): TaskFuture<Awaited<R>>;
  map(...iterables: MapArgs<A>): TaskFuture<Awaited<R>>[];
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

function makeTask<A extends unknown[], R>(fn: (...args: A) => R, ref: TaskRef, options: ResolvedTaskOptions, waitFor: readonly PromiseLike<unknown>[] | undefined): Task<A, R> {
  const self = function (...args: Args<A>): Promise<Awaited<R>> {
    const flowRun = currentStore()?.flowRun as FlowRunEngine | undefined;
    if (!flowRun) return callOutsideFlow(fn, options, args);
    return flowRun.submit<Awaited<R>>(self as unknown as Task<never[], unknown>, args, waitFor, true).result();
  } as Task<A, R>;
  Object.defineProperties(self, {
    taskName: { value: options.name, enumerable: true },
    ref: { value: ref },
    options: { value: options },
    fn: { value: fn },
    name: { value: options.name },
  });
  self.submit = (...args: Args<A>) => {
    const flowRun = currentStore()?.flowRun as FlowRunEngine | undefined;
    if (!flowRun) {
      throw new UsageError(`${options.name}.submit() was called outside a flow run: submit tasks from inside a flow (flow(async function main() { ... })), or call the task directly to run it here.`);
    }
    return flowRun.submit<Awaited<R>>(self as unknown as Task<never[], unknown>, args, waitFor, false);
  };
  self.map = (...iterables: MapArgs<A>) => mapArgs(options.name, iterables).map((args) => self.submit(...(args as Args<A>)));
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

/** Zips the iterables of a `map` call into one argument list per run. */
function mapArgs(name: string, iterables: readonly unknown[]): unknown[][] {
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
