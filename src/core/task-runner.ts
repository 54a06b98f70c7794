import type { EventBus } from '../events/bus.ts';
import type { Resources } from '../schedule/resources.ts';
import type { ResolvedTaskOptions } from './options.ts';
import type { TaskRef } from '../protocol/task-ref.ts';
import type { FlowRunScope } from './context.ts';
import type { RunSignal } from './run-signal.ts';

/**
 * The lifecycle of a runner, a pool, a cluster or a worker.
 * - `idle`: constructed, not started.
 * - `starting`: `start()` is bringing up workers.
 * - `running`: accepting work.
 * - `draining`: `shutdown()` was called; running work finishes, nothing new starts.
 * - `closed`: everything it started has stopped.
 * - `failed`: it could not start, or lost what it runs on.
 */
export type LifecycleState = 'idle' | 'starting' | 'running' | 'draining' | 'closed' | 'failed';

/** What a runner is given when a flow run starts it. */
export interface RunnerContext {
  readonly flowRunId: string;
  readonly flowName: string;
  /** The flow run's event stream; runners emit worker and task-run events on it. */
  readonly events: EventBus;
  /** The flow run itself, for tasks that run in the flow's process (they may submit more tasks). */
  readonly flowRun: FlowRunScope;
}

/** One task run handed to a runner: its identity, resolved arguments and options. */
export interface TaskJob {
  readonly taskRunId: string;
  readonly flowRunId: string;
  readonly ref: TaskRef;
  /** The task function itself, for runners that run it in the flow's process. */
  readonly fn: (...args: never[]) => unknown;
  /** Arguments with every future already replaced by its value. */
  readonly args: unknown[];
  readonly options: ResolvedTaskOptions;
  /**
   * Aborted when the task run is cancelled (its future, its flow run). Read `cancellation.aborted`
   * on hot paths; `cancellation.signal` makes a real AbortSignal on first read.
   */
  readonly cancellation: RunSignal;
}

/**
 * The start of a run's final attempt, when it reached the runner in the same report as the run's
 * end (a worker batches both for a short task): the engine emits its `task-run:started` just
 * before the run's `task-run:finished`, after the end of whatever ran before it in that slot.
 */
export interface ReportedStart {
  readonly attempt: number;
  readonly time: number;
}

/** How a task run ended, as a runner reports it. A runner's `submit` never rejects. */
export type TaskOutcome =
  | { readonly state: 'Completed'; readonly value: unknown; readonly workerId?: string; readonly started?: ReportedStart }
  | { readonly state: 'Failed' | 'Crashed' | 'Cancelled'; readonly error: Error; readonly workerId?: string; readonly started?: ReportedStart };

/**
 * Where tasks run. A flow run takes a fresh copy with `duplicate()`, calls `start()`, hands it
 * jobs with `submit()`, and calls `shutdown()` when the flow run ends.
 *
 * A runner emits `task-run:started` and `task-run:retried` on the context's events as attempts
 * begin and fail; the engine emits `submitted` and `finished`.
 */
export interface TaskRunner {
  /** A short name for logs and reports: `sequential`, `parallel(threads, 2)`. */
  readonly name: string;
  readonly state: LifecycleState;
  /**
   * What the runner's workers have in all, for a check at submit time: a task that needs more
   * than this can never run here. `undefined` when the runner cannot know (a shared cluster).
   */
  readonly capacity: Resources | undefined;
  /** Whether task arguments and results cross a serialization boundary. */
  readonly serializes: boolean;
  start(context: RunnerContext): Promise<void>;
  /** Runs the job and resolves how it ended. Never rejects; aborting `job.cancellation` cancels it. */
  submit(job: TaskJob): Promise<TaskOutcome>;
  /** Cancels every job not yet finished. */
  cancel(reason?: string): Promise<void>;
  /** Lets running jobs finish (or be cancelled), then stops everything the runner started. */
  shutdown(): Promise<void>;
  /** A new runner with the same options, in state `idle`. */
  duplicate(): TaskRunner;
  /**
   * Optional, for runners that run tasks in the flow's process: a running task is about to wait for
   * other task runs, so lend its slot to them until the returned function is called (Dask's
   * secede/rejoin). Without it, tasks waiting on tasks they submitted could fill every slot.
   */
  secede?(): () => void;
}
