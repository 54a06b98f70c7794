import { CancelledError } from '../errors.ts';
import type { Cancellation } from '../core/run-signal.ts';
import type { TaskJob, TaskOutcome } from '../core/task-runner.ts';
import type { TaskRef } from '../protocol/task-ref.ts';
import { requirementSignature, type TaskWire } from './protocol.ts';

/**
 * A task run to send; `readyTime` (when it was handed to the runner) goes on its 'started' events;
 * `submitNested` (the engine's {@link TaskJob.submitNested}) runs what its task submits through `getClient()`.
 */
export type ClientTask = TaskWire & { readonly readyTime?: number; readonly submitNested?: TaskJob['submitNested'] };

/** Hears how a pending run ended, once, with the run as it was submitted. */
export type RunDone = (outcome: TaskOutcome, task: ClientTask) => void;

/**
 * A task run sent and not settled yet. It is also the run's wire form (its ref and arguments as
 * they go to another host), built once when the run is submitted: the submitter sends the record itself.
 */
export interface PendingRun extends TaskWire {
  /** The run as submitted: what its attempt events are about. */
  readonly task: ClientTask;
  readonly cancellation: Cancellation | undefined;
  /** Its resource requirement signature ('' for none): its queue. */
  readonly signature: string;
  /** The last worker that started it (the one to blame if it crashes). */
  lastWorker: string | undefined;
  /** The BullMQ job it went in (and the shard of the ring it went to), once added. */
  job: { readonly id: string; readonly shard: number } | undefined;
  /** Whether it has settled (it is then no longer in {@link PendingRuns}). */
  readonly settled: boolean;
}

/** A pending run as kept: with whom to tell how it ended. */
interface Entry extends PendingRun {
  settled: boolean;
  readonly done: RunDone;
}

/** Task runs of one flow run cancelled through their own futures, found by one sweep. */
export interface CancelledGroup {
  readonly flowRunId: string;
  readonly runs: readonly PendingRun[];
  readonly reason: string;
}

const SWEEP_MS = 200;

/**
 * The task runs a cluster session has sent and not settled: each settles exactly once, by its
 * result, a cancel, or the loss of the connection, and no submission is ever left unresolved.
 * Runs cancelled through their own futures are found by polling (`onCancelled` hears them), so no
 * AbortSignal is made per run.
 */
export class PendingRuns {
  readonly #runs = new Map<string, Entry>();
  #sweep: NodeJS.Timeout | undefined;

  constructor(
    /** Runs cancelled through their futures, already settled Cancelled here: the workers are to be told. */
    readonly onCancelled: (group: CancelledGroup) => void,
  ) {}

  get size(): number {
    return this.#runs.size;
  }

  get(taskRunId: string): PendingRun | undefined {
    return this.#runs.get(taskRunId);
  }

  /**
   * Adds a run, with its ref and arguments as they go to another host; `done` hears how it ended
   * (never from inside this call). Returns its record, which is also its wire form.
   */
  add(task: ClientTask, ref: TaskRef, args: readonly unknown[], cancellation: Cancellation | undefined, done: RunDone): PendingRun {
    const entry: Entry = {
      taskRunId: task.taskRunId, flowRunId: task.flowRunId, ref, options: task.options, args,
      task, cancellation, done, lastWorker: undefined, job: undefined, settled: false, signature: requirementSignature(task.options.resources),
    };
    this.#runs.set(task.taskRunId, entry);
    this.#sweep ??= setInterval(() => this.#sweepCancelled(), SWEEP_MS);
    return entry;
  }

  /** Settles a run (once; later outcomes of the same run are ignored). */
  resolve(taskRunId: string, outcome: TaskOutcome): void {
    const run = this.#runs.get(taskRunId);
    if (!run) return;
    this.#runs.delete(taskRunId);
    run.settled = true;
    run.done(outcome, run.task);
    if (this.#runs.size === 0) this.#stopSweep();
  }

  /** Settles these runs Cancelled, with `reason`. */
  cancelPending(ids: readonly string[], reason: string): void {
    const error = new CancelledError(reason);
    for (const id of ids) this.resolve(id, { state: 'Cancelled', error });
  }

  /** The pending runs of one flow run. */
  ofFlowRun(flowRunId: string): PendingRun[] {
    return [...this.#runs.values()].filter((r) => r.task.flowRunId === flowRunId);
  }

  /** Settles every pending run the same way (the session closed, or lost its connection) and stops sweeping. */
  settleAll(outcome: TaskOutcome): void {
    this.#stopSweep();
    for (const id of [...this.#runs.keys()]) this.resolve(id, outcome);
  }

  /** The resource requirements of pending runs, each with a task name that needs it (for the "no worker has it" warning). */
  waitingRequirements(): Map<string, string> {
    const out = new Map<string, string>();
    for (const r of this.#runs.values()) if (r.signature !== '' && !out.has(r.signature)) out.set(r.signature, r.task.options.name);
    return out;
  }

  #stopSweep(): void {
    clearInterval(this.#sweep);
    this.#sweep = undefined;
  }

  /**
   * Settles every pending run Cancelled (the session is closing: nothing it sent is wanted any
   * more) and returns them by flow run, so that workers still running them can be told to stop.
   * Runs cancelled through their futures keep their own reason.
   */
  cancelAll(reason: string): CancelledGroup[] {
    const groups = this.#byFlowRun(() => true, reason);
    for (const group of groups) this.cancelPending(group.runs.map((r) => r.task.taskRunId), group.reason);
    this.#stopSweep();
    return groups;
  }

  #sweepCancelled(): void {
    for (const group of this.#byFlowRun((r) => r.cancellation?.aborted === true, 'the task run was cancelled')) {
      this.cancelPending(group.runs.map((r) => r.task.taskRunId), group.reason);
      this.onCancelled(group);
    }
  }

  #byFlowRun(include: (run: PendingRun) => boolean, reason: string): CancelledGroup[] {
    const byRun = new Map<string, { flowRunId: string; runs: PendingRun[]; reason: string }>();
    for (const r of this.#runs.values()) {
      if (!include(r)) continue;
      const own = r.cancellation?.aborted && r.cancellation.reason instanceof Error ? r.cancellation.reason.message : undefined;
      const group = byRun.get(r.task.flowRunId) ?? { flowRunId: r.task.flowRunId, runs: [], reason: own ?? reason };
      group.runs.push(r);
      byRun.set(r.task.flowRunId, group);
    }
    return [...byRun.values()];
  }
}
