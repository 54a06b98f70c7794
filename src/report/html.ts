/**
 * Turns a report model into one self-contained HTML file: the page's code and uPlot inline, the
 * data columnar (dictionary-coded names, varint µs, delta-coded starts and run numbers), gzipped
 * and base64-embedded, inflated in the page with DecompressionStream. It makes no network request.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import type { ReportModel } from './model.ts';
import { PAGE_CSS, PAGE_JS } from './page.ts';
import { StreamColumns } from './stream-columns.ts';

/**
 * uPlot's minified build and style, read from the installed package the first time a report is
 * rendered: the package is the one source of the asset, so nothing generated can go stale, and
 * reports cost nothing until used.
 */
let uplot: { js: string; css: string } | undefined;
function uPlotAssets(): { js: string; css: string } {
  if (!uplot) {
    const require = createRequire(import.meta.url);
    const read = (file: string) => readFileSync(require.resolve(`uplot/dist/${file}`), 'utf8');
    uplot = { js: read('uPlot.iife.min.js'), css: read('uPlot.min.css') };
  }
  return uplot;
}

/** A model as the payload stores it: the stream written as its columns ({@link StreamColumns}). */
export type PayloadModel = Omit<ReportModel, 'stream'> & {
  /** Every task run's id, when some id does not have the form `${name}-${n}`; null when all do. */
  readonly ids: readonly string[] | null;
};

/** The stream's columns of a model's stream. */
export function streamColumns(model: ReportModel): { columns: Uint8Array[]; ids: readonly string[] | null } {
  const s = model.stream;
  const columns = new StreamColumns();
  const numbers = s.runNumbers;
  for (let i = 0; i < s.length; i++) {
    columns.push(s.start[i]!, s.end[i]!, s.name[i]!, 0, s.lane[i]!, s.state[i]!, s.attempt[i]!, s.wait[i]!, s.run[i]!, numbers ? numbers[s.run[i]!]! : -1);
  }
  return { columns: columns.bytes(new Int32Array(1), numbers !== null), ids: numbers ? null : s.runIds };
}

/**
 * The payload: `[u32 JSON length][JSON of everything but the stream][stream columns]` (see
 * {@link StreamColumns} for the columns), gzipped.
 */
export function encodePayload(model: PayloadModel, columns: readonly Uint8Array[]): Buffer {
  const { timeline, ...rest } = model;
  const json = Buffer.from(JSON.stringify({
    ...rest,
    timeline: { bucketMs: timeline.bucketMs, t: round(timeline.t), busy: round(timeline.busy), queued: round(timeline.queued), workers: round(timeline.workers) },
  }));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(json.length, 0);
  // Level 1: on a 100,000-run payload (1.0 MB of varints) it takes 17-20 ms where level 6 took
  // 29-43 ms, for 5 % more bytes (363 KB against 345 KB): the build is on the run's wall time,
  // the file has room (≤ 1 MB).
  return gzipSync(Buffer.concat([head, json, ...columns]), { level: 1 });
}

function round(values: Float64Array): number[] {
  return Array.from(values, (v) => Number(v.toPrecision(4)));
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Keeps inlined code from closing its own `<script>` element. */
function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1');
}

/** The report of a model as one HTML document: everything inline, nothing fetched. */
export function renderHtml(model: ReportModel): string {
  const { stream: _stream, ...rest } = model;
  const { columns, ids } = streamColumns(model);
  return payloadHtml({ ...rest, ids }, columns);
}

/** The report as one HTML document, from a model whose stream is already its columns. */
export function payloadHtml(model: PayloadModel, columns: readonly Uint8Array[]): string {
  const { js, css } = uPlotAssets();
  const payload = encodePayload(model, columns).toString('base64');
  const title = `weft report: ${model.summary.flowName || 'run'} ${model.summary.flowRunId}`.trim();
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; connect-src blob:">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style>${css}</style>
<style>${PAGE_CSS}</style>
</head><body>
<div id="weft-report"></div>
<script id="weft-data" type="application/octet-stream">${payload}</script>
<script>${inlineScript(js)}</script>
<script>${inlineScript(PAGE_JS)}</script>
</body></html>
`;
}
