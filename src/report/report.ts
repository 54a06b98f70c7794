/**
 * The performance report of a flow run: events collected while it runs, the HTML built and
 * written once it has ended. One mechanism for every runner: the flow run asks its runner for a
 * `performanceReport` path and does the rest itself.
 * @module
 */
import { writeFile } from 'node:fs/promises';
import type { EventBus } from '../events/bus.ts';
import { collect, type EventLog, type RecordingRun } from './event-log.ts';
import { ReportThread } from './report-thread.ts';

/** Builds the report's HTML from a run's event log, in this thread. */
export async function reportHtml(log: EventLog): Promise<string> {
  // Loaded on first use: a run without a report never loads the renderer or zlib.
  const [{ buildModel }, { renderHtml }] = await Promise.all([import('./model.ts'), import('./html.ts')]);
  return renderHtml(buildModel(log));
}

/** A report being collected: {@link startReport}. */
export interface RunReport {
  /** Stops collecting, builds the HTML, writes it to the report's path, and returns it. */
  finish(): Promise<string>;
  /** Stops collecting and building, whatever the state (every path of a run ends here; after `finish`, nothing to do). */
  close(): void;
}

/**
 * Starts collecting a run's events (from its bus, and its task runs' facts from its engine's fold)
 * into a log whose chunks go to a report thread as they fill (report-thread.ts).
 */
export function startReport(run: RecordingRun & { readonly bus: EventBus }, path: string): RunReport {
  const thread = new ReportThread();
  const collector = collect(run.bus, run);
  collector.log.sendTo((chunk, strings) => thread.add(chunk, strings));
  return {
    async finish() {
      collector.stop();
      const { chunk, strings } = collector.log.end();
      const html = await thread.html(chunk, strings, collector.log.droppedLogs);
      await writeFile(path, html);
      return html;
    },
    close() {
      collector.stop();
      thread.close();
    },
  };
}
