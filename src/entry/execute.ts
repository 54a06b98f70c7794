import { runAttempts, type AttemptHooks } from '../core/attempts.ts';
import type { ResolvedTaskOptions } from '../core/options.ts';
import type { TaskOutcome } from '../core/task-runner.ts';
import type { RunSignal } from '../core/run-signal.ts';
import { loadTask, type TaskRef } from '../protocol/task-ref.ts';

/** A task run as it reaches a worker (thread, process, cluster worker): plain data only. */
export interface ExecuteRequest {
  readonly taskRunId: string;
  readonly flowRunId: string;
  readonly ref: TaskRef;
  readonly args: unknown[];
  readonly options: ResolvedTaskOptions;
}

/**
 * Runs a task on a worker: imports its module (once), finds it by name, and runs its attempts
 * (retries, timeout, run context) exactly as the flow's process would. Never rejects: a task that
 * cannot be found is a Failed outcome carrying `TaskNotFoundError`.
 */
export function executeTask(request: ExecuteRequest, workerId: string, cancellation: RunSignal, hooks: AttemptHooks): Promise<TaskOutcome> {
  // Workers that keep one ref object per task (threads, processes) skip the lookup, and its await.
  const known = loaded.get(request.ref);
  if (known) return runAttempts({ ...request, fn: known, cancellation, workerId }, hooks, undefined);
  return loadThenRun(request, workerId, cancellation, hooks);
}

async function loadThenRun(request: ExecuteRequest, workerId: string, cancellation: RunSignal, hooks: AttemptHooks): Promise<TaskOutcome> {
  let fn: (...args: never[]) => unknown;
  try {
    fn = (await loadTask(request.ref)).fn;
  } catch (error) {
    return { state: 'Failed', error: error as Error, workerId };
  }
  loaded.set(request.ref, fn);
  return runAttempts({ ...request, fn, cancellation, workerId }, hooks, undefined);
}

/** Tasks already found, by the ref object they were asked for with. */
const loaded = new WeakMap<TaskRef, (...args: never[]) => unknown>();
