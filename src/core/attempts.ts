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

/**
 * Runs a task with its retries and `timeoutMs`, in a run context that gives the task its
 * `AbortSignal` and logger. Resolves how it ended; never rejects. This is the only place a task's
 * code is called, whichever runner runs it.
 */
export async function runAttempts(request: AttemptRequest, hooks: AttemptHooks, flowRun: FlowRunScope | undefined): Promise<TaskOutcome> {
  const { options, cancellation } = request;
  const total = options.retries + 1;
  for (let attempt = 1; ; attempt++) {
    if (cancellation.aborted) return cancelled(cancellation, request.workerId);
    const startTime = now();
    hooks.started(request, attempt, startTime);
    try {
      const value = await runOnce(request, attempt, hooks, flowRun);
      return { state: 'Completed', value, workerId: request.workerId, serviceMs: now() - startTime };
    } catch (error) {
      if (cancellation.aborted) return cancelled(cancellation, request.workerId, now() - startTime);
      if (attempt >= total) return { state: 'Failed', error: asError(error), workerId: request.workerId, serviceMs: now() - startTime };
      const delayMs = retryDelay(options, attempt);
      hooks.retried(request, attempt, error, delayMs);
      if (delayMs > 0 && !(await sleep(delayMs, cancellation.signal))) return cancelled(cancellation, request.workerId);
    }
  }
}

function runOnce(request: AttemptRequest, attempt: number, hooks: AttemptHooks, flowRun: FlowRunScope | undefined): unknown {
  const { options } = request;
  if (options.timeoutMs === Infinity) {
    // Awaited by runAttempts inside its try: a synchronous throw is caught there like a rejection.
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
  const store: RunStore = { flowRun, task: new AttemptScope(request, attempt, signal, hooks, flowRun), annotations: storage.getStore()?.annotations };
  return storage.run(store, request.fn as (...args: unknown[]) => unknown, ...request.args);
}

/** The task scope of one attempt; its signal is the run's (made on first read) or the timed attempt's. */
class AttemptScope implements TaskScope {
  constructor(
    readonly request: AttemptRequest,
    readonly attempt: number,
    readonly timedSignal: AbortSignal | undefined,
    readonly hooks: AttemptHooks,
    readonly flowRun: FlowRunScope | undefined,
  ) {}

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
