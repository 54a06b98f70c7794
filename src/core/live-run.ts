import type { FoldedRun } from '../events/fold.ts';
import type { TaskRunRecord } from './states.ts';
import type { AttemptRequest } from './attempts.ts';
import type { TaskRef } from '../protocol/task-ref.ts';
import type { WireTaskDef } from '../protocol/messages.ts';
import type { TaskFuture } from './future.ts';
import { RunSignal } from './run-signal.ts';
import type { Lend, ResolvedTaskOptions, TaskJob, TaskOutcome } from './task-runner.ts';

/** What a live run asks of its engine. */
export interface RunHost {
  runHere(run: LiveRun, workerId: string, lend: Lend | undefined): Promise<TaskOutcome>;
  runHereThen(run: LiveRun, workerId: string, lend: Lend | undefined, done: (outcome: TaskOutcome) => void): void;
  submitNested(task: WireTaskDef, args: unknown[]): Promise<unknown>;
}

/**
 * A task run while it is live: the engine's bookkeeping (its future, its folded record) and the
 * job the runner is handed, in one object, so that a task run costs the engine few allocations.
 * Dropped when the run ends; its record stays in the flow run's. It is its own `cancellation`, and
 * the fold's handle on its record (a {@link FoldedRun}).
 */
export class LiveRun extends RunSignal implements TaskJob, AttemptRequest, FoldedRun {
  /** When its upstream futures had resolved and it was handed to the runner. */
  readyTime = 0;
  /** Arguments, with futures replaced by their values once they are known. */
  args: unknown[];
  /** Where it runs, once run here: the run is its own attempt request (one object fewer per run). */
  workerId = '';
  lend: Lend | undefined = undefined;
  /** The attempt running now, as the fold keeps it (0: none). */
  openAttempt = 0;
  openWorkerId = '';
  openReadyTime: number | undefined = undefined;
  openStartTime = 0;
  readonly indexed = false;
  /** The engine's list of live runs runs through them (no map entry per run). */
  prevLive: LiveRun | undefined = undefined;
  nextLive: LiveRun | undefined = undefined;
  /** Whether the engine also finds it by id (for events a runner emits about it). */
  byId = false;
  readonly #host: RunHost;

  constructor(
    readonly taskRunId: string,
    readonly flowRunId: string,
    readonly ref: TaskRef,
    readonly fn: (...args: never[]) => unknown,
    args: readonly unknown[],
    readonly options: ResolvedTaskOptions,
    readonly future: TaskFuture<unknown>,
    readonly record: TaskRunRecord,
    host: RunHost,
  ) {
    super();
    this.args = args as unknown[];
    this.#host = host;
  }

  /** The run is its own cancellation (one object less per run). */
  get cancellation(): RunSignal {
    return this;
  }

  runHere(workerId: string, lend?: Lend): Promise<TaskOutcome> {
    return this.#host.runHere(this, workerId, lend);
  }

  /** {@link runHere} with a callback, called once, never synchronously (weft's in-process handles use it). */
  runHereThen(workerId: string, lend: Lend | undefined, done: (outcome: TaskOutcome) => void): void {
    this.#host.runHereThen(this, workerId, lend, done);
  }

  submitNested(task: WireTaskDef, args: unknown[]): Promise<unknown> {
    return this.#host.submitNested(task, args);
  }
}
