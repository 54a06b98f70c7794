import type { TaskJob, TaskOutcome } from '../core/task-runner.ts';

/**
 * One worker of a local pool, as the pool sees it: the event loop ('async'), a worker thread, or a
 * child process. It runs one job at a time; everything else (queueing, priority, resources,
 * replacing dead workers) is the pool's.
 */
export interface WorkerHandle {
  /** `main`, `async-0`, `thread-1`, `process-2`: what events and reports call it. */
  readonly id: string;
  /** False once the worker died or was stopped; the pool replaces it. */
  readonly alive: boolean;
  /** Runs one job and resolves how it ended. Never rejects. */
  run(job: TaskJob): Promise<TaskOutcome>;
  /** Stops the worker. Work still running on it is abandoned. */
  close(): Promise<void>;
}
