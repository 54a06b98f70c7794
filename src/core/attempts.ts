import { CancelledError, TaskTimeoutError } from '../errors.ts';
import { now, type LogLevel } from '../events/events.ts';
import { storage, type FlowRunScope, type RunStore, type TaskScope } from './context.ts';
import { retryDelay, type ResolvedTaskOptions } from './options.ts';
import type { Lend, TaskOutcome } from './task-runner.ts';
import type { Cancellation } from './run-signal.ts';

/** One task run to execute here, wherever "here" is: the flow's process, a thread, a process, a cluster worker. */
export interface AttemptRequest {
  readonly taskRunId: string;
  readonly flowRunId: string;
  readonly fn: (...args: never[]) => unknown;
  readonly args: readonly unknown[];
  readonly options: ResolvedTaskOptions;
  /** The run's cancellation; its AbortSignal is made only if the task or a timer needs it. */
  readonly cancellation: Cancellation;
  readonly workerId: string;
  /** When the run was handed to its runner, for its 'started' events (in the flow's process). */
  readonly readyTime?: number;
  /** How the run lends its slot while it waits on other runs (the pool's, in the flow's process). */
  readonly lend?: Lend;
}

/** How the executing side reports progress: to the event bus in process, to a message port elsewhere. */
export interface AttemptHooks {
  /** `time`: when the attempt started, on this process's clock. */
  started(request: AttemptRequest, attempt: number, time: number): void;
  retried(request: AttemptRequest, attempt: number, error: unknown, delayMs: number): void;
  log(request: AttemptRequest, level: LogLevel, message: string): void;
}

/** How an attempt run reports its end: the outcome, and the request it is about (so one function serves every run). */
export type AttemptsDone<R extends AttemptRequest = AttemptRequest> = (outcome: TaskOutcome, request: R) => void;

/**
 * Runs a task with its retries and `timeoutMs`, in a run context that gives the task its
 * `AbortSignal` and logger. Resolves how it ended; never rejects. This is the only place a task's
 * code is called, whichever runner runs it (through {@link runAttemptsThen}).
 */
export function runAttempts(request: AttemptRequest, hooks: AttemptHooks, flowRun: FlowRunScope | undefined): Promise<TaskOutcome> {
  return new Promise<TaskOutcome>((resolve) => runAttemptsThen(request, hooks, flowRun, resolve));
}

/**
 * {@link runAttempts} with a callback instead of a promise: `done` is called once, never
 * synchronously from this call (a task that returns at once still ends a microtask later). The
 * engine's own runs take this path: a run costs the task's own promise and one reaction on it,
 * not an async function's frame, its promise and the promises of its awaits (each of which also
 * pays AsyncLocalStorage's promise hook on Node 20).
 */
export function runAttemptsThen<R extends AttemptRequest>(request: R, hooks: AttemptHooks, flowRun: FlowRunScope | undefined, done: AttemptsDone<R>, attempt = 1): void {
  const { cancellation } = request;
  if (cancellation.aborted) {
    queueMicrotask(() => done(cancelled(cancellation, request.workerId), request));
    return;
  }
  const startTime = now();
  try {
    hooks.started(request, attempt, startTime);
  } catch (hookError) {
    // The engine's side failed, not the task: the run crashed (as when runAttempts rejected).
    queueMicrotask(() => done({ state: 'Crashed', error: asError(hookError), workerId: request.workerId }, request));
    return;
  }
  let value: unknown;
  try {
    value = runOnce(request, attempt, hooks, flowRun);
  } catch (error) {
    // A synchronous throw ends the attempt as a rejection would.
    value = Promise.reject(error);
  }
  // Promise.resolve(p) is p itself for a task's own promise: one reaction, no promise in between.
  Promise.resolve(value).then(
    (result: unknown) => done({ state: 'Completed', value: result, workerId: request.workerId, serviceMs: now() - startTime }, request),
    (error: unknown) => afterFailure(request, hooks, flowRun, done, attempt, startTime, error),
  );
}

/** An attempt threw or rejected: the run ends (failed, or cancelled), or the next attempt starts. */
function afterFailure<R extends AttemptRequest>(request: R, hooks: AttemptHooks, flowRun: FlowRunScope | undefined, done: AttemptsDone<R>, attempt: number, startTime: number, error: unknown): void {
  const { options, cancellation } = request;
  if (cancellation.aborted) return done(cancelled(cancellation, request.workerId, now() - startTime), request);
  if (attempt >= options.retries + 1) return done({ state: 'Failed', error: asError(error), workerId: request.workerId, serviceMs: now() - startTime }, request);
  const delayMs = retryDelay(options, attempt);
  try {
    hooks.retried(request, attempt, error, delayMs);
  } catch (hookError) {
    return done({ state: 'Crashed', error: asError(hookError), workerId: request.workerId }, request);
  }
  if (delayMs <= 0) return runAttemptsThen(request, hooks, flowRun, done, attempt + 1);
  void sleep(delayMs, cancellation.signal).then((slept) => {
    if (slept) runAttemptsThen(request, hooks, flowRun, done, attempt + 1);
    else done(cancelled(cancellation, request.workerId), request);
  });
}

function runOnce(request: AttemptRequest, attempt: number, hooks: AttemptHooks, flowRun: FlowRunScope | undefined): unknown {
  const { options } = request;
  if (options.timeoutMs === Infinity) {
    // Called inside runAttemptsThen's try: a synchronous throw is caught there like a rejection.
    return call(request, attempt, undefined, hooks, flowRun);
  }
  // A timed attempt gets its own signal, aborted by the run's signal or by the timer.
  const controller = new AbortController();
  const runSignal = request.cancellation.signal;
  const onAbort = () => controller.abort(runSignal.reason);
  // The run may have been cancelled already (by a 'task-run:started' listener): 'abort' will not fire again.
  if (runSignal.aborted) onAbort();
  else runSignal.addEventListener('abort', onAbort, { once: true });
  return new Promise<unknown>((resolve, reject) => {
    const timedOut = () => {
      const error = new TaskTimeoutError(options.name, options.timeoutMs);
      controller.abort(error);
      reject(error);
    };
    const timer = setTimeout(timedOut, options.timeoutMs);
    const start = performance.now();
    // A synchronous body (or one that blocks the thread) keeps the timer from firing while it runs:
    // an attempt that ended past its deadline is a timeout all the same, its value discarded.
    const overdue = () => performance.now() - start >= options.timeoutMs;
    new Promise<unknown>((settle) => settle(call(request, attempt, controller.signal, hooks, flowRun))).then(
      (value) => (overdue() ? timedOut() : resolve(value)),
      (error: unknown) => (overdue() ? timedOut() : reject(error)),
    ).finally(() => {
      clearTimeout(timer);
      runSignal.removeEventListener('abort', onAbort);
    });
  });
}

/** Calls the task's function in its run context; returns what it returns (throws what it throws). */
function call(request: AttemptRequest, attempt: number, signal: AbortSignal | undefined, hooks: AttemptHooks, flowRun: FlowRunScope | undefined): unknown {
  const store = new AttemptScope(request, attempt, signal, hooks, flowRun, storage.getStore()?.annotations);
  return storage.run(store, request.fn as (...args: unknown[]) => unknown, ...request.args);
}

/**
 * The task scope of one attempt; its signal is the run's (made on first read) or the timed
 * attempt's. It is also the attempt's run store (its own `task`): one object per attempt, not two.
 */
class AttemptScope implements TaskScope, RunStore {
  constructor(
    readonly request: AttemptRequest,
    readonly attempt: number,
    readonly timedSignal: AbortSignal | undefined,
    readonly hooks: AttemptHooks,
    readonly flowRun: FlowRunScope | undefined,
    readonly annotations: RunStore['annotations'],
  ) {}

  get task(): TaskScope {
    return this;
  }

  /** The task waits for other task runs: its slot is lent out meanwhile (the lender counts overlapping waits). */
  secede(): () => void {
    return this.request.lend?.(this.request.taskRunId) ?? noop;
  }

  get taskRunId(): string {
    return this.request.taskRunId;
  }

  get taskName(): string {
    return this.request.options.name;
  }

  get flowRunId(): string {
    return this.request.flowRunId;
  }

  get workerId(): string {
    return this.request.workerId;
  }

  get signal(): AbortSignal {
    return this.timedSignal ?? this.request.cancellation.signal;
  }

  log(level: LogLevel, message: string): void {
    this.hooks.log(this.request, level, message);
  }
}

const noop = (): void => {};

function cancelled(signal: Cancellation, workerId: string, serviceMs?: number): TaskOutcome {
  const reason = signal.reason;
  const error = reason instanceof CancelledError ? reason : new CancelledError(typeof reason === 'string' ? reason : 'the task run was cancelled');
  return serviceMs === undefined ? { state: 'Cancelled', error, workerId } : { state: 'Cancelled', error, workerId, serviceMs };
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    // Aborted already (e.g. by a 'task-run:retried' listener): 'abort' will not fire again.
    if (signal.aborted) return resolve(false);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function asError(value: unknown): Error {
  if (value instanceof Error) return value;
  const error = new Error(`A non-Error value was thrown: ${String(value)}`);
  (error as Error & { thrown?: unknown }).thrown = value;
  return error;
}
