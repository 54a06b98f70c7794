import type { LogLevel } from '../events/events.ts';
import type { WireError } from './wire-error.ts';

/**
 * What happened to one attempt of a task run, as the side that ran it reports it. The same union
 * crosses every boundary: a pool's worker threads and child processes send it in `batch`
 * messages, cluster workers send it through Redis, and the flow's own process builds it in
 * memory. Only the transport differs, and `Id`, the name the transport gives the run: a job
 * number between a pool and its worker, the task run id on a cluster.
 *
 * Times are epoch ms on the clock of the side that ran the attempt; the receiving side corrects
 * them onto the flow process's clock (see `emitAttempt` in events/attempt-events.ts).
 *
 * @module
 */
export type AttemptEvent<Id = number | string> =
  | { readonly type: 'started'; readonly id: Id; readonly attempt: number; readonly time: number }
  | { readonly type: 'retried'; readonly id: Id; readonly attempt: number; readonly delayMs: number; readonly error: WireError; readonly time: number }
  /** A log line; it names its task run, since a task's stray callbacks may log after the run ended. */
  | { readonly type: 'log'; readonly id: Id; readonly taskRunId: string; readonly flowRunId: string; readonly taskName: string; readonly level: LogLevel; readonly message: string; readonly time: number }
  | DoneEvent<Id>
  /** The run's workers died more than its allowed failures (cluster: the worker that took the re-run says so). */
  | { readonly type: 'crashed'; readonly id: Id; readonly crashes: number };

/**
 * A run ended. Flat, one object per run, since thousands travel each second: `serviceMs` is how
 * long its final attempt ran where it ran; `attempt` and `startTime` stand in for a separate
 * 'started' event when both would travel in one batch (see {@link AttemptBatch}).
 */
export type DoneEvent<Id = number | string> = { readonly type: 'done'; readonly id: Id; readonly serviceMs: number; readonly attempt?: number; readonly startTime?: number } & (
  | { readonly state: 'Completed'; readonly value: unknown }
  | { readonly state: 'Failed' | 'Cancelled'; readonly error: WireError }
);

/**
 * The events one worker sends in one turn, with the one fold every transport uses: a 'started'
 * still waiting in the batch when its run's 'done' arrives is dropped, and its attempt and time
 * ride on the 'done' (one message per short task instead of two). A 'retried' or 'log' of the run
 * in between keeps the start where it is, so the receiver sees the events in order.
 */
export class AttemptBatch<Id> {
  #events: (AttemptEvent<Id> | undefined)[] = [];
  /** Where each run's unsent 'started' sits in `#events`. */
  readonly #startedAt = new Map<Id, number>();
  #holes = 0;

  get size(): number {
    return this.#events.length - this.#holes;
  }

  push(event: AttemptEvent<Id>): void {
    if (event.type === 'started') {
      this.#startedAt.set(event.id, this.#events.length);
    } else if (this.#startedAt.size > 0) {
      const at = this.#startedAt.get(event.id);
      if (at !== undefined) {
        this.#startedAt.delete(event.id);
        const started = this.#events[at];
        if (event.type === 'done' && started?.type === 'started') {
          this.#events[at] = undefined;
          this.#holes++;
          // Absent, not undefined, when not folded: every key costs on the wire.
          Object.assign(event, { attempt: started.attempt, startTime: started.time });
        }
      }
    }
    this.#events.push(event);
  }

  /** The events so far, in order, and an empty batch from here. */
  take(): AttemptEvent<Id>[] {
    const events = this.#events;
    const holes = this.#holes;
    this.#events = [];
    this.#holes = 0;
    this.#startedAt.clear();
    return holes === 0 ? (events as AttemptEvent<Id>[]) : events.filter((e): e is AttemptEvent<Id> => e !== undefined);
  }
}
