import type { Lend, TaskJob, TaskOutcome } from '../core/task-runner.ts';

/**
 * How a job left a worker, as the pool sees it: a {@link TaskOutcome}, or `Requeue` when the
 * worker died or was stopped with the job still waiting in it, so the job never ran to an end
 * there. A `suspect` job was in the worker when it crashed and may have caused it: the pool runs
 * it again alone, so a crash charges the task that caused it and nothing else.
 */
export type HandleOutcome = TaskOutcome | { readonly state: 'Requeue'; readonly suspect: boolean };

/**
 * One worker of a local pool, as the pool sees it: the event loop ('async'), a worker thread, or a
 * child process. It runs its jobs one at a time, in order; the pool may hand it a few short jobs
 * ahead (up to `pipelineDepth`) so it never waits for a round trip. Everything else (queueing,
 * priority, resources, replacing dead workers) is the pool's.
 */
export interface WorkerHandle {
  /** `main`, `async-0`, `thread-1`, `process-2`: what events and reports call it. */
  readonly id: string;
  /** False once the worker died or was stopped; the pool replaces it. */
  readonly alive: boolean;
  /**
   * True while its running job waits on task runs it submitted (`getClient()`): nothing is
   * pipelined behind it then, since a job queued there could be the one it waits for.
   */
  readonly waiting?: boolean;
  /**
   * Runs one job and resolves how it ended. Never rejects. `crashes` counts the workers that
   * already died with this job in them; `lend` is the pool's, for tasks that run in this process.
   */
  run(job: TaskJob, crashes?: number, lend?: Lend): Promise<HandleOutcome>;
  /**
   * `run` with a callback, for handles that run jobs in the flow's process: `done` is called once,
   * never synchronously from this call. The pool uses it when a handle has it (no promise per job).
   */
  runThen?(job: TaskJob, crashes: number, lend: Lend, done: (outcome: HandleOutcome) => void): void;
  /** Stops the worker. Work still running on it is abandoned. */
  close(): Promise<void>;
}
