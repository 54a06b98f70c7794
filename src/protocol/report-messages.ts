import type { WireError } from './wire-error.ts';

/**
 * The protocol between a flow run's performance report (report/report-thread.ts) and its report
 * thread (entry/report.ts). The thread builds the report's model as the log's chunks arrive and
 * renders the HTML once told the log has ended.
 * @module
 */

/** The flow's process → the report thread. */
export type ToReportThread =
  /**
   * One chunk of the event log, in order: its columns' buffer (transferred: see report/rows.ts for
   * the layout), the rows filled, and the dictionary's entries added since the last chunk.
   */
  | { readonly type: 'chunk'; readonly buffer: ArrayBuffer; readonly length: number; readonly strings: readonly string[] }
  /** The log has ended (every chunk sent): render the HTML. `droppedLogs`: log lines the log left out past its caps. */
  | { readonly type: 'end'; readonly droppedLogs: number };

/** The report thread → the flow's process. */
export type FromReportThread =
  /** The thread has loaded the report's code and takes chunks. */
  | { readonly type: 'ready' }
  /** The report, after `end`. */
  | { readonly type: 'html'; readonly html: string }
  /** Building failed; the thread takes nothing more. */
  | { readonly type: 'failed'; readonly error: WireError };
