import { inspect } from 'node:util';
import { AsCompletedTimeoutError, CancelledError, InvalidOptionError, TaskRunError } from '../errors.ts';
import { UNSENDABLE_FUTURE, UNSENDABLE_KEY } from '../protocol/serialize.ts';
import { MAX_TIMER_MS } from '../util/validate.ts';
import { storage } from './context.ts';
import type { FinalTaskRunState, TaskRunRecord, TaskRunState } from './states.ts';
import type { TaskOutcome } from './task-runner.ts';

/** @internal Gives a live future what its cancel function is handed (the engine's live run); dropped when it settles. */
let attachRun: <T>(future: TaskFuture<T>, run: object) => void;
/** @internal Settles a future with its outcome once; later calls are ignored (returns false). */
let settleFuture: <T>(future: TaskFuture<T>, outcome: TaskOutcome) => boolean;
/** @internal */
let outcomeOf: <T>(future: TaskFuture<T>) => TaskOutcome | undefined;
/** @internal Resolves when the run ends, without giving a runner slot back: for the engine's own waits. */
let whenSettled: <T>(future: TaskFuture<T>) => Promise<void>;
/** @internal A future whose failure was handed on (to a downstream task) counts as observed. */
let markObserved: <T>(future: TaskFuture<T>) => void;
/** @internal */
let isObserved: <T>(future: TaskFuture<T>) => boolean;
/** @internal What `result()` rejects with, for a run that ended and did not complete (allowFailure hands it on). */
let failureOf: <T>(future: TaskFuture<T>) => Error | undefined;

export { attachRun, settleFuture, outcomeOf, markObserved, isObserved, whenSettled, failureOf };

/**
 * The eventual result of a submitted task run. `await f` and `Promise.all(fs)` work (it is
 * `PromiseLike`); `result()` rejects with {@link TaskRunError} (the task threw; `cause` is its
 * error), `WorkerCrashedError` (its worker died) or {@link CancelledError}.
 */
export class TaskFuture<T> implements PromiseLike<T> {
  /**
   * @internal An own property no structured clone can copy: a future that reaches a thread, a
   * process or the network unresolved (inside `quote()` or a class instance) is a
   * `SerializationError` naming where it was, never a silent `{}`.
   */
  readonly [UNSENDABLE_KEY]: symbol = UNSENDABLE_FUTURE;
  readonly #record: TaskRunRecord;
  readonly #flowRunId: string;
  // Typed for any future: a field with T in a parameter would make TaskFuture<T> invariant, and
  // TaskFuture<number> would not be a TaskFuture<unknown>.
  readonly #cancel: (run: object, reason: string) => boolean;
  /** What #cancel is handed while the run is live (the engine's run: no lookup by id). */
  #run: object | undefined;
  #outcome: TaskOutcome | undefined;
  #waiters: Array<() => void> | undefined;
  /** What `result()` returns while the run is live: one promise, settled directly when the run ends. */
  // Typed for any future, as #cancel is (variance).
  #result: Promise<unknown> | undefined;
  #resolve: ((value: unknown) => void) | undefined;
  #reject: ((error: Error) => void) | undefined;
  #observed = false;
  #error: Error | undefined;

  /** @internal Futures are made by `task.submit()`. */
  constructor(record: TaskRunRecord, flowRunId: string, cancel: (run: object, reason: string) => boolean) {
    this.#record = record;
    this.#flowRunId = flowRunId;
    this.#cancel = cancel;
  }

  /** The task run's id, e.g. `download-3`. */
  get taskRunId(): string {
    return this.#record.id;
  }

  get taskName(): string {
    return this.#record.taskName;
  }

  /** The flow run this future belongs to. */
  get flowRunId(): string {
    return this.#flowRunId;
  }

  /** The task run's state now. */
  get state(): TaskRunState {
    return this.#record.state;
  }

  /** Whether the task run has ended. */
  get done(): boolean {
    return this.#outcome !== undefined;
  }

  /** The task's return value, or a rejection saying why there is none. */
  result(): Promise<T> {
    this.#observed = true;
    const outcome = this.#outcome;
    if (outcome) return outcome.state === 'Completed' ? Promise.resolve(outcome.value as T) : Promise.reject(this.#errorOf(outcome));
    // Made once, on first ask, and settled by the run's end itself (no chain of promises per
    // result); made only when asked for, so a failure nobody asked about rejects nothing.
    const result = (this.#result ??= new Promise<unknown>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    }));
    // A task running in the flow's process that waits here gives its runner slot back meanwhile
    // (Dask's secede/rejoin): otherwise tasks that wait on tasks they submitted could fill every
    // slot and wait forever.
    const rejoin = storage.getStore()?.task?.secede?.();
    return (rejoin ? result.finally(rejoin) : result) as Promise<T>;
  }

  /**
   * Resolves with the final state once the run has ended; never rejects. (It cannot resolve with
   * the future itself: a future is thenable, and a promise would unwrap it.)
   */
  wait(): Promise<FinalTaskRunState> {
    if (this.#outcome) return Promise.resolve(this.#outcome.state);
    return this.#settled().then(() => (this.#outcome as TaskOutcome).state);
  }

  /** Cancels the run if it has not ended; returns whether it did. */
  cancel(reason = 'the future was cancelled'): boolean {
    if (this.#outcome || !this.#run) return false;
    return this.#cancel(this.#run, reason);
  }

  then<A = T, B = never>(onFulfilled?: ((value: T) => A | PromiseLike<A>) | null, onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null): Promise<A | B> {
    return this.result().then(onFulfilled, onRejected);
  }

  toString(): string {
    return `TaskFuture(${this.taskRunId}, ${this.state})`;
  }

  [inspect.custom](): string {
    return this.toString();
  }

  /**
   * Resolves when the run ends. A task running in the flow's process that waits here gives its
   * runner slot back meanwhile (Dask's secede/rejoin): otherwise tasks that wait on tasks they
   * submitted could fill every slot and wait forever.
   */
  #settled(): Promise<void> {
    const rejoin = storage.getStore()?.task?.secede?.();
    const settled = this.#whenSettled();
    return rejoin ? settled.finally(rejoin) : settled;
  }

  #whenSettled(): Promise<void> {
    if (this.#outcome) return Promise.resolve();
    return new Promise<void>((resolve) => (this.#waiters ??= []).push(resolve));
  }

  #errorOf(outcome: Exclude<TaskOutcome, { state: 'Completed' }>): Error {
    if (this.#error) return this.#error;
    this.#error = outcome.state === 'Failed' && !isEngineError(outcome.error)
      ? new TaskRunError(this.taskName, this.taskRunId, outcome.error, this.#record.attempts)
      : outcome.error;
    return this.#error;
  }

  static {
    settleFuture = (future, outcome) => {
      if (future.#outcome) return false;
      future.#outcome = outcome;
      future.#run = undefined;
      if (future.#result) {
        if (outcome.state === 'Completed') (future.#resolve as (value: unknown) => void)(outcome.value);
        else (future.#reject as (error: Error) => void)(future.#errorOf(outcome));
        future.#result = future.#resolve = future.#reject = undefined;
      }
      const waiters = future.#waiters;
      future.#waiters = undefined;
      if (waiters) for (const wake of waiters) wake();
      return true;
    };
    outcomeOf = (future) => future.#outcome;
    attachRun = (future, run) => {
      future.#run = run;
    };
    whenSettled = (future) => future.#whenSettled();
    markObserved = (future) => {
      future.#observed = true;
    };
    isObserved = (future) => future.#observed;
    failureOf = (future) => {
      const outcome = future.#outcome;
      return outcome && outcome.state !== 'Completed' ? outcome.error : undefined;
    };
  }
}

/** Errors that a future rejects with as they are, not wrapped in TaskRunError. */
function isEngineError(error: Error): boolean {
  return error instanceof CancelledError || (error as { code?: unknown }).code === 'WEFT_UPSTREAM_FAILED';
}

export function isTaskFuture(value: unknown): value is TaskFuture<unknown> {
  return value instanceof TaskFuture;
}

/**
 * A finished future as {@link asCompleted} yields it: a view of the future without `then`, so
 * that what the loop variable's type says and what `await` does at run time agree. (TypeScript
 * types a `for await` variable as the awaited value of what is yielded: a thenable future would be
 * typed as its value while the loop got the future.) Read it with `result()`, `state`,
 * `taskRunId`; `future` is the future itself, for identity or to pass on to another task.
 * `await done` gives the view back, not the value: use `await done.result()`.
 */
export type CompletedFuture<F extends TaskFuture<unknown>> = F extends TaskFuture<unknown> ? CompletedView<F> : never;

/** One member of {@link CompletedFuture}: the view of one future type. */
export interface CompletedView<F extends TaskFuture<unknown>> {
  /** The future itself, as it was passed to `asCompleted`. */
  readonly future: F;
  readonly taskRunId: string;
  readonly taskName: string;
  readonly flowRunId: string;
  /** The final state the run ended in. */
  readonly state: FinalTaskRunState;
  /** The task's value, or a rejection saying why there is none (as `future.result()`). */
  result(): ReturnType<F['result']>;
  /** Resolves the final state; never rejects. */
  wait(): Promise<FinalTaskRunState>;
}

function completedView<F extends TaskFuture<unknown>>(future: F): CompletedFuture<F> {
  const view: CompletedView<F> = {
    future,
    taskRunId: future.taskRunId,
    taskName: future.taskName,
    flowRunId: future.flowRunId,
    state: future.state as FinalTaskRunState,
    result: () => future.result() as ReturnType<F['result']>,
    wait: () => future.wait(),
  };
  Object.defineProperty(view, 'toString', { value: () => future.toString() });
  return view as CompletedFuture<F>;
}

/**
 * Yields futures as they complete, in completion order (as Dask's `as_completed`), each as a
 * {@link CompletedFuture} (the future without `then`; `done.future` is the future itself). With
 * `timeoutMs`, iteration throws {@link AsCompletedTimeoutError} if futures remain after that long.
 *
 * @example
 * for await (const done of asCompleted(futures)) console.log(done.taskRunId, await done.result());
 */
export function asCompleted<F extends TaskFuture<unknown>>(futures: Iterable<F>, options: { timeoutMs?: number } = {}): AsyncIterable<CompletedFuture<F>> {
  checkTimeout(options.timeoutMs);
  // A hand-written iterator, not an async generator: `yield` would await a thenable.
  return {
    [Symbol.asyncIterator](): AsyncIterator<CompletedFuture<F>> {
      const all = [...futures];
      let remaining = all.length;
      const ready: F[] = [];
      let wake: (() => void) | undefined;
      for (const f of all) {
        // Futures done already are ready now, before any timeout applies (timeoutMs: 0 yields them).
        if (f.done) {
          ready.push(f);
          continue;
        }
        void f.wait().then(() => {
          ready.push(f);
          wake?.();
        });
      }
      const deadline = options.timeoutMs === undefined ? Infinity : Date.now() + options.timeoutMs;
      return {
        async next(): Promise<IteratorResult<CompletedFuture<F>>> {
          while (remaining > 0) {
            const next = ready.shift();
            if (next) {
              remaining--;
              return { value: completedView(next), done: false };
            }
            const left = deadline - Date.now();
            if (left <= 0) throw new AsCompletedTimeoutError(remaining, options.timeoutMs ?? 0);
            await new Promise<void>((resolve) => {
              const timer = left > MAX_TIMER_MS ? undefined : setTimeout(resolve, left);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
            wake = undefined;
          }
          return { value: undefined, done: true };
        },
      };
    },
  };
}

/**
 * Waits until every future is done, or `timeoutMs` passes, and tells which are which
 * (as Dask's and Prefect's `wait`). Never rejects.
 */
// Generic in the future type, not its value type, so that futures of different types mix.
export async function wait<F extends TaskFuture<unknown>>(futures: Iterable<F>, options: { timeoutMs?: number } = {}): Promise<{ done: Set<F>; notDone: Set<F> }> {
  const all = [...futures];
  const { timeoutMs } = options;
  checkTimeout(timeoutMs);
  const everything = Promise.all(all.map((f) => f.wait()));
  if (all.every((f) => f.done)) {
    // Nothing to wait for: done futures are done whatever the timeout, 0 included.
  } else if (timeoutMs === undefined || timeoutMs > MAX_TIMER_MS) await everything;
  else {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([everything, new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)))]);
    clearTimeout(timer);
  }
  const done = new Set<F>();
  const notDone = new Set<F>();
  for (const f of all) (f.done ? done : notDone).add(f);
  return { done, notDone };
}

function checkTimeout(timeoutMs: unknown): void {
  if (timeoutMs !== undefined && (typeof timeoutMs !== 'number' || !(timeoutMs >= 0))) {
    throw new InvalidOptionError('timeoutMs', 'a number ≥ 0', timeoutMs);
  }
}
