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

/** A growing byte buffer of LEB128 varints. */
class Varints {
  #buf = new Uint8Array(1 << 16);
  length = 0;
  push(value: number): void {
    let v = Math.max(0, Math.round(value));
    if (this.length + 8 > this.#buf.length) {
      const b = new Uint8Array(this.#buf.length * 2);
      b.set(this.#buf);
      this.#buf = b;
    }
    while (v >= 128) {
      this.#buf[this.length++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.#buf[this.length++] = v;
  }
  zigzag(value: number): void {
    this.push(value < 0 ? -2 * value - 1 : 2 * value);
  }
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.length);
  }
}

/**
 * The payload: `[u32 JSON length][JSON of everything but the stream][stream columns]`. Columns,
 * one after another, each attempt in start order: start − previous start (µs), duration (µs),
 * name, lane, state + 8 × attempt, wait (µs), and the task run: its number `n` of `${name}-${n}`,
 * delta-coded per name, or an index into `ids` (every run's id) when some id does not have that form.
 */
export function encodePayload(model: ReportModel): Buffer {
  const s = model.stream;
  const runNumbers = s.runNumbers;
  const ids: readonly string[] | null = runNumbers ? null : s.runIds;
  const out = new Varints();
  const us = (ms: number) => ms * 1000;
  let previous = 0;
  for (let i = 0; i < s.length; i++) {
    const start = Math.round(us(s.start[i]!));
    out.push(start - previous);
    previous = start;
  }
  // Durations from the rounded starts, so the page's end times match the model's to the µs.
  for (let i = 0; i < s.length; i++) out.push(Math.round(us(s.end[i]!)) - Math.round(us(s.start[i]!)));
  for (let i = 0; i < s.length; i++) out.push(s.name[i]!);
  for (let i = 0; i < s.length; i++) out.push(s.lane[i]!);
  for (let i = 0; i < s.length; i++) out.push(s.state[i]! + 8 * s.attempt[i]!);
  for (let i = 0; i < s.length; i++) out.push(us(s.wait[i]!));
  if (!runNumbers) {
    for (let i = 0; i < s.length; i++) out.push(s.run[i]!);
  } else {
    const last = new Int32Array(model.names.length);
    for (let i = 0; i < s.length; i++) {
      const n = runNumbers[s.run[i]!]!;
      out.zigzag(n - last[s.name[i]!]!);
      last[s.name[i]!] = n;
    }
  }
  const { stream: _stream, timeline, ...rest } = model;
  const json = Buffer.from(JSON.stringify({
    ...rest, ids,
    timeline: { bucketMs: timeline.bucketMs, t: round(timeline.t), busy: round(timeline.busy), queued: round(timeline.queued), workers: round(timeline.workers) },
  }));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(json.length, 0);
  // Level 1: on a 100,000-run payload (1.0 MB of varints) it takes 17-20 ms where level 6 took
  // 29-43 ms, for 5 % more bytes (363 KB against 345 KB): the build is on the run's wall time,
  // the file has room (≤ 1 MB).
  return gzipSync(Buffer.concat([head, json, out.bytes()]), { level: 1 });
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

/** The report as one HTML document: everything inline, nothing fetched. */
export function renderHtml(model: ReportModel): string {
  const { js, css } = uPlotAssets();
  const payload = encodePayload(model).toString('base64');
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
