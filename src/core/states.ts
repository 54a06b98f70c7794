/**
 * The states of task runs and flow runs, and the records a finished run leaves behind.
 * @module
 */

/** Every state a task run can be in. Completed, Failed, Crashed and Cancelled are final. */
export const TaskRunState = {
  /** Submitted, waiting for its upstream futures or for a worker. */
  Pending: 'Pending',
  /** An attempt is running on a worker. */
  Running: 'Running',
  /** An attempt failed and another is scheduled (`retries`). */
  Retrying: 'Retrying',
  /** The task returned a value. */
  Completed: 'Completed',
  /** The task's code threw (or ran past `timeoutMs`), or an upstream future did not complete. */
  Failed: 'Failed',
  /** The infrastructure failed: the worker running it died. The task's code is not to blame. */
  Crashed: 'Crashed',
  /** Cancelled by its future, its flow run, or the flow run failing. */
  Cancelled: 'Cancelled',
} as const;
export type TaskRunState = (typeof TaskRunState)[keyof typeof TaskRunState];

/** States a task run ends in. */
export type FinalTaskRunState = 'Completed' | 'Failed' | 'Crashed' | 'Cancelled';

export function isFinal(state: TaskRunState): state is FinalTaskRunState {
  return state === 'Completed' || state === 'Failed' || state === 'Crashed' || state === 'Cancelled';
}

/** Every state a flow run can be in. */
export const FlowRunState = {
  Running: 'Running',
  Completed: 'Completed',
  Failed: 'Failed',
  Cancelled: 'Cancelled',
  Crashed: 'Crashed',
} as const;
export type FlowRunState = (typeof FlowRunState)[keyof typeof FlowRunState];

/** What a task run did, kept on the flow run's record after it ends. Times are epoch ms. */
export interface TaskRunRecord {
  readonly id: string;
  readonly taskName: string;
  state: TaskRunState;
  readonly submittedAt: number;
  startedAt?: number;
  endedAt?: number;
  /** The task's `tags` option. */
  readonly tags: readonly string[];
  /** Attempts started (1 plus the retries used). */
  attempts: number;
  /** The worker that ran the last attempt: `main`, `thread-2`, `process-1`, a cluster worker id. */
  workerId?: string;
  /** The error the run ended with, for Failed, Crashed and Cancelled runs. */
  error?: Error;
}

/** Everything a flow run did: its final state, each task run, and the timings. */
export interface FlowRunRecord<R = unknown> {
  readonly id: string;
  readonly flowName: string;
  readonly parentId?: string;
  state: FlowRunState;
  readonly startedAt: number;
  endedAt?: number;
  durationMs?: number;
  /** The flow's return value, when it Completed. */
  result?: R;
  /** Why it did not complete. */
  error?: Error;
  /** Every task run of this flow run, in submission order. */
  readonly taskRuns: TaskRunRecord[];
  /** The ids of subflow runs started from this flow run. */
  readonly subflowRunIds: string[];
  /** Task runs per final state. */
  counts: Record<TaskRunState, number>;
  /** The HTML performance report, when the runner had `performanceReport` (also written to that path). */
  performanceReport?: string;
}
