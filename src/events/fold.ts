import type { FinalTaskRunState, TaskRunRecord } from '../core/states.ts';
import { ATTEMPT_STATES, endOf, finishedBegins, finishedEnd, RESTARTED, RETRIED, type AttemptState } from './attempt-rules.ts';
import type { WeftEventName, WeftEvents } from './events.ts';

/** How one attempt of a task run ended, in the task stream. */
export type TaskAttemptState = Exclude<AttemptState, 'Unfinished'>;

/**
 * One attempt of a task run, as a bar on a timeline (dask's task stream `startstops`): where it ran,
 * from when to when, and how it ended. Times are epoch ms on the flow process's clock.
 */
export interface TaskAttempt {
  readonly flowRunId: string;
  readonly taskRunId: string;
  readonly taskName: string;
  /** 1 for the first attempt; a run its worker's death sent elsewhere starts the same attempt again. */
  readonly attempt: number;
  readonly workerId: string;
  /** When the run's upstream futures had resolved and it was handed to the runner. */
  readonly readyTime?: number;
  readonly startTime: number;
  /** `startTime + serviceMs` when the runner measured the final attempt, else when the end was seen. */
  readonly endTime: number;
  /** `Retried` for an attempt that failed and was tried again; `Crashed` also for one whose worker died under it. */
  readonly state: TaskAttemptState;
}

/**
 * A live run in a fold: what the engine holds to fold its own run's facts without building events.
 * The attempt running now (for the task stream and the `finished` event's `attempt`/`startTime`)
 * is kept in its own fields, `openAttempt` 0 when none is: no object per attempt.
 */
export interface FoldedRun {
  readonly flowRunId: string;
  readonly record: TaskRunRecord;
  openAttempt: number;
  openWorkerId: string;
  openReadyTime: number | undefined;
  openStartTime: number;
  /** Whether the fold finds it by id (for {@link RunFold.apply}). */
  readonly indexed: boolean;
}
type Live = FoldedRun;

/**
 * What a fold also writes, as it folds them, about the runs it holds: a run's submit, each start,
 * its end. The report's event log is one: it gets the engine's own facts without the engine
 * building an event object for each.
 */
export interface FoldRecorder {
  submitted(flowRunId: string, taskRunId: string, taskName: string, time: number): void;
  started(flowRunId: string, taskRunId: string, taskName: string, attempt: number, workerId: string, readyTime: number | undefined, time: number): void;
  /** `startTime`: when the run's last attempt started, if it did. */
  finished(flowRunId: string, taskRunId: string, taskName: string, state: FinalTaskRunState, time: number, workerId: string | undefined, error: Error | undefined, attempt: number, startTime: number | undefined, serviceMs: number | undefined): void;
}

/**
 * The one writer of task run records: a fold of a flow run's events (`task-run:submitted`,
 * `started`, `retried`, `finished`) into its {@link TaskRunRecord}s, and, when asked for, the
 * per-attempt {@link TaskAttempt} stream, by the rules of `attempt-rules.ts`. Pure: no clock, no I/O, the same events give the same
 * records. The engine applies every event of its run here before any listener hears it; a report
 * or a dashboard may fold the events it receives with its own instance.
 *
 * @example
 * const fold = new RunFold({ taskStream: true });
 * for (const name of ['task-run:submitted', 'task-run:started', 'task-run:retried', 'task-run:finished'] as const) {
 *   run.on(name, (e) => fold.apply(name, e));
 * }
 */
export class RunFold {
  /** Every task run seen, in submission order. */
  readonly records: TaskRunRecord[] = [];
  /** Ended attempts, in the order they ended; undefined unless `taskStream` was asked for. */
  readonly attempts: TaskAttempt[] | undefined;
  /** Live runs by flow run id, then task run id (task run ids repeat across subflows). */
  readonly #live = new Map<string, Map<string, Live>>();
  readonly #flowRunId: string | undefined;
  /** Where the fold's facts are also written (see {@link FoldRecorder}); none by default. */
  recorder: FoldRecorder | undefined;

  /** `flowRunId`: fold only that flow run's events (others, e.g. forwarded from subflows, are ignored). */
  constructor(options?: { flowRunId?: string; taskStream?: boolean }) {
    this.#flowRunId = options?.flowRunId;
    this.attempts = options?.taskStream ? [] : undefined;
  }

  /** Folds one event in; events of other kinds, other flow runs or unknown task runs change nothing. */
  apply<E extends WeftEventName>(name: E, event: WeftEvents[E]): void {
    switch (name) {
      case 'task-run:submitted':
        return this.#submitted(event as WeftEvents['task-run:submitted']);
      case 'task-run:started':
        return this.#started(event as WeftEvents['task-run:started']);
      case 'task-run:retried':
        return this.#retried(event as WeftEvents['task-run:retried']);
      case 'task-run:finished':
        return this.#finished(event as WeftEvents['task-run:finished']);
    }
  }

  /** The live run's record. */
  record(flowRunId: string, taskRunId: string): TaskRunRecord | undefined {
    return this.#live.get(flowRunId)?.get(taskRunId)?.record;
  }

  /** The attempt a live run is on and when it started (for its `finished` event); attempt 0 if none started. */
  current(flowRunId: string, taskRunId: string): { attempt: number; startTime: number | undefined } {
    const live = this.#live.get(flowRunId)?.get(taskRunId);
    return live && live.openAttempt > 0 ? { attempt: live.openAttempt, startTime: live.openStartTime } : { attempt: 0, startTime: undefined };
  }

  #find(flowRunId: string, taskRunId: string): Live | undefined {
    if (this.#flowRunId !== undefined && flowRunId !== this.#flowRunId) return undefined;
    return this.#live.get(flowRunId)?.get(taskRunId);
  }

  #submitted(e: WeftEvents['task-run:submitted']): void {
    this.open(e.flowRunId, e.taskRunId, e.taskName, e.tags, e.time);
  }

  /**
   * What a `task-run:submitted` event folds in, without the event (the engine uses {@link track}).
   * Returns the live run (undefined if ignored).
   * `indexed: false` leaves the run out of the fold's index by id: its caller holds the returned
   * run and folds its facts through {@link start}, {@link retry} and {@link finish} (events about
   * it given to {@link apply} are then ignored).
   */
  open(flowRunId: string, taskRunId: string, taskName: string, tags: readonly string[] | undefined, time: number, indexed = true): FoldedRun | undefined {
    if (this.#flowRunId !== undefined && flowRunId !== this.#flowRunId) return undefined;
    let runs: Map<string, Live> | undefined;
    if (indexed) {
      runs = this.#live.get(flowRunId);
      if (!runs) this.#live.set(flowRunId, (runs = new Map()));
      if (runs.has(taskRunId)) return undefined;
    }
    const live: Live = { flowRunId, record: this.track(flowRunId, taskRunId, taskName, tags, time), openAttempt: 0, openWorkerId: '', openReadyTime: undefined, openStartTime: 0, indexed };
    runs?.set(taskRunId, live);
    return live;
  }

  /**
   * {@link open} for a caller that is its own {@link FoldedRun} (not indexed; the engine's live
   * run): makes and keeps the run's record and returns it. The caller's run starts with
   * `openAttempt` 0.
   */
  track(flowRunId: string, taskRunId: string, taskName: string, tags: readonly string[] | undefined, time: number): TaskRunRecord {
    const record: TaskRunRecord = { id: taskRunId, taskName, state: 'Pending', submittedAt: time, attempts: 0, tags: tags ?? [] };
    this.records.push(record);
    this.recorder?.submitted(flowRunId, taskRunId, taskName, time);
    return record;
  }

  #started(e: WeftEvents['task-run:started']): void {
    const live = this.#find(e.flowRunId, e.taskRunId);
    if (live) this.start(live, e.attempt, e.workerId, e.readyTime, e.time);
  }

  /** What a `task-run:started` event of `live` folds in. */
  start(live: FoldedRun, attempt: number, workerId: string, readyTime: number | undefined, time: number): void {
    const { record } = live;
    if (live.openAttempt > 0) this.#close(live, ATTEMPT_STATES[RESTARTED], time);
    record.state = 'Running';
    record.startedAt ??= time;
    record.attempts = attempt;
    record.workerId = workerId;
    live.openAttempt = attempt;
    live.openWorkerId = workerId;
    live.openReadyTime = readyTime;
    live.openStartTime = time;
    this.recorder?.started(live.flowRunId, record.id, record.taskName, attempt, workerId, readyTime, time);
  }

  #retried(e: WeftEvents['task-run:retried']): void {
    const live = this.#find(e.flowRunId, e.taskRunId);
    if (live) this.retry(live, e.time);
  }

  /** What a `task-run:retried` event of `live` folds in. */
  retry(live: FoldedRun, time: number): void {
    live.record.state = 'Retrying';
    if (live.openAttempt > 0) this.#close(live, ATTEMPT_STATES[RETRIED], time);
  }

  #finished(e: WeftEvents['task-run:finished']): void {
    const live = this.#find(e.flowRunId, e.taskRunId);
    if (live) this.finish(live, e.state, e.time, e.workerId, e.error, e.serviceMs, e.attempt, e.startTime);
  }

  /**
   * What a `task-run:finished` event of `live` folds in; the run is no longer live after it.
   * `startTime`: the attempt's start as the event carries it (it opens the attempt when its
   * start was never heard).
   */
  finish(live: FoldedRun, state: FinalTaskRunState, time: number, workerId: string | undefined, error: Error | undefined, serviceMs: number | undefined, attempt: number, startTime?: number): void {
    const { record } = live;
    if (record.endedAt !== undefined) return; // it ended already
    if (startTime !== undefined && finishedBegins(live.openAttempt > 0, attempt, record.attempts, startTime)) this.start(live, attempt, workerId ?? '', undefined, startTime);
    if (live.indexed) this.#live.get(live.flowRunId)?.delete(record.id);
    record.state = state;
    record.endedAt = time;
    if (workerId !== undefined) record.workerId = workerId;
    if (error !== undefined) record.error = error;
    const opened = live.openAttempt > 0 ? live.openStartTime : undefined;
    if (opened !== undefined) this.#close(live, state, finishedEnd(opened, live.openAttempt, attempt, serviceMs ?? NaN, time));
    this.recorder?.finished(live.flowRunId, record.id, record.taskName, state, time, record.workerId, error, attempt, opened ?? startTime, serviceMs);
  }

  #close(live: Live, state: TaskAttemptState, endTime: number): void {
    const { openAttempt, openWorkerId, openReadyTime, openStartTime } = live;
    live.openAttempt = 0;
    if (!this.attempts) return;
    const { record } = live;
    const attempt: TaskAttempt = {
      flowRunId: live.flowRunId, taskRunId: record.id, taskName: record.taskName, attempt: openAttempt, workerId: openWorkerId,
      startTime: openStartTime, endTime: endOf(openStartTime, endTime), state,
    };
    if (openReadyTime !== undefined) (attempt as { readyTime?: number }).readyTime = openReadyTime;
    this.attempts.push(attempt);
  }
}

/** A recorder that writes to both (a subflow's own report beside its parent's). */
export function bothRecorders(a: FoldRecorder, b: FoldRecorder): FoldRecorder {
  return {
    submitted: (...args) => (a.submitted(...args), b.submitted(...args)),
    started: (...args) => (a.started(...args), b.started(...args)),
    finished: (...args) => (a.finished(...args), b.finished(...args)),
  };
}
