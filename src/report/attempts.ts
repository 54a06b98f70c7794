import { ATTEMPT_STATES, endOf, finishedBegins, finishedEnd, isMeasured, RESTARTED, RETRIED, UNFINISHED } from '../events/attempt-rules.ts';
import { K, strOf, type EventLog } from './event-log.ts';
import type { Chunk } from './rows.ts';

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
  /** The log's last time (-Infinity for no rows). */
  readonly lastTime: number;
  runIdOf(run: number): string;
}


/**
 * Pairs each task run's started / retried / finished events into attempts, by the rules of
 * `events/attempt-rules.ts` (the same the engine's fold applies). An attempt still open when the
 * log ends is `Unfinished`, ending at the log's last time.
 */
export function pairAttempts(log: EventLog): Attempts {
  const pairing = new AttemptPairing(log.strings);
  for (const chunk of log.chunks()) pairing.add(chunk);
  return pairing.finish();
}

/** A flow run's task runs: by dictionary code, and by number per task name (ids `${name}-${n}`, see EventLog.taskCode). */
interface ByFlow {
  byCode: Int32Array;
  byNumber: Map<number, Int32Array>;
}

/**
 * {@link pairAttempts} a chunk at a time, as a log's chunks arrive (in the report thread while the
 * run goes on): the columns grow by doubling as runs and attempts come, filled in place, with no
 * per-event allocation. `strings` is the log's dictionary, read as it grows.
 */
export class AttemptPairing {
  readonly #strings: readonly string[];
  readonly #flows = new Map<number, ByFlow>();
  readonly #names: string[] = [];
  #nameOf: Int32Array = new Int32Array(64).fill(-1);
  #r = runColumns(1024);
  #a = attemptColumns(1024);
  #runs = 0;
  #n = 0;
  #readyTimes = false;
  /** The log's last time so far. */
  lastTime = -Infinity;
  // Task runs are keyed by (flow run, task run id): ids repeat across subflows. The last flow run
  // and task name looked up are kept: consecutive events are nearly always of the same ones.
  #lastFlow = -2;
  #lastByFlow: ByFlow | undefined;
  #lastName = -2;
  #lastByNumber: Int32Array | undefined;

  constructor(strings: readonly string[]) {
    this.#strings = strings;
  }

  /** Attempts begun so far. */
  get count(): number {
    return this.#n;
  }

  /** The attempt columns as they are now: an end is NaN while its attempt is open. Replaced as they grow, so read again after each {@link add}. */
  get columns(): AttemptColumns {
    return this.#a;
  }

  /** A run's `n` of `${taskName}-${n}`, -1 when its id has another form. */
  runNumber(run: number): number {
    return this.#r.number[run]!;
  }

  /** Pairs the rows of one chunk, after every chunk before it. */
  add(c: Chunk): void {
    const SUBMITTED = K['task-run:submitted'];
    const STARTED = K['task-run:started'];
    const RETRIED_EVENT = K['task-run:retried'];
    const FINISHED = K['task-run:finished'];
    for (let i = 0; i < c.length; i++) {
      const k = c.kind[i]!;
      const t = c.time[i]!;
      if (t > this.lastTime) this.lastTime = t;
      if (k === SUBMITTED) {
        this.#runIndex(c, i);
      } else if (k === STARTED) {
        const r = this.#r;
        const run = this.#runIndex(c, i);
        const ready = c.y[i]!;
        if (!Number.isNaN(ready) && r.attempts[run] === 0) {
          this.#readyTimes = true;
          r.ready[run] = ready;
          r.due[run] = ready;
        }
        this.#close(run, t, RESTARTED);
        this.#begin(run, c.worker[i]!, t, c.x[i]!);
      } else if (k === RETRIED_EVENT) {
        const run = this.#runIndex(c, i);
        this.#close(run, t, RETRIED);
        const r = this.#r;
        r.retries[run]!++;
        const delay = c.d[i]!;
        r.nextDue[run] = t + (Number.isNaN(delay) ? 0 : delay);
      } else if (k === FINISHED) {
        const run = this.#runIndex(c, i);
        const r = this.#r;
        if (r.state[run]! >= 0) continue; // it ended already
        const attempt = c.x[i]!;
        if (finishedBegins(r.open[run]! >= 0, attempt, r.attempts[run]!, c.y[i]!)) this.#begin(run, c.worker[i]!, c.y[i]!, attempt);
        const at = r.open[run]!;
        if (at >= 0) {
          const a = this.#a;
          const service = c.d[i]!;
          if (isMeasured(a.attempt[at]!, attempt, service)) a.measured[at] = 1;
          this.#close(run, finishedEnd(a.start[at]!, a.attempt[at]!, attempt, service, t), c.state[i]!);
        }
        r.state[run] = c.state[i]!;
        r.end[run] = t;
      }
    }
  }

  #runIndex(c: Chunk, i: number): number {
    const f = c.flow[i]!;
    let byFlow = this.#lastByFlow as ByFlow;
    if (f !== this.#lastFlow) {
      byFlow = this.#flows.get(f) as ByFlow;
      if (!byFlow) this.#flows.set(f, (byFlow = { byCode: new Int32Array(0), byNumber: new Map() }));
      this.#lastFlow = f;
      this.#lastByFlow = byFlow;
      this.#lastName = -2;
    }
    const task = c.task[i]!;
    let slot = task;
    let byTask: Int32Array;
    if (task <= -2) {
      slot = -(task + 2);
      const code = c.name[i]!;
      let numbered = code === this.#lastName ? this.#lastByNumber : byFlow.byNumber.get(code);
      if (!numbered || slot >= numbered.length) byFlow.byNumber.set(code, (numbered = wider(numbered, slot)));
      this.#lastName = code;
      this.#lastByNumber = numbered;
      byTask = numbered;
    } else {
      // The dictionary grows as the log does: a code may be past the table made for it so far.
      if (slot >= byFlow.byCode.length) byFlow.byCode = wider(byFlow.byCode, slot);
      byTask = byFlow.byCode;
    }
    let run = byTask[slot]!;
    if (run < 0) {
      let r = this.#r;
      if (this.#runs === r.task.length) r = this.#r = runColumns(this.#runs * 2, r);
      run = this.#runs++;
      byTask[slot] = run;
      const code = c.name[i]!;
      if (code + 1 >= this.#nameOf.length) this.#nameOf = wider(this.#nameOf, code + 1);
      let nm = this.#nameOf[code + 1]!;
      if (nm < 0) nm = this.#nameOf[code + 1] = this.#names.push(strOf(this.#strings, code) ?? '?') - 1;
      const t = c.time[i]!;
      r.task[run] = task;
      r.number[run] = task <= -2 ? slot : -1;
      r.name[run] = nm;
      r.submitted[run] = t;
      r.due[run] = t;
    }
    return run;
  }

  #close(run: number, end: number, state: number): void {
    const r = this.#r;
    const at = r.open[run]!;
    if (at < 0) return;
    const a = this.#a;
    a.end[at] = endOf(a.start[at]!, end);
    a.state[at] = state;
    r.open[run] = -1;
  }

  #begin(run: number, worker: number, start: number, attempt: number): void {
    const r = this.#r;
    const next = r.nextDue[run]!;
    const due = Number.isNaN(next) ? r.due[run]! : next;
    const n = this.#n;
    let a = this.#a;
    if (n === a.run.length) a = this.#a = attemptColumns(n * 2, a);
    a.run[n] = run;
    a.name[n] = r.name[run]!;
    a.worker[n] = worker;
    a.start[n] = start;
    a.end[n] = NaN;
    a.state[n] = UNFINISHED;
    a.attempt[n] = attempt;
    a.wait[n] = Math.max(0, start - due);
    r.open[run] = n;
    this.#n = n + 1;
    if (attempt > r.attempts[run]!) r.attempts[run] = attempt;
  }

  /** The attempts of every chunk added: attempts still open end `Unfinished` at the last time. Called once, after the last chunk. */
  finish(): Attempts {
    const { lastTime } = this;
    const r = this.#r;
    const a = this.#a;
    const runs = this.#runs;
    const n = this.#n;
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
    const names = this.#names;
    const strings = this.#strings;
    return {
      length: n, order,
      run: cut(a.run, n), name: cut(a.name, n), worker: cut(a.worker, n), start: cut(a.start, n), end: cut(a.end, n),
      state: cut(a.state, n), attempt: cut(a.attempt, n), wait: cut(a.wait, n), measured: cut(a.measured, n),
      runs, runName: cut(r.name, runs), runNumber: cut(r.number, runs), runState: cut(r.state, runs), runRetries: cut(r.retries, runs), runAttempts: cut(r.attempts, runs),
      runSubmitted: cut(r.submitted, runs), runReady: cut(r.ready, runs), runDue: cut(r.due, runs), runEnd: cut(r.end, runs), names, readyTimes: this.#readyTimes, lastTime,
      runIdOf: (run) => {
        const task = r.task[run]!;
        return (task <= -2 ? `${names[r.name[run]!]}-${r.number[run]}` : strings[task]) ?? '';
      },
    };
  }
}

/** `table` (or none) widened to hold index `slot`, new entries -1. */
function wider(table: Int32Array | undefined, slot: number): Int32Array {
  const grown = new Int32Array(Math.max(1024, (slot + 1) * 2)).fill(-1);
  if (table) grown.set(table);
  return grown;
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
  task: [Int32Array, 0], number: [Int32Array, 0], name: [Int32Array, 0], state: [Int8Array, -1], retries: [Int32Array, 0],
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
export type AttemptColumns = { -readonly [K in keyof typeof ATTEMPT_COLUMNS]: InstanceType<(typeof ATTEMPT_COLUMNS)[K][0]> };
function attemptColumns(size: number, old?: AttemptColumns): AttemptColumns {
  return columns(ATTEMPT_COLUMNS as never, size, old) as AttemptColumns;
}
