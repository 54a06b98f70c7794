/**
 * The performance report's model: pure functions from a run's {@link EventLog} to everything the
 * page shows. No I/O, no clock: the same log always gives the same model.
 * @module
 */
import { EventLog, K, LEVELS, STATES } from './event-log.ts';
import { pairAttempts, ATTEMPT_STATES, type Attempts } from './attempts.ts';

export { ATTEMPT_STATES };

/** How many time buckets the over-time charts have. */
export const BUCKETS = 1000;
/** Error lines kept (task errors and error-level logs); the rest are counted. */
export const ERROR_CAP = 10_000;
/** Other log lines kept; the rest are counted. */
export const LOG_LINES_CAP = 10_000;

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

export interface WorkerEvent {
  readonly time: number;
  readonly kind: 'joined' | 'left' | 'scale up' | 'scale down' | 'warning';
  readonly text: string;
}

export interface Subflow {
  readonly flowRunId: string;
  readonly flowName: string;
  readonly parentFlowRunId: string;
  readonly start: number;
  readonly end?: number;
  readonly state: string;
}

export interface LogLine {
  /** ms from the run's start. */
  readonly time: number;
  readonly level: string;
  readonly taskRunId: string;
  readonly workerId: string;
  readonly message: string;
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
  const root = rootFlow(log);
  const attempts = pairAttempts(log);
  const t0 = root.start;
  const t1 = Math.max(root.end ?? lastTime(log), t0);
  const lanesOf = packLanes(attempts, log);
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
  const subflows = subflowsOf(log, root.flow);
  const workerEvents = workerEventsOf(log, t0);
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
    timeline: timelineOf(attempts, log, t0, t1),
    overhead: overheadOf(attempts, waits),
    workerEvents,
    subflows,
    ...linesOf(log, attempts, t0),
  };
}

interface Root {
  flow: number;
  id: string;
  name: string;
  runner: string;
  start: number;
  end?: number;
  state: string;
  error?: string;
}

/** The run the report is about: the first flow run without a parent in the log. */
function rootFlow(log: EventLog): Root {
  let root: Root | undefined;
  for (let i = 0; i < log.length; i++) {
    const k = log.kind[i];
    if (k === K['flow-run:started'] && !root && log.worker[i]! < 0) {
      root = { flow: log.flow[i]!, id: log.str(log.flow[i]!)!, name: log.str(log.name[i]!) ?? '', runner: log.str(log.m[i]!) ?? '', start: log.time[i]!, state: 'Running' };
    } else if (k === K['flow-run:finished'] && root && log.flow[i] === root.flow) {
      root.end = log.time[i]!;
      root.state = STATES[log.state[i]!] ?? 'Running';
      const error = log.str(log.m[i]!);
      if (error !== undefined) root.error = error;
    }
  }
  return root ?? { flow: -1, id: '', name: '', runner: '', start: log.length > 0 ? log.time[0]! : 0, state: 'Running' };
}

function lastTime(log: EventLog): number {
  let t = -Infinity;
  for (let i = 0; i < log.length; i++) t = Math.max(t, log.time[i]!);
  return t;
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
export function packLanes(a: Attempts, log: EventLog): { lanes: Lane[]; lane: Int32Array; workers: number } {
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
    for (let k = 0; k < l.ends.length; k++) lanes.push({ worker: log.str(w) ?? '?', slot: k });
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

/** The value at quantile q of sorted values (nearest rank); 0 for none. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/**
 * The task table's rows, and every first attempt's wait grouped by name (each group sorted):
 * {@link overheadOf} reads the same waits, so they are collected and sorted once.
 */
function taskTable(a: Attempts): { rows: TaskRow[]; waits: Grouped } {
  const names = a.names.length;
  // Durations and first-attempt waits grouped by name in one array each (counting sort), each
  // group then sorted in place for exact quantiles.
  // `firstOnly`: first attempts' waits; else every attempt's duration.
  const group = (firstOnly: boolean): Grouped => {
    const off = new Int32Array(names + 1);
    for (let i = 0; i < a.length; i++) if (!firstOnly || a.attempt[i] === 1) off[a.name[i]! + 1]!++;
    for (let k = 0; k < names; k++) off[k + 1]! += off[k]!;
    const fill = off.slice(0, names);
    const values = new Float64Array(off[names]!);
    for (let i = 0; i < a.length; i++) {
      if (firstOnly) {
        if (a.attempt[i] === 1) values[fill[a.name[i]!]!++] = a.wait[i]!;
      } else values[fill[a.name[i]!]!++] = Math.max(0, a.end[i]! - a.start[i]!);
    }
    for (let k = 0; k < names; k++) values.subarray(off[k]!, off[k + 1]!).sort();
    return { values, off };
  };
  const d = group(false);
  const w = group(true);
  const count = new Int32Array(names);
  const byState = new Int32Array(names * 4);
  const retries = new Int32Array(names);
  for (let r = 0; r < a.runs; r++) {
    const n = a.runName[r]!;
    count[n]!++;
    const s = a.runState[r]!;
    if (s >= 0 && s < 4) byState[n * 4 + s]!++;
    retries[n]! += a.runRetries[r]!;
  }
  const rows = a.names.map((name, n) => {
    const ds = d.values.subarray(d.off[n]!, d.off[n + 1]!);
    const ws = w.values.subarray(w.off[n]!, w.off[n + 1]!);
    let total = 0;
    for (let i = 0; i < ds.length; i++) total += ds[i]!;
    return {
      name, count: count[n]!, completed: byState[n * 4]!, failed: byState[n * 4 + 1]!, crashed: byState[n * 4 + 2]!, cancelled: byState[n * 4 + 3]!,
      retries: retries[n]!, totalMs: total, meanMs: ds.length ? total / ds.length : 0, p50Ms: quantile(ds, 0.5), p95Ms: quantile(ds, 0.95),
      maxMs: ds.length ? ds[ds.length - 1]! : 0, waitP95Ms: quantile(ws, 0.95),
    };
  });
  return { rows, waits: w };
}

/** Values grouped by task name: group n is `values[off[n]..off[n + 1])`. */
interface Grouped {
  values: Float64Array;
  off: Int32Array;
}

/** All of `g`'s values in one sorted array, merging its sorted groups pairwise (one group: itself, no copy). */
function mergeGroups(g: Grouped): Float64Array {
  let runs: Float64Array[] = [];
  for (let k = 0; k + 1 < g.off.length; k++) if (g.off[k + 1]! > g.off[k]!) runs.push(g.values.subarray(g.off[k]!, g.off[k + 1]!));
  if (runs.length === 0) return new Float64Array(0);
  while (runs.length > 1) {
    const next: Float64Array[] = [];
    for (let k = 0; k < runs.length; k += 2) next.push(k + 1 < runs.length ? merge(runs[k]!, runs[k + 1]!) : runs[k]!);
    runs = next;
  }
  return runs[0]!;
}

function merge(x: Float64Array, y: Float64Array): Float64Array {
  const out = new Float64Array(x.length + y.length);
  let i = 0;
  let j = 0;
  let o = 0;
  while (i < x.length && j < y.length) out[o++] = x[i]! <= y[j]! || y[j]! !== y[j]! ? x[i++]! : y[j++]!; // NaN last, as sort() puts it
  while (i < x.length) out[o++] = x[i++]!;
  while (j < y.length) out[o++] = y[j++]!;
  return out;
}

/**
 * Adds the interval [s, e) to per-bucket areas in O(1): partial first and last buckets directly,
 * the full ones in between through a difference array summed once at the end.
 */
class Areas {
  readonly area = new Float64Array(BUCKETS);
  readonly full = new Float64Array(BUCKETS + 1);
  constructor(readonly t0: number, readonly width: number) {}
  add(s: number, e: number): void {
    if (!(e > s)) return;
    const w = this.width;
    const bs = Math.min(BUCKETS - 1, Math.max(0, Math.floor((s - this.t0) / w)));
    const be = Math.min(BUCKETS - 1, Math.max(0, Math.floor((e - this.t0) / w)));
    if (bs === be) {
      this.area[bs]! += e - s;
      return;
    }
    this.area[bs]! += this.t0 + (bs + 1) * w - s;
    this.area[be]! += e - (this.t0 + be * w);
    this.full[bs + 1]! += 1;
    this.full[be]! -= 1;
  }
  /** Time-weighted mean count per bucket. */
  means(): Float64Array {
    const out = new Float64Array(BUCKETS);
    let running = 0;
    for (let b = 0; b < BUCKETS; b++) {
      running += this.full[b]!;
      out[b] = (this.area[b]! + running * this.width) / this.width;
    }
    return out;
  }
}

function timelineOf(a: Attempts, log: EventLog, t0: number, t1: number): Timeline {
  const width = Math.max((t1 - t0) / BUCKETS, 1e-3);
  const busy = new Areas(t0, width);
  const queued = new Areas(t0, width);
  const workers = new Areas(t0, width);
  for (let i = 0; i < a.length; i++) {
    busy.add(a.start[i]!, a.end[i]!);
    queued.add(a.start[i]! - a.wait[i]!, a.start[i]!);
  }
  // Runs that never started waited from when they were due until they ended.
  for (let r = 0; r < a.runs; r++) if (a.runAttempts[r] === 0) queued.add(a.runDue[r]!, a.runEnd[r]!);
  const joined = new Map<number, number>();
  for (let i = 0; i < log.length; i++) {
    const k = log.kind[i];
    if (k === K['worker:joined']) joined.set(log.worker[i]!, log.time[i]!);
    else if (k === K['worker:left']) {
      const since = joined.get(log.worker[i]!);
      if (since !== undefined) workers.add(since, log.time[i]!);
      joined.delete(log.worker[i]!);
    }
  }
  for (const since of joined.values()) workers.add(since, t1);
  const t = new Float64Array(BUCKETS);
  for (let b = 0; b < BUCKETS; b++) t[b] = b * width;
  return { bucketMs: width, t, busy: busy.means(), queued: queued.means(), workers: workers.means() };
}

/** Scheduler overhead; `waits` are the first attempts' waits from {@link taskTable}, sorted there. */
function overheadOf(a: Attempts, waits: Grouped): Overhead {
  const toReady = new Float64Array(a.length);
  let readies = 0;
  for (let i = 0; i < a.length; i++) {
    if (a.attempt[i] !== 1) continue;
    const r = a.run[i]!;
    const ready = a.runReady[r]!;
    if (ready === ready) toReady[readies++] = Math.max(0, ready - a.runSubmitted[r]!);
  }
  const s = mergeGroups(waits);
  const ready = toReady.subarray(0, readies).sort();
  return {
    basis: a.readyTimes ? 'ready' : 'submitted',
    ...(a.readyTimes && { submitToReady: { p50Ms: quantile(ready, 0.5), p95Ms: quantile(ready, 0.95) } }),
    readyToStart: { p50Ms: quantile(s, 0.5), p95Ms: quantile(s, 0.95), histogram: logHistogram(s) },
  };
}

/** A histogram on log-spaced buckets (4 per decade) from 1 µs, so µs and seconds both show. */
export function logHistogram(sorted: Float64Array): Histogram {
  const max = sorted.length ? sorted[sorted.length - 1]! : 0;
  const edges = [0, 0.001];
  while (edges[edges.length - 1]! <= max) edges.push(edges[edges.length - 1]! * 10 ** 0.25);
  const counts = new Array<number>(edges.length - 1).fill(0);
  let b = 0;
  for (const v of sorted) {
    while (b < counts.length - 1 && v >= edges[b + 1]!) b++;
    counts[b]!++;
  }
  return { edges: edges.map((e) => Number(e.toPrecision(3))), counts };
}

function subflowsOf(log: EventLog, root: number): Subflow[] {
  const out = new Map<number, { flowRunId: string; flowName: string; parentFlowRunId: string; start: number; end?: number; state: string }>();
  for (let i = 0; i < log.length; i++) {
    const k = log.kind[i];
    const f = log.flow[i]!;
    if (k === K['flow-run:started'] && f !== root && log.worker[i]! >= 0) {
      out.set(f, { flowRunId: log.str(f)!, flowName: log.str(log.name[i]!) ?? '', parentFlowRunId: log.str(log.worker[i]!)!, start: log.time[i]!, state: 'Running' });
    } else if (k === K['flow-run:finished'] && out.has(f)) {
      const s = out.get(f)!;
      s.end = log.time[i]!;
      s.state = STATES[log.state[i]!] ?? 'Running';
    }
  }
  return [...out.values()];
}

function workerEventsOf(log: EventLog, t0: number): WorkerEvent[] {
  const out: WorkerEvent[] = [];
  for (let i = 0; i < log.length; i++) {
    const k = log.kind[i];
    const time = log.time[i]! - t0;
    if (k === K['worker:joined']) out.push({ time, kind: 'joined', text: `${log.str(log.worker[i]!)} ${resourcesText(log.str(log.m[i]!))}`.trim() });
    else if (k === K['worker:left']) out.push({ time, kind: 'left', text: `${log.str(log.worker[i]!)}: ${log.str(log.m[i]!) ?? ''}` });
    else if (k === K['scale:up'] || k === K['scale:down']) out.push({ time, kind: k === K['scale:up'] ? 'scale up' : 'scale down', text: `${log.x[i]} → ${log.d[i]} workers${log.m[i]! >= 0 ? `: ${log.str(log.m[i]!)}` : ''}` });
    else if (k === K['runner:warning']) out.push({ time, kind: 'warning', text: log.str(log.m[i]!) ?? '' });
  }
  return out;
}

function resourcesText(json: string | undefined): string {
  if (!json || json === '{}') return '';
  const r = JSON.parse(json) as Record<string, number>;
  return `(${Object.entries(r).map(([k, v]) => `${k}=${v}`).join(', ')})`;
}

/** Task errors and log lines, in time order, each list capped with a count of the rest. */
function linesOf(log: EventLog, a: Attempts, t0: number): { errors: Capped<LogLine>; logs: Capped<LogLine> } {
  const errors: LogLine[] = [];
  const logs: LogLine[] = [];
  let droppedErrors = 0;
  let droppedLogs = log.droppedLogs;
  const line = (i: number, level: string): LogLine => ({
    time: log.time[i]! - t0, level, taskRunId: log.taskId(i) ?? '', workerId: log.str(log.worker[i]!) ?? '', message: log.str(log.m[i]!) ?? '',
  });
  for (let i = 0; i < log.length; i++) {
    const k = log.kind[i];
    const isError =
      (k === K['task-run:retried'] || (k === K['task-run:finished'] && log.state[i]! > 0)) && log.m[i]! >= 0;
    if (isError) {
      if (errors.length < ERROR_CAP) errors.push(line(i, k === K['task-run:retried'] ? `retried (attempt ${log.x[i]})` : STATES[log.state[i]!]!));
      else droppedErrors++;
    } else if (k === K['task-run:log']) {
      const level = LEVELS[log.x[i]!] ?? 'info';
      if (level === 'error') {
        if (errors.length < ERROR_CAP) errors.push(line(i, 'error'));
        else droppedErrors++;
      } else if (logs.length < LOG_LINES_CAP) logs.push(line(i, level));
      else droppedLogs++;
    }
  }
  void a;
  return { errors: { lines: errors, dropped: droppedErrors }, logs: { lines: logs, dropped: droppedLogs } };
}
