import type { TaskRunRecord } from '../core/states.ts';
import type { WeftEventName, WeftEvents } from './events.ts';

/** How one attempt of a task run ended, in the task stream. */
export type TaskAttemptState = 'Completed' | 'Failed' | 'Crashed' | 'Cancelled' | 'Retried';

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

interface Live {
  readonly flowRunId: string;
  readonly record: TaskRunRecord;
  /** The attempt running now, for the task stream and the `finished` event's `attempt`/`startTime`. */
  open: { attempt: number; workerId: string; readyTime: number | undefined; startTime: number } | undefined;
}

/**
 * The one writer of task run records: a fold of a flow run's events (`task-run:submitted`,
 * `started`, `retried`, `finished`) into its {@link TaskRunRecord}s, and, when asked for, the
 * per-attempt {@link TaskAttempt} stream. Pure: no clock, no I/O, the same events give the same
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
    const open = this.#live.get(flowRunId)?.get(taskRunId)?.open;
    return open ? { attempt: open.attempt, startTime: open.startTime } : { attempt: 0, startTime: undefined };
  }

  #find(flowRunId: string, taskRunId: string): Live | undefined {
    if (this.#flowRunId !== undefined && flowRunId !== this.#flowRunId) return undefined;
    return this.#live.get(flowRunId)?.get(taskRunId);
  }

  #submitted(e: WeftEvents['task-run:submitted']): void {
    if (this.#flowRunId !== undefined && e.flowRunId !== this.#flowRunId) return;
    let runs = this.#live.get(e.flowRunId);
    if (!runs) this.#live.set(e.flowRunId, (runs = new Map()));
    if (runs.has(e.taskRunId)) return;
    const record: TaskRunRecord = { id: e.taskRunId, taskName: e.taskName, state: 'Pending', submittedAt: e.time, attempts: 0, tags: e.tags ?? [] };
    this.records.push(record);
    runs.set(e.taskRunId, { flowRunId: e.flowRunId, record, open: undefined });
  }

  #started(e: WeftEvents['task-run:started']): void {
    const live = this.#find(e.flowRunId, e.taskRunId);
    if (!live) return;
    const { record } = live;
    // An attempt still open was lost with its worker: the run started again elsewhere.
    if (live.open) this.#close(live, 'Crashed', e.time);
    record.state = 'Running';
    record.startedAt ??= e.time;
    record.attempts = e.attempt;
    record.workerId = e.workerId;
    live.open = { attempt: e.attempt, workerId: e.workerId, readyTime: e.readyTime, startTime: e.time };
  }

  #retried(e: WeftEvents['task-run:retried']): void {
    const live = this.#find(e.flowRunId, e.taskRunId);
    if (!live) return;
    live.record.state = 'Retrying';
    if (live.open) this.#close(live, 'Retried', e.time);
  }

  #finished(e: WeftEvents['task-run:finished']): void {
    const live = this.#find(e.flowRunId, e.taskRunId);
    if (!live) return;
    const { record } = live;
    record.state = e.state;
    record.endedAt = e.time;
    if (e.workerId !== undefined) record.workerId = e.workerId;
    if (e.error !== undefined) record.error = e.error;
    if (live.open) {
      const end = e.serviceMs !== undefined && e.attempt === live.open.attempt ? live.open.startTime + e.serviceMs : e.time;
      this.#close(live, e.state, Math.min(end, e.time));
    }
    (this.#live.get(e.flowRunId) as Map<string, Live>).delete(e.taskRunId);
  }

  #close(live: Live, state: TaskAttemptState, endTime: number): void {
    const open = live.open as NonNullable<Live['open']>;
    live.open = undefined;
    if (!this.attempts) return;
    const { record } = live;
    const attempt: TaskAttempt = {
      flowRunId: live.flowRunId, taskRunId: record.id, taskName: record.taskName, attempt: open.attempt, workerId: open.workerId,
      startTime: open.startTime, endTime: Math.max(endTime, open.startTime), state,
    };
    if (open.readyTime !== undefined) (attempt as { readyTime?: number }).readyTime = open.readyTime;
    this.attempts.push(attempt);
  }
}
