import { runAttempts, type AttemptHooks, type AttemptRequest } from '../core/attempts.ts';
import type { ResolvedTaskOptions } from '../core/options.ts';
import type { TaskOutcome } from '../core/task-runner.ts';
import type { RunSignal } from '../core/run-signal.ts';
import { decodeArgs, encodeValue } from '../protocol/prototypes.ts';
import { loadTask, type TaskRef } from '../protocol/task-ref.ts';

/** A task run as it reaches a worker (thread, process, cluster worker): plain data only. */
export interface ExecuteRequest {
  readonly taskRunId: string;
  readonly flowRunId: string;
  readonly ref: TaskRef;
  readonly args: unknown[];
  readonly options: ResolvedTaskOptions;
  /** The worker's job id (threads, processes), carried onto the attempt request for its hooks. */
  readonly id?: number;
}

/**
 * Runs a task on a worker: imports its module (once), finds it by name, restores the prototypes
 * of marked class instances in its arguments, and runs its attempts (retries, timeout, run
 * context) exactly as the flow's process would; pass the outcome through {@link sendable} before
 * sending it. Never rejects: a task that cannot be found, or arguments that cannot be rebuilt, is a
 * Failed outcome carrying the error that says so.
 */
export function executeTask(request: ExecuteRequest, workerId: string, cancellation: RunSignal, hooks: AttemptHooks): Promise<TaskOutcome> {
  // Workers that keep one ref object per task (threads, processes) skip the lookup, and its await.
  const known = loaded.get(request.ref);
  let args: unknown[] | Promise<unknown[]>;
  try {
    args = decodeArgs(request.args);
  } catch (error) {
    return Promise.resolve({ state: 'Failed', error: error as Error, workerId });
  }
  if (known && !(args instanceof Promise)) return runAttempts(attemptOf(request, args, known, cancellation, workerId), hooks, undefined);
  return loadThenRun(request, args, workerId, cancellation, hooks);
}

async function loadThenRun(request: ExecuteRequest, pendingArgs: unknown[] | Promise<unknown[]>, workerId: string, cancellation: RunSignal, hooks: AttemptHooks): Promise<TaskOutcome> {
  let fn: (...args: never[]) => unknown;
  let args: unknown[];
  try {
    fn = (await loadTask(request.ref)).fn;
    args = await pendingArgs;
  } catch (error) {
    return { state: 'Failed', error: error as Error, workerId };
  }
  loaded.set(request.ref, fn);
  return runAttempts(attemptOf(request, args, fn, cancellation, workerId), hooks, undefined);
}

/**
 * The attempt request of a run here, written out: V8 builds `{ ...request, args, fn }` through a slow
 * path, about ten times a literal's cost (2-4 µs a task run, measured on Node 20).
 */
function attemptOf(request: ExecuteRequest, args: unknown[], fn: (...args: never[]) => unknown, cancellation: RunSignal, workerId: string): AttemptRequest & { readonly id?: number } {
  return { id: request.id, taskRunId: request.taskRunId, flowRunId: request.flowRunId, fn, args, options: request.options, cancellation, workerId };
}

/**
 * The outcome with its value as it must travel (an envelope when it holds marked class instances);
 * a value with an unmarked class instance in it fails the run, naming it (`result.items[0]`).
 * Called by each worker on what {@link executeTask} resolved, not inside it: a `.then` per task
 * would cost the hot path a promise.
 */
export function sendable(outcome: TaskOutcome): TaskOutcome {
  if (outcome.state !== 'Completed' || typeof outcome.value !== 'object' || outcome.value === null) return outcome;
  try {
    const value = encodeValue(outcome.value, 'result');
    return value === outcome.value ? outcome : { ...outcome, value };
  } catch (error) {
    return { state: 'Failed', error: error as Error, workerId: outcome.workerId };
  }
}

/** Tasks already found, by the ref object they were asked for with. */
const loaded = new WeakMap<TaskRef, (...args: never[]) => unknown>();
