/**
 * The performance report of a flow run: events collected while it runs, the HTML built and
 * written once it has ended. One mechanism for every runner: the flow run asks its runner for a
 * `performanceReport` path and does the rest itself.
 * @module
 */
import { writeFile } from 'node:fs/promises';
import type { EventBus } from '../events/bus.ts';
import { collect, type EventLog, type RecordingRun } from './event-log.ts';

/** Builds the report's HTML from a run's event log. */
export async function reportHtml(log: EventLog): Promise<string> {
  // Loaded on first use: a run without a report never loads the renderer or zlib.
  const [{ buildModel }, { renderHtml }] = await Promise.all([import('./model.ts'), import('./html.ts')]);
  return renderHtml(buildModel(log));
}

/**
 * Starts collecting a run's events (from its bus, and its task runs' facts from its engine's fold);
 * `finish()` stops, builds the HTML, writes it to `path`, and returns it.
 */
export function startReport(run: RecordingRun & { readonly bus: EventBus }, path: string): { finish(): Promise<string> } {
  const collector = collect(run.bus, run);
  return {
    async finish() {
      collector.stop();
      const html = await reportHtml(collector.log);
      await writeFile(path, html);
      return html;
    },
  };
}
