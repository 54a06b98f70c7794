/**
 * Run history: each run's event log kept under `.weft/runs/<flow run id>/`, compact (the log's
 * typed columns as raw bytes, gzipped) and exact (times round-trip bit for bit, so a report made
 * later is the same file as one made during the run), bounded to the most recent runs.
 * @module
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import type { FlowRun } from '../core/flow.ts';
import type { FlowRunRecord } from '../core/states.ts';
import { collect, EventLog } from './event-log.ts';
import { CHUNK_ROWS, COLUMNS, newChunk } from './rows.ts';

/** Where `weft run` keeps run logs, relative to the current directory. */
export const RUNS_DIR = '.weft/runs';
/** How many runs the history keeps; older ones are removed when a new one is written. */
export const KEEP_RUNS = 50;
const EVENTS_FILE = 'events.bin.gz';
const SUMMARY_FILE = 'summary.json';

/** What `weft runs` lists of a kept run. */
export interface RunSummary {
  readonly id: string;
  readonly flowName: string;
  readonly state: string;
  readonly startedAt: number;
  readonly durationMs: number | undefined;
  readonly taskRuns: number;
  readonly counts: Readonly<Record<string, number>>;
}

/** The log as bytes: `[u32 header length][JSON header][each column's bytes, every row]`, gzipped. */
export function encodeLog(log: EventLog): Buffer {
  const header = Buffer.from(JSON.stringify({ version: 1, length: log.length, strings: log.strings, droppedLogs: log.droppedLogs }));
  const head = Buffer.alloc(4);
  head.writeUInt32LE(header.length, 0);
  const chunks = log.chunks();
  const columns = COLUMNS.flatMap((c) => chunks.map((chunk) => {
    const a = chunk[c];
    return Buffer.from(a.buffer, a.byteOffset, chunk.length * a.BYTES_PER_ELEMENT);
  }));
  return gzipSync(Buffer.concat([head, header, ...columns]), { level: 6 });
}

export function decodeLog(bytes: Buffer): EventLog {
  const raw = gunzipSync(bytes);
  const size = raw.readUInt32LE(0);
  const header = JSON.parse(raw.subarray(4, 4 + size).toString('utf8')) as { version: number; length: number; strings: string[]; droppedLogs: number };
  if (header.version !== 1) throw new Error(`this run log has format version ${header.version}; this weft reads version 1`);
  const n = header.length;
  const chunks = Array.from({ length: Math.max(1, Math.ceil(n / CHUNK_ROWS)) }, (_, k) => {
    const chunk = newChunk(CHUNK_ROWS);
    chunk.length = Math.min(CHUNK_ROWS, n - k * CHUNK_ROWS);
    return chunk;
  });
  let at = 4 + size;
  for (const c of COLUMNS) {
    const bytes = chunks[0]![c].BYTES_PER_ELEMENT;
    for (const [k, chunk] of chunks.entries()) {
      const from = raw.subarray(at + k * CHUNK_ROWS * bytes, at + (k * CHUNK_ROWS + chunk.length) * bytes);
      new Uint8Array(chunk[c].buffer, chunk[c].byteOffset, chunk.length * bytes).set(from);
    }
    at += n * bytes;
  }
  return EventLog.restore(header.strings, chunks, header.droppedLogs);
}

/** Writes a run's log and summary under `dir/<id>/`, then keeps only the newest `keep` runs. */
export function writeRunLog(dir: string, record: FlowRunRecord<unknown>, log: EventLog, keep = KEEP_RUNS): string {
  const runDir = join(dir, record.id);
  mkdirSync(runDir, { recursive: true });
  writeFileSync(join(runDir, EVENTS_FILE), encodeLog(log));
  const summary: RunSummary = {
    id: record.id, flowName: record.flowName, state: record.state, startedAt: record.startedAt, durationMs: record.durationMs,
    taskRuns: record.taskRuns.length, counts: record.counts,
  };
  writeFileSync(join(runDir, SUMMARY_FILE), `${JSON.stringify(summary)}\n`);
  for (const old of listRuns(dir).slice(keep)) rmSync(join(dir, old.id), { recursive: true, force: true });
  return runDir;
}

/** Kept runs, newest first. */
export function listRuns(dir: string): RunSummary[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: RunSummary[] = [];
  for (const name of names) {
    try {
      out.push(JSON.parse(readFileSync(join(dir, name, SUMMARY_FILE), 'utf8')) as RunSummary);
    } catch {
      // a run being written, or not a run: skip it
    }
  }
  return out.sort((a, b) => b.startedAt - a.startedAt);
}

/**
 * Finds a run's log: a path to a run directory or an events file, or a run id (or its unique
 * prefix) under `dir`. Returns the events file, or an error text naming what was looked for.
 */
export function findRunLog(target: string, dir: string): { file: string } | { error: string } {
  const asPath = resolve(target);
  try {
    const s = statSync(asPath);
    return { file: s.isDirectory() ? join(asPath, EVENTS_FILE) : asPath };
  } catch {
    // not a path: a run id
  }
  const matches = listRuns(dir).filter((r) => r.id.startsWith(target));
  if (matches.length === 1) return { file: join(dir, matches[0]!.id, EVENTS_FILE) };
  if (matches.length > 1) return { error: `'${target}' matches ${matches.length} runs (${matches.slice(0, 3).map((r) => r.id).join(', ')}...); give more of the id` };
  return { error: `no run '${target}' under ${dir} and no such file; \`weft runs\` lists the kept runs` };
}

/** The events file of a run directory that {@link keepRunLog} returned. */
export function eventsFile(runDir: string): string {
  return join(runDir, EVENTS_FILE);
}

export function readRunLog(file: string): EventLog {
  return decodeLog(readFileSync(file));
}

/**
 * Keeps a flow run's event log in the run history (what `weft run` does for every run), so that
 * `weft report <id>` can render its report later. Call it right after `flow.run(...)`, before the
 * first event; it resolves the run's directory once the run has ended.
 *
 * @example
 * const run = myFlow.run(2024);
 * const kept = keepRunLog(run); // .weft/runs/<run.id>
 * await run;
 */
export function keepRunLog(run: FlowRun<unknown>, options: { dir?: string; keep?: number } = {}): Promise<string> {
  const dir = resolve(options.dir ?? RUNS_DIR);
  const collector = collect(run);
  return run.then((record) => {
    collector.stop();
    return writeRunLog(dir, record, collector.log, options.keep);
  });
}
