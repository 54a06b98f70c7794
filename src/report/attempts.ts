import { ATTEMPT_STATES, endOf, finishedBegins, finishedEnd, isMeasured, RESTARTED, RETRIED, UNFINISHED } from '../events/attempt-rules.ts';
import { EventLog, K } from './event-log.ts';

export { ATTEMPT_STATES };

/**
 * Every attempt of every task run in a log, in columns, and every task run. Attempt times are
 * epoch ms; `wait` is ms from when the attempt was due (ready, or submitted when the events carry
 * no ready time; for a retry, the retry's due time) to its start.
 */
export interface Attempts {
  readonly length: number;
  /** Attempt indices sorted by start. */
  readonly order: Int32Array;
  readonly run: Int32Array;
  /** Index into `names`. */
  readonly name: Int32Array;
  /** The worker's code in the log's dictionary. */
  readonly worker: Int32Array;
  readonly start: Float64Array;
  readonly end: Float64Array;
  /** Index into {@link ATTEMPT_STATES}. */
  readonly state: Uint8Array;
  readonly attempt: Int32Array;
  readonly wait: Float64Array;
  /** 1 where the end is start + `serviceMs` as measured where it ran; 0 where it is when the flow's process heard of it. */
  readonly measured: Uint8Array;
  readonly runs: number;
  readonly runName: Int32Array;
  /** Each run's `n` where its id is `${taskName}-${n}` (weft's own ids), else -1. */
  readonly runNumber: Int32Array;
  /** Index into the final STATES of the log, -1 when the log ended before the run did. */
  readonly runState: Int8Array;
  readonly runRetries: Int32Array;
  readonly runAttempts: Int32Array;
  readonly runSubmitted: Float64Array;
  /** NaN when the events carry no ready time. */
  readonly runReady: Float64Array;
  /** When the first attempt was due: ready time, or submission. */
  readonly runDue: Float64Array;
  readonly runEnd: Float64Array;
  readonly names: readonly string[];
  /** Whether any `started` event carried `readyTime`. */
  readonly readyTimes: boolean;
  runIdOf(run: number): string;
}


/**
 * Pairs each task run's started / retried / finished events into attempts, by the rules of
 * `events/attempt-rules.ts` (the same the engine's fold applies). An attempt still open when the
 * log ends is `Unfinished`, ending at the log's last time.
 */
export function pairAttempts(log: EventLog): Attempts {
  const SUBMITTED = K['task-run:submitted'];
  const STARTED = K['task-run:started'];
  const RETRIED_EVENT = K['task-run:retried'];
  const FINISHED = K['task-run:finished'];
  // Bounds first, so every column is one typed array filled in place (no per-event allocation).
  // Sized from the counts of submits and starts (a run or attempt without one grows the columns):
  // every column is one typed array filled in place, with no per-event allocation.
  let submits = 0;
  let starts = 0;
  // Per flow run: task runs by dictionary code, and by number per task name (ids `${name}-${n}`, see EventLog.taskCode).
  const flows = new Map<number, { byCode: Int32Array; byNumber: Map<number, Int32Array> }>();
  for (let i = 0; i < log.length; i++) {
    const k = log.kind[i];
    if (k === SUBMITTED) submits++;
    else if (k === STARTED) starts++;
  }
  const strings = log.strings.length;
  const names: string[] = [];
  const nameOf = new Int32Array(strings).fill(-1);
  let r = runColumns(submits + 16);
  let a = attemptColumns(starts + 16);
  let runs = 0;
  let n = 0;
  let readyTimes = false;
  let lastTime = -Infinity;

  // Task runs are keyed by (flow run, task run id): ids repeat across subflows. The last flow run
  // and task name looked up are kept: consecutive events are nearly always of the same ones.
  type ByFlow = { byCode: Int32Array; byNumber: Map<number, Int32Array> };
  let lastFlow = -2;
  let lastByFlow: ByFlow | undefined;
  let lastName = -2;
  let lastByNumber: Int32Array | undefined;
  const runIndex = (i: number): number => {
    const f = log.flow[i]!;
    let byFlow = lastByFlow as ByFlow;
    if (f !== lastFlow) {
      byFlow = flows.get(f) as ByFlow;
      if (!byFlow) flows.set(f, (byFlow = { byCode: new Int32Array(strings).fill(-1), byNumber: new Map() }));
      lastFlow = f;
      lastByFlow = byFlow;
      lastName = -2;
    }
    const task = log.task[i]!;
    let byTask = byFlow.byCode;
    let slot = task;
    if (task <= -2) {
      slot = -(task + 2);
      const code = log.name[i]!;
      let numbered = code === lastName ? lastByNumber : byFlow.byNumber.get(code);
      if (!numbered || slot >= numbered.length) {
        const grown = new Int32Array(Math.max(1024, (slot + 1) * 2)).fill(-1);
        if (numbered) grown.set(numbered);
        byFlow.byNumber.set(code, (numbered = grown));
      }
      lastName = code;
      lastByNumber = numbered;
      byTask = numbered;
    }
    let run = byTask[slot]!;
    if (run < 0) {
      if (runs === r.task.length) r = runColumns(runs * 2, r);
      run = runs++;
      byTask[slot] = run;
      r.row[run] = i;
      const code = log.name[i]!;
      let nm = nameOf[code]!;
      if (nm < 0) nm = nameOf[code] = names.push(log.str(code) ?? '?') - 1;
      const t = log.time[i]!;
      r.task[run] = task;
      r.number[run] = task <= -2 ? slot : -1;
      r.name[run] = nm;
      r.submitted[run] = t;
      r.due[run] = t;
    }
    return run;
  };
  const close = (run: number, end: number, state: number): void => {
    const at = r.open[run]!;
    if (at < 0) return;
    a.end[at] = endOf(a.start[at]!, end);
    a.state[at] = state;
    r.open[run] = -1;
  };
  const begin = (run: number, i: number, start: number, attempt: number): void => {
    const next = r.nextDue[run]!;
    const due = Number.isNaN(next) ? r.due[run]! : next;
    if (n === a.run.length) a = attemptColumns(n * 2, a);
    a.run[n] = run;
    a.name[n] = r.name[run]!;
    a.worker[n] = log.worker[i]!;
    a.start[n] = start;
    a.end[n] = NaN;
    a.state[n] = UNFINISHED;
    a.attempt[n] = attempt;
    a.wait[n] = Math.max(0, start - due);
    r.open[run] = n++;
    if (attempt > r.attempts[run]!) r.attempts[run] = attempt;
  };

  for (let i = 0; i < log.length; i++) {
    const k = log.kind[i]!;
    const t = log.time[i]!;
    if (t > lastTime) lastTime = t;
    if (k === SUBMITTED) {
      runIndex(i);
    } else if (k === STARTED) {
      const run = runIndex(i);
      const ready = log.y[i]!;
      if (!Number.isNaN(ready) && r.attempts[run] === 0) {
        readyTimes = true;
        r.ready[run] = ready;
        r.due[run] = ready;
      }
      close(run, t, RESTARTED);
      begin(run, i, t, log.x[i]!);
    } else if (k === RETRIED_EVENT) {
      const run = runIndex(i);
      close(run, t, RETRIED);
      r.retries[run]!++;
      const delay = log.d[i]!;
      r.nextDue[run] = t + (Number.isNaN(delay) ? 0 : delay);
    } else if (k === FINISHED) {
      const run = runIndex(i);
      if (r.state[run]! >= 0) continue; // it ended already
      const attempt = log.x[i]!;
      if (finishedBegins(r.open[run]! >= 0, attempt, r.attempts[run]!, log.y[i]!)) begin(run, i, log.y[i]!, attempt);
      const at = r.open[run]!;
      if (at >= 0) {
        const service = log.d[i]!;
        if (isMeasured(a.attempt[at]!, attempt, service)) a.measured[at] = 1;
        close(run, finishedEnd(a.start[at]!, a.attempt[at]!, attempt, service, t), log.state[i]!);
      }
      r.state[run] = log.state[i]!;
      r.end[run] = t;
    }
  }
  for (let run = 0; run < runs; run++) {
    const at = r.open[run]!;
    if (at >= 0) a.end[at] = endOf(a.start[at]!, lastTime);
    if (Number.isNaN(r.end[run]!)) r.end[run] = lastTime;
  }

  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  // Attempts are appended as they start, so they are nearly always in order already.
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if (a.start[i]! < a.start[i - 1]!) sorted = false;
  if (!sorted) order.sort((x, y) => a.start[x]! - a.start[y]! || x - y);
  const cut = <T extends Int32Array | Int8Array | Uint8Array | Float64Array>(col: T, len: number): T => col.subarray(0, len) as T;
  return {
    length: n, order,
    run: cut(a.run, n), name: cut(a.name, n), worker: cut(a.worker, n), start: cut(a.start, n), end: cut(a.end, n),
    state: cut(a.state, n), attempt: cut(a.attempt, n), wait: cut(a.wait, n), measured: cut(a.measured, n),
    runs, runName: cut(r.name, runs), runNumber: cut(r.number, runs), runState: cut(r.state, runs), runRetries: cut(r.retries, runs), runAttempts: cut(r.attempts, runs),
    runSubmitted: cut(r.submitted, runs), runReady: cut(r.ready, runs), runDue: cut(r.due, runs), runEnd: cut(r.end, runs), names, readyTimes,
    runIdOf: (run) => log.taskId(r.row[run]!) ?? '',
  };
}

type Column = Int32Array | Int8Array | Uint8Array | Float64Array;

/** Columns of `size`, `old`'s values first, the rest at `empty` (-1 or NaN where 0 means something). */
function columns<C extends Record<string, Column>>(make: { [K in keyof C]: [new (n: number) => C[K], number] }, size: number, old?: C): C {
  const out = {} as C;
  for (const key of Object.keys(make) as (keyof C)[]) {
    const [Type, empty] = make[key];
    const col = new Type(size);
    const from = old?.[key];
    if (from) col.set(from as never);
    if (empty !== 0) col.fill(empty, from?.length ?? 0);
    out[key] = col;
  }
  return out;
}

const RUN_COLUMNS = {
  task: [Int32Array, 0], number: [Int32Array, 0], row: [Int32Array, 0], name: [Int32Array, 0], state: [Int8Array, -1], retries: [Int32Array, 0],
  attempts: [Int32Array, 0], submitted: [Float64Array, 0], ready: [Float64Array, NaN], due: [Float64Array, 0], end: [Float64Array, NaN],
  open: [Int32Array, -1], nextDue: [Float64Array, NaN],
} as const;
type RunColumns = { -readonly [K in keyof typeof RUN_COLUMNS]: InstanceType<(typeof RUN_COLUMNS)[K][0]> };
function runColumns(size: number, old?: RunColumns): RunColumns {
  return columns(RUN_COLUMNS as never, size, old) as RunColumns;
}

const ATTEMPT_COLUMNS = {
  run: [Int32Array, 0], name: [Int32Array, 0], worker: [Int32Array, 0], start: [Float64Array, 0], end: [Float64Array, 0], state: [Uint8Array, 0],
  attempt: [Int32Array, 0], wait: [Float64Array, 0], measured: [Uint8Array, 0],
} as const;
type AttemptColumns = { -readonly [K in keyof typeof ATTEMPT_COLUMNS]: InstanceType<(typeof ATTEMPT_COLUMNS)[K][0]> };
function attemptColumns(size: number, old?: AttemptColumns): AttemptColumns {
  return columns(ATTEMPT_COLUMNS as never, size, old) as AttemptColumns;
}
