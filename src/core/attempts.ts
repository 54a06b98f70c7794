import { CancelledError, TaskTimeoutError } from '../errors.ts';
import type { LogLevel } from '../events/events.ts';
import { storage, type FlowRunScope, type RunStore, type TaskScope } from './context.ts';
import { retryDelay, type ResolvedTaskOptions } from './options.ts';
import type { TaskOutcome } from './task-runner.ts';

/** One task run to execute here, wherever "here" is: the flow's process, a thread, a process, a cluster worker. */
export interface AttemptRequest {
  readonly taskRunId: string;
  readonly flowRunId: string;
  readonly fn: (...args: never[]) => unknown;
  readonly args: readonly unknown[];
  readonly options: ResolvedTaskOptions;
  readonly signal: AbortSignal;
  readonly workerId: string;
}

/** How the executing side reports progress: to the event bus in process, to a message port elsewhere. */
export interface AttemptHooks {
  started(attempt: number): void;
  retried(attempt: number, error: unknown, delayMs: number): void;
  log(level: LogLevel, message: string): void;
}

/**
 * Runs a task with its retries and `timeoutMs`, in a run context that gives the task its
 * `AbortSignal` and logger. Resolves how it ended; never rejects. This is the only place a task's
 * code is called, whichever runner runs it.
 */
export async function runAttempts(request: AttemptRequest, hooks: AttemptHooks, flowRun: FlowRunScope | undefined): Promise<TaskOutcome> {
  const { options, signal } = request;
  const total = options.retries + 1;
  for (let attempt = 1; ; attempt++) {
    if (signal.aborted) return cancelled(signal, request.workerId);
    hooks.started(attempt);
    try {
      const value = await runOnce(request, attempt, hooks, flowRun);
      return { state: 'Completed', value, workerId: request.workerId };
    } catch (error) {
      if (signal.aborted) return cancelled(signal, request.workerId);
      if (attempt >= total) return { state: 'Failed', error: asError(error), workerId: request.workerId };
      const delayMs = retryDelay(options, attempt);
      hooks.retried(attempt, error, delayMs);
      if (delayMs > 0 && !(await sleep(delayMs, signal))) return cancelled(signal, request.workerId);
    }
  }
}

function runOnce(request: AttemptRequest, attempt: number, hooks: AttemptHooks, flowRun: FlowRunScope | undefined): Promise<unknown> {
  const { options } = request;
  if (options.timeoutMs === Infinity) {
    return call(request, attempt, request.signal, hooks, flowRun);
  }
  // A timed attempt gets its own signal, aborted by the run's signal or by the timer.
  const controller = new AbortController();
  const onAbort = () => controller.abort(request.signal.reason);
  request.signal.addEventListener('abort', onAbort, { once: true });
  return new Promise<unknown>((resolve, reject) => {
    const timer = setTimeout(() => {
      const error = new TaskTimeoutError(options.name, options.timeoutMs);
      controller.abort(error);
      reject(error);
    }, options.timeoutMs);
    call(request, attempt, controller.signal, hooks, flowRun).then(resolve, reject).finally(() => {
      clearTimeout(timer);
      request.signal.removeEventListener('abort', onAbort);
    });
  });
}

async function call(request: AttemptRequest, attempt: number, signal: AbortSignal, hooks: AttemptHooks, flowRun: FlowRunScope | undefined): Promise<unknown> {
  const scope: TaskScope = {
    taskRunId: request.taskRunId,
    taskName: request.options.name,
    flowRunId: request.flowRunId,
    attempt,
    workerId: request.workerId,
    signal,
    log: hooks.log,
  };
  const store: RunStore = { flowRun, task: scope, annotations: storage.getStore()?.annotations };
  return storage.run(store, request.fn as (...args: unknown[]) => unknown, ...request.args);
}

function cancelled(signal: AbortSignal, workerId: string): TaskOutcome {
  const reason = signal.reason;
  const error = reason instanceof CancelledError ? reason : new CancelledError(typeof reason === 'string' ? reason : 'the task run was cancelled');
  return { state: 'Cancelled', error, workerId };
}

/** Resolves true after `ms`, or false as soon as `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
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
