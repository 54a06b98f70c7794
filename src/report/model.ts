/**
 * The performance report's model: pure functions from a run's {@link EventLog} to everything the
 * page shows. No I/O, no clock: the same log always gives the same model.
 * @module
 */
import { STATES, strOf, type EventLog } from './event-log.ts';
import { ATTEMPT_STATES, AttemptPairing, type Attempts } from './attempts.ts';
import type { Chunk } from './rows.ts';
import { RunFacts, type LogLine, type Subflow, type WorkerEvent } from './run-facts.ts';
import { overheadOf, taskTable } from './task-stats.ts';
import { timelineOf } from './timeline.ts';

export { ATTEMPT_STATES };
export { BUCKETS } from './timeline.ts';
export type { LogLine, Subflow, WorkerEvent } from './run-facts.ts';
export { quantile } from './task-stats.ts';

/** The run at a glance. Times are epoch ms; durations ms. */
export interface Summary {
  readonly flowName: string;
  readonly flowRunId: string;
  readonly runner: string;
  readonly state: string;
  readonly startTime: number;
  readonly endTime: number;
  readonly durationMs: number;
  /** Task runs (each counted once, whatever its retries). */
  readonly taskRuns: number;
  /** Attempts started: one bar each in the task stream. */
  readonly attempts: number;
  /** Task runs by final state; `Unfinished` for those the log ended before. */
  readonly byState: Readonly<Record<string, number>>;
  readonly retries: number;
  readonly crashes: number;
  readonly workers: number;
  /** Lanes of the task stream: worker slots, concurrent runs on one worker packed apart. */
  readonly slots: number;
  readonly subflows: number;
  readonly error?: string;
  /** Whether the events carried `readyTime`: without it, waits count from submission. */
  readonly readyTimes: boolean;
}

/** One lane of the task stream: a slot of a worker. */
export interface Lane {
  readonly worker: string;
  readonly slot: number;
}

/**
 * Every attempt, sorted by start, in columns. Times are ms from the run's start. `wait` is the
 * time from being due (ready, or submitted without ready times; for a retry, the retry's due time)
 * to the start.
 */
export interface Stream {
  readonly length: number;
  readonly name: Int32Array;
  readonly lane: Int32Array;
  readonly start: Float64Array;
  readonly end: Float64Array;
  readonly state: Uint8Array;
  readonly attempt: Int32Array;
  readonly wait: Float64Array;
  /** The attempt's task run: an index into {@link Stream.runIds}. */
  readonly run: Int32Array;
  /** Task run ids, by task run (built on first read). */
  readonly runIds: readonly string[];
  /** Each task run's `n`, when every id is `${taskName}-${n}` (weft's own ids); null otherwise. */
  readonly runNumbers: Int32Array | null;
}

/** The per-task-name table: durations are of attempts, waits of first attempts. */
export interface TaskRow {
  readonly name: string;
  readonly count: number;
  readonly completed: number;
  readonly failed: number;
  readonly crashed: number;
  readonly cancelled: number;
  readonly retries: number;
  readonly totalMs: number;
  readonly meanMs: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  readonly waitP95Ms: number;
}

/** Busy slots and ready-queue depth over time, time-weighted means per bucket. */
export interface Timeline {
  readonly bucketMs: number;
  /** Bucket starts, ms from the run's start. */
  readonly t: Float64Array;
  readonly busy: Float64Array;
  readonly queued: Float64Array;
  readonly workers: Float64Array;
}

export interface Histogram {
  /** Bucket edges in ms, one more than counts. */
  readonly edges: readonly number[];
  readonly counts: readonly number[];
}

/** Scheduler overhead per task run: submit → ready (waiting for upstream) and ready → start. */
export interface Overhead {
  /** `ready`: waits count from `readyTime`; `submitted`: no ready times, so from submission. */
  readonly basis: 'ready' | 'submitted';
  readonly submitToReady?: { readonly p50Ms: number; readonly p95Ms: number };
  readonly readyToStart: { readonly p50Ms: number; readonly p95Ms: number; readonly histogram: Histogram };
}

export interface Capped<T> {
  readonly lines: readonly T[];
  /** Lines left out past the cap. */
  readonly dropped: number;
}

export interface ReportModel {
  readonly summary: Summary;
  readonly names: readonly string[];
  readonly lanes: readonly Lane[];
  readonly stream: Stream;
  readonly tasks: readonly TaskRow[];
  readonly timeline: Timeline;
  readonly overhead: Overhead;
  /** Worker and scale events, ms from the run's start. */
  readonly workerEvents: readonly WorkerEvent[];
  readonly subflows: readonly Subflow[];
  /** Task errors (failed attempts, final errors) and error-level log lines. */
  readonly errors: Capped<LogLine>;
  readonly logs: Capped<LogLine>;
}

/** Builds the report's model from a run's events. */
export function buildModel(log: EventLog): ReportModel {
  const builder = new ReportBuilder();
  log.chunks().forEach((chunk, k) => builder.add(chunk, k === 0 ? log.strings : []));
  return builder.model(log.droppedLogs);
}

/**
 * A report's model built a chunk at a time, as a log's chunks arrive: the same code in the report
 * thread (fed while the run goes on) and in this one ({@link buildModel}). What is left for
 * {@link ReportBuilder.model} at the end is what needs every attempt: lanes, the stream in start
 * order, quantiles and the charts' buckets.
 */
export class ReportBuilder {
  readonly #strings: string[] = [];
  readonly #pairing = new AttemptPairing(this.#strings);
  readonly #facts = new RunFacts(this.#strings);

  /** Adds a chunk of the log, after every chunk before it; `strings` are the dictionary's entries new since the last. */
  add(chunk: Chunk, strings: readonly string[]): void {
    for (const s of strings) this.#strings.push(s);
    this.#pairing.add(chunk);
    this.#facts.add(chunk);
  }

  /** The model of every chunk added; `droppedLogs` is what the log itself left out. Called once, at the end. */
  model(droppedLogs: number): ReportModel {
    return modelOf(this.#pairing.finish(), this.#facts, this.#strings, droppedLogs);
  }
}

function modelOf(attempts: Attempts, facts: RunFacts, strings: readonly string[], droppedLogs: number): ReportModel {
  const root = facts.root();
  const t0 = root.start;
  const t1 = Math.max(root.end ?? attempts.lastTime, t0);
  const lanesOf = packLanes(attempts, strings);
  const stream = toStream(attempts, lanesOf.lane, t0);
  const { rows: tasks, waits } = taskTable(attempts);
  const byState: Record<string, number> = {};
  for (const s of [...STATES.slice(0, 4), 'Unfinished']) byState[s] = 0;
  let crashes = 0;
  let retries = 0;
  for (let r = 0; r < attempts.runs; r++) {
    const s = attempts.runState[r]!;
    byState[s < 0 ? 'Unfinished' : STATES[s]!]! += 1;
    retries += attempts.runRetries[r]!;
  }
  for (let a = 0; a < attempts.length; a++) if (attempts.state[a] === 2) crashes++;
  const { subflows, workerEvents, errors, logs } = facts.relative(t0, droppedLogs);
  return {
    summary: {
      flowName: root.name, flowRunId: root.id, runner: root.runner, state: root.state,
      startTime: t0, endTime: t1, durationMs: t1 - t0,
      taskRuns: attempts.runs, attempts: attempts.length, byState, retries, crashes,
      workers: lanesOf.workers, slots: lanesOf.lanes.length, subflows: subflows.length,
      ...(root.error !== undefined && { error: root.error }),
      readyTimes: attempts.readyTimes,
    },
    names: attempts.names,
    lanes: lanesOf.lanes,
    stream,
    tasks,
    timeline: timelineOf(attempts, facts.workerIntervals, facts.stillJoined(), t0, t1),
    overhead: overheadOf(attempts, waits),
    workerEvents,
    subflows,
    errors,
    logs,
  };
}

/**
 * How far an attempt may start before the previous one on its lane ended: a `finished` event is
 * stamped a few event-loop turns after the worker freed its slot and began the next attempt. Such
 * an end, not measured where the attempt ran, is moved back to the next attempt's start on its
 * lane: a slot runs one attempt at a time.
 */
export const PACK_TOLERANCE_MS = 5;

/**
 * One lane per worker slot: attempts of one worker that overlap in time go to different lanes,
 * each to the lowest lane free at its start (greedy interval partitioning: in start order this
 * uses the fewest lanes possible, the worker's peak concurrency). Lanes are ordered by worker,
 * in order of each worker's first attempt.
 */
export function packLanes(a: Attempts, strings: readonly string[]): { lanes: Lane[]; lane: Int32Array; workers: number } {
  const perWorker = new Map<number, { ends: number[]; last: number[] }>();
  const slot = new Int32Array(a.length);
  for (const i of a.order) {
    const w = a.worker[i]!;
    let lanes = perWorker.get(w);
    if (!lanes) perWorker.set(w, (lanes = { ends: [], last: [] }));
    const start = a.start[i]!;
    let k = 0;
    while (k < lanes.ends.length && lanes.ends[k]! > start + (a.measured[lanes.last[k]!] ? 0 : PACK_TOLERANCE_MS)) k++;
    const previous = lanes.last[k];
    if (previous !== undefined && a.end[previous]! > start) a.end[previous] = start;
    lanes.ends[k] = Math.max(a.end[i]!, start);
    lanes.last[k] = i;
    slot[i] = k;
  }
  const lanes: Lane[] = [];
  const base = new Map<number, number>();
  for (const [w, l] of perWorker) {
    base.set(w, lanes.length);
    for (let k = 0; k < l.ends.length; k++) lanes.push({ worker: strOf(strings, w) ?? '?', slot: k });
  }
  const lane = new Int32Array(a.length);
  for (let i = 0; i < a.length; i++) lane[i] = base.get(a.worker[i]!)! + slot[i]!;
  return { lanes, lane, workers: perWorker.size };
}

function toStream(a: Attempts, lane: Int32Array, t0: number): Stream {
  const n = a.length;
  let ids: string[] | undefined;
  let numbered = true;
  for (let r = 0; r < a.runs && numbered; r++) if (a.runNumber[r]! < 0) numbered = false;
  const s: Stream = {
    length: n, name: new Int32Array(n), lane: new Int32Array(n), start: new Float64Array(n), end: new Float64Array(n),
    state: new Uint8Array(n), attempt: new Int32Array(n), wait: new Float64Array(n), run: new Int32Array(n),
    get runIds() {
      return (ids ??= Array.from({ length: a.runs }, (_, r) => a.runIdOf(r)));
    },
    runNumbers: numbered ? a.runNumber : null,
  };
  let j = 0;
  for (const i of a.order) {
    s.name[j] = a.name[i]!;
    s.lane[j] = lane[i]!;
    s.start[j] = a.start[i]! - t0;
    s.end[j] = Math.max(a.end[i]!, a.start[i]!) - t0;
    s.state[j] = a.state[i]!;
    s.attempt[j] = a.attempt[i]!;
    s.wait[j] = a.wait[i]!;
    s.run[j] = a.run[i]!;
    j++;
  }
  return s;
}

