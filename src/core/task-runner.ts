import type { EventSink } from '../events/events.ts';
import type { FlowRunState } from './states.ts';
import type { Resources } from '../schedule/resources.ts';
import type { TaskRef } from '../protocol/task-ref.ts';
import type { WireTaskDef } from '../protocol/messages.ts';
import type { Cancellation } from './run-signal.ts';

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

/** The options an engine sees: every field present, validated. */
export interface ResolvedTaskOptions {
  readonly name: string;
  readonly retries: number;
  readonly retryDelayMs: readonly number[];
  readonly timeoutMs: number;
  readonly priority: number;
  readonly resources: Resources;
  readonly tags: readonly string[];
}

/** What the engine needs of a task: its name, identity, function and options (a `Task` is one). */
export interface TaskDef {
  readonly taskName: string;
  readonly ref: TaskRef;
  readonly fn: (...args: never[]) => unknown;
  readonly options: ResolvedTaskOptions;
}

/** What a runner is given when a flow run starts it. */
export interface RunnerContext {
  readonly flowRunId: string;
  readonly flowName: string;
  /** The flow run's event stream; runners emit worker and task-run events on it. */
  readonly events: EventSink;
  /**
   * Aborted when the flow run is cancelled. Every live job's own `cancellation` is aborted too,
   * which is all a runner must watch; this one lets a runner stop its own machinery at once (a
   * temporary cluster stops its workers).
   */
  readonly signal: AbortSignal;
}

/**
 * Lends the slot of the task run `holder` while it waits for other task runs (Dask's
 * secede/rejoin), until the returned function is called. Calls for one holder are counted: its
 * slot is lent once however many waits overlap, and taken back when the last one ends.
 */
export type Lend = (holder: string) => () => void;

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
   * Aborted when the task run is cancelled (its future, its flow run): the one way a runner
   * learns of a cancel. Read `cancellation.aborted` on hot paths; `cancellation.signal` makes a
   * real AbortSignal on first read.
   */
  readonly cancellation: Cancellation;
  /** When its upstream futures had resolved and it was handed to the runner (for `task-run:started`). */
  readonly readyTime: number;
  /**
   * Runs the job here, in the flow's process, as every weft runner does that runs tasks in
   * process: its attempts with retries and `timeoutMs`, its run context (`getRunContext()`, the
   * logger, the AbortSignal, submitting more tasks), and its `task-run:started`/`retried`/`log`
   * events, labelled `workerId`. `lend`, if the runner has slots, lets a task that waits on other
   * task runs give its slot back meanwhile. Never rejects.
   */
  runHere(workerId: string, lend?: Lend): Promise<TaskOutcome>;
  /**
   * This job's task, running in a worker (a thread, a process), submits another task run
   * (`getClient()` there): it is recorded in this job's flow run and runs on the same runner.
   * Resolves its value, or rejects as `future.result()` does.
   */
  submitNested(task: WireTaskDef, args: unknown[]): Promise<unknown>;
}

/**
/**
 * The start of a run's final attempt, when it reached the runner in the same report as the run's
 * end (a worker batches both for a short task): the engine emits its `task-run:started` just
 * before the run's `task-run:finished`, after the end of whatever ran before it in that slot.
 */
export interface ReportedStart {
  readonly attempt: number;
  readonly time: number;
}

/**
 * How a task run ended, as a runner reports it. A runner's `submit` never rejects. `serviceMs`:
 * how long the final attempt ran, measured where it ran (for `task-run:finished`).
 */
export type TaskOutcome =
  | { readonly state: 'Completed'; readonly value: unknown; readonly workerId?: string; readonly serviceMs?: number; readonly started?: ReportedStart }
  | { readonly state: 'Failed' | 'Crashed' | 'Cancelled'; readonly error: Error; readonly workerId?: string; readonly serviceMs?: number; readonly started?: ReportedStart };

/**
 * @internal The engine's callback path into weft's own runners, beside the public `submit`: the
 * runner calls `done(outcome, job)` once, never synchronously, and returns true; or returns
 * false, having done nothing, when the engine must use `submit` (a subclass that overrides it).
 * Not on {@link TaskRunner}: runners written outside weft implement `submit` only.
 */
export const submitThen: unique symbol = Symbol('weft.submitThen');
export interface DirectSubmit {
  [submitThen](job: TaskJob, done: (outcome: TaskOutcome, job: TaskJob) => void): boolean;
}

/**
 * Where tasks run. A flow run takes a fresh copy with `duplicate()`, calls `start()`, hands it
 * jobs with `submit()`, and calls `shutdown()` when the flow run ends. Cancellation reaches a
 * runner one way only: through each job's `cancellation` (and the context's `signal`).
 *
 * Everything a runner's types name is exported from weft's entry point, so a runner can be
 * written outside weft: a minimal in-process one is `submit: (job) => job.runHere('main')`.
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
  /**
   * Where the flow run writes its HTML performance report when it ends (an absolute path,
   * checked when the runner was made); the HTML is also on the run record.
   */
  readonly performanceReport?: string | undefined;
  start(context: RunnerContext): Promise<void>;
  /** Runs the job and resolves how it ended. Never rejects; aborting `job.cancellation` cancels it. */
  submit(job: TaskJob): Promise<TaskOutcome>;
  /**
   * Lets running jobs finish (or be cancelled), then stops everything the runner started.
   * `ending.state`: how the flow run ended, when the flow run calls it at its end (a runner that
   * publishes the run elsewhere, e.g. a cluster's dashboard, passes it on).
   */
  shutdown(ending?: { readonly state: FlowRunState }): Promise<void>;
  /** A new runner with the same options, in state `idle`. */
  duplicate(): TaskRunner;
}
