/**
 * How a task run's events pair into attempts: the one statement of the rules, over numbers only.
 * {@link RunFold} (the engine's records and task stream) and the report's `pairAttempts` (a run
 * log's columns) both apply them, so a bar in the report and an attempt in the fold never disagree.
 *
 * - `task-run:started` opens an attempt. One still open then ended **Crashed** at the new start:
 *   its worker was lost and the run went elsewhere (the cluster's `allowedFailures`).
 * - `task-run:retried` ends the open attempt **Retried** when the retry was decided.
 * - `task-run:finished` ends the open attempt in the run's final state, at {@link finishedEnd}.
 *   A `finished` that carries its attempt's start when that start was never heard
 *   ({@link finishedBegins}) opens the attempt first, so it still gets its bar.
 * - A `finished` for a run that has ended already changes nothing.
 * - An attempt never ends before it started ({@link endOf}).
 *
 * Pure: no clock, no I/O. Times are epoch ms; NaN stands for "not known" (a log's empty column).
 * @module
 */

/** How an attempt ended: the final states, `Retried` (another attempt followed), `Unfinished` (the log ended first). */
export const ATTEMPT_STATES = ['Completed', 'Failed', 'Crashed', 'Cancelled', 'Retried', 'Unfinished'] as const;
export type AttemptState = (typeof ATTEMPT_STATES)[number];

/** The state code (index in {@link ATTEMPT_STATES}) of an attempt a new start of its run ended. */
export const RESTARTED = 2;
/** The state code of an attempt a `retried` ended. */
export const RETRIED = 4;
/** The state code of an attempt still open when the events ran out. */
export const UNFINISHED = 5;

/** When an attempt that started at `start` ended, given the moment its end was seen. */
export function endOf(start: number, seenAt: number): number {
  return seenAt > start ? seenAt : start;
}

/**
 * The end of the attempt a `finished` event closes. Where the attempt's own run time was measured
 * where it ran (`serviceMs` of this very attempt), it ended at start + run time, not at the later
 * moment the flow's process heard of it (but never after that moment); otherwise when it was heard.
 */
export function finishedEnd(start: number, openAttempt: number, attempt: number, serviceMs: number, heardAt: number): number {
  return endOf(start, isMeasured(openAttempt, attempt, serviceMs) && start + serviceMs < heardAt ? start + serviceMs : heardAt);
}

/** Whether a `finished` event measured the open attempt's run time: it carries `serviceMs`, for that attempt. */
export function isMeasured(openAttempt: number, attempt: number, serviceMs: number): boolean {
  return serviceMs === serviceMs && attempt === openAttempt;
}

/**
 * Whether a `finished` event opens its attempt first: no attempt is open, the event carries the
 * attempt's start, and the attempt is later than any the run had (its `started` was never heard).
 */
export function finishedBegins(open: boolean, attempt: number, lastAttempt: number, startTime: number): boolean {
  return !open && startTime === startTime && attempt > lastAttempt;
}
