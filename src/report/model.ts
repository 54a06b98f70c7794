/**
 * The performance report's model: pure functions from a run's {@link EventLog} to everything the
 * page shows. No I/O, no clock: the same log always gives the same model.
 * @module
 */
import { STATES, type EventLog } from './event-log.ts';
import { ATTEMPT_STATES, AttemptPairing, type AttemptColumns, type Attempts } from './attempts.ts';
import type { PayloadModel } from './html.ts';
import { LanePacker } from './lanes.ts';
import { StreamColumns } from './stream-columns.ts';
import type { Chunk } from './rows.ts';
import { RunFacts, type LogLine, type Subflow, type WorkerEvent } from './run-facts.ts';
import { overheadOf, SortedGroups, taskTable } from './task-stats.ts';
import { timelineOf } from './timeline.ts';

export { ATTEMPT_STATES };
export { BUCKETS } from './timeline.ts';
export type { LogLine, Subflow, WorkerEvent } from './run-facts.ts';
export { quantile } from './task-stats.ts';
export { PACK_TOLERANCE_MS } from './lanes.ts';

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
 * thread (fed while the run goes on) and in this one ({@link buildModel}). Each chunk's attempts
 * are paired, and packed onto lanes in start order as their ends become known; with `columns`
 * (a report's HTML), each attempt is also written to the stream's columns once it is final. So
 * what is left at the end is the log's tail, and what needs every attempt: quantiles, the charts'
 * buckets, the payload's gzip.
 *
 * Packing ahead of the end holds while attempts start in the order they are appended. One that
 * starts before an attempt appended earlier (a `finished` that opens an attempt in the past,
 * clocks of a cluster's machines) sends the whole log back to packing at the end, at once, in
 * start order: the same result, later.
 */
export class ReportBuilder {
  readonly #strings: string[] = [];
  readonly #pairing = new AttemptPairing(this.#strings);
  readonly #facts = new RunFacts(this.#strings);
  #packer = new LanePacker();
  /** The stream's columns (a report's HTML only). */
  #columns: StreamColumns | undefined;
  /** Attempts' durations, and first attempts' waits, by task name. */
  #durations = new SortedGroups();
  #waits = new SortedGroups();
  /** Attempts final (in start order): their end will not move, and they are in the columns and groups. */
  #final = 0;
  /** Attempts checked to start in append order, and whether all did. */
  #checked = 1;
  #inOrder = true;

  /** `columns`: also write the stream's columns as attempts become final ({@link payload}). */
  constructor(options: { columns?: boolean } = {}) {
    if (options.columns) this.#columns = new StreamColumns();
  }

  /** Attempts final before the log's end: their part of the model is done. */
  get final(): number {
    return this.#final;
  }

  /** Adds a chunk of the log, after every chunk before it; `strings` are the dictionary's entries new since the last. */
  add(chunk: Chunk, strings: readonly string[]): void {
    for (const s of strings) this.#strings.push(s);
    this.#pairing.add(chunk);
    this.#facts.add(chunk);
    this.#advance();
  }

  /** Packs the attempts whose end is known, in start order, and takes in those now final. */
  #advance(): void {
    const a = this.#pairing.columns;
    const n = this.#pairing.count;
    for (let i = this.#checked; i < n && this.#inOrder; i++) if (a.start[i]! < a.start[i - 1]!) this.#outOfOrder(a);
    this.#checked = Math.max(n, 1);
    if (!this.#inOrder || n === 0) return;
    const packer = this.#packer;
    while (packer.placed < n && a.end[packer.placed] === a.end[packer.placed]) packer.place(a, packer.placed);
    const t0 = this.#facts.rootStart();
    if (this.#columns && t0 === undefined) return;
    // The earliest start an attempt not yet placed can have: none starts before the last appended.
    const next = packer.placed < n ? a.start[packer.placed]! : a.start[n - 1]!;
    while (this.#final < packer.placed && packer.settled(a, this.#final, next)) this.#take(a, this.#final, t0!);
    this.#durations.settle();
    this.#waits.settle();
  }

  #outOfOrder(a: AttemptColumns): void {
    this.#inOrder = false;
    this.#packer.undo(a);
    this.#packer = new LanePacker();
    if (this.#columns) this.#columns = new StreamColumns();
    this.#durations = new SortedGroups();
    this.#waits = new SortedGroups();
    this.#final = 0;
  }

  /** Takes in final attempt `i`: its duration and wait, and its part of the columns. */
  #take(a: Pick<Attempts, 'run' | 'name' | 'start' | 'end' | 'state' | 'attempt' | 'wait'>, i: number, t0: number): void {
    const start = a.start[i]!;
    const end = a.end[i]!;
    const name = a.name[i]!;
    this.#durations.push(name, Math.max(0, end - start));
    if (a.attempt[i] === 1) this.#waits.push(name, a.wait[i]!);
    const run = a.run[i]!;
    this.#columns?.push(start - t0, Math.max(end, start) - t0, name, this.#packer.workerOf(i), this.#packer.slotOf(i), a.state[i]!, a.attempt[i]!, a.wait[i]!, run, this.#pairing.runNumber(run));
    this.#final++;
  }

  /** Every attempt, packed and taken in: the ones left (or, out of order, all of them) now; and the model but its stream. */
  #finish(droppedLogs: number): { attempts: Attempts; first: Int32Array; model: Omit<ReportModel, 'stream'> } {
    this.#advance();
    const attempts = this.#pairing.finish();
    for (let j = this.#packer.placed; j < attempts.length; j++) this.#packer.place(attempts, attempts.order[j]!);
    const t0 = this.#facts.root().start;
    for (let j = this.#final; j < attempts.length; j++) this.#take(attempts, attempts.order[j]!, t0);
    const { lanes, first } = this.#packer.lanes(this.#strings);
    const names = attempts.names.length;
    const model = modelOf(attempts, this.#facts, lanes, this.#packer.workers, this.#durations.sorted(names), this.#waits.sorted(names), droppedLogs);
    return { attempts, first, model };
  }

  /** The model of every chunk added; `droppedLogs` is what the log itself left out. Called once, at the end. */
  model(droppedLogs: number): ReportModel {
    const { attempts, first, model } = this.#finish(droppedLogs);
    const lane = new Int32Array(attempts.length);
    for (let i = 0; i < attempts.length; i++) lane[i] = first[this.#packer.workerOf(i)]! + this.#packer.slotOf(i);
    return { ...model, stream: toStream(attempts, lane, model.summary.startTime) };
  }

  /** The payload's model and the stream's columns ({@link constructor}'s `columns`). Called once, at the end. */
  payload(droppedLogs: number): { model: PayloadModel; columns: Uint8Array[] } {
    if (!this.#columns) throw new Error('this report builder does not write the stream\'s columns');
    const { attempts, first, model } = this.#finish(droppedLogs);
    let numbered = true;
    for (let r = 0; r < attempts.runs && numbered; r++) if (attempts.runNumber[r]! < 0) numbered = false;
    const ids = numbered ? null : Array.from({ length: attempts.runs }, (_, r) => attempts.runIdOf(r));
    return { model: { ...model, ids }, columns: this.#columns.bytes(first, numbered) };
  }
}

function modelOf(attempts: Attempts, facts: RunFacts, lanes: Lane[], workers: number, durations: Float64Array[], waits: Float64Array[], droppedLogs: number): Omit<ReportModel, 'stream'> {
  const root = facts.root();
  const t0 = root.start;
  const t1 = Math.max(root.end ?? attempts.lastTime, t0);
  const tasks = taskTable(attempts, durations, waits);
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
      workers, slots: lanes.length, subflows: subflows.length,
      ...(root.error !== undefined && { error: root.error }),
      readyTimes: attempts.readyTimes,
    },
    names: attempts.names,
    lanes,
    tasks,
    timeline: timelineOf(attempts, facts.workerIntervals, facts.stillJoined(), t0, t1),
    overhead: overheadOf(attempts, waits),
    workerEvents,
    subflows,
    errors,
    logs,
  };
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

