import { EventLog, K } from './event-log.ts';

/** How an attempt ended: the final states, `Retried` (it failed and another attempt followed), `Unfinished` (the log ended first). */
export const ATTEMPT_STATES = ['Completed', 'Failed', 'Crashed', 'Cancelled', 'Retried', 'Unfinished'] as const;
const RETRIED = 4;
const UNFINISHED = 5;
const CRASHED = 2;

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

interface Open {
  attempt: number;
  due: number;
}

/**
 * Pairs each task run's started / retried / finished events into attempts. A `started` while an
 * attempt is open means the worker was lost and the run went elsewhere (the cluster's
 * `allowedFailures`): the open attempt ends Crashed there. A `finished` with a `startTime` and no
 * open attempt (its `started` was never seen) still gets its bar.
 */
export function pairAttempts(log: EventLog): Attempts {
  const runOf = new Map<number, number>();
  const nameOf = new Map<number, number>();
  const names: string[] = [];
  const r = { task: [] as number[], name: [] as number[], state: [] as number[], retries: [] as number[], attempts: [] as number[], submitted: [] as number[], ready: [] as number[], due: [] as number[], end: [] as number[] };
  const a = { run: [] as number[], name: [] as number[], worker: [] as number[], start: [] as number[], end: [] as number[], state: [] as number[], attempt: [] as number[], wait: [] as number[], measured: [] as number[] };
  const open = new Map<number, number>();
  const next = new Map<number, Open>();
  let readyTimes = false;
  let lastTime = -Infinity;

  const nameIndex = (code: number): number => {
    let n = nameOf.get(code);
    if (n === undefined) {
      n = names.push(log.str(code) ?? '?') - 1;
      nameOf.set(code, n);
    }
    return n;
  };
  const runIndex = (i: number): number => {
    const key = log.flow[i]! * 2 ** 26 + log.task[i]!;
    let run = runOf.get(key);
    if (run === undefined) {
      run = r.task.push(log.task[i]!) - 1;
      runOf.set(key, run);
      const t = log.time[i]!;
      r.name.push(nameIndex(log.name[i]!));
      r.state.push(-1);
      r.retries.push(0);
      r.attempts.push(0);
      r.submitted.push(t);
      r.ready.push(NaN);
      r.due.push(t);
      r.end.push(NaN);
    }
    return run;
  };
  const close = (run: number, end: number, state: number): void => {
    const at = open.get(run);
    if (at === undefined) return;
    a.end[at] = end;
    a.state[at] = state;
    open.delete(run);
  };
  const begin = (run: number, i: number, start: number, attempt: number): void => {
    const due = next.get(run)?.due ?? r.due[run]!;
    a.run.push(run);
    a.name.push(r.name[run]!);
    a.worker.push(log.worker[i]!);
    a.start.push(start);
    a.end.push(NaN);
    a.state.push(UNFINISHED);
    a.attempt.push(attempt);
    a.wait.push(Math.max(0, start - due));
    a.measured.push(0);
    open.set(run, a.run.length - 1);
    r.attempts[run] = Math.max(r.attempts[run]!, attempt);
  };

  for (let i = 0; i < log.length; i++) {
    const k = log.kind[i]!;
    const t = log.time[i]!;
    if (t > lastTime) lastTime = t;
    if (k === K['task-run:submitted']) {
      runIndex(i);
    } else if (k === K['task-run:started']) {
      const run = runIndex(i);
      const ready = log.y[i]!;
      if (!Number.isNaN(ready) && r.attempts[run] === 0) {
        readyTimes = true;
        r.ready[run] = ready;
        r.due[run] = ready;
      }
      close(run, t, CRASHED);
      begin(run, i, t, log.x[i]!);
    } else if (k === K['task-run:retried']) {
      const run = runIndex(i);
      close(run, t, RETRIED);
      r.retries[run]!++;
      const delay = log.d[i]!;
      next.set(run, { attempt: log.x[i]! + 1, due: t + (Number.isNaN(delay) ? 0 : delay) });
    } else if (k === K['task-run:finished']) {
      const run = runIndex(i);
      const startTime = log.y[i]!;
      if (!open.has(run) && !Number.isNaN(startTime) && log.x[i]! > r.attempts[run]!) begin(run, i, startTime, log.x[i]!);
      // Where the attempt's own run time is known, its end is start + run time, not the later
      // moment the flow's process heard of it.
      const at = open.get(run);
      const service = log.d[i]!;
      const measured = at !== undefined && !Number.isNaN(service);
      if (measured) a.measured[at] = 1;
      close(run, measured ? Math.min(t, a.start[at]! + service) : t, log.state[i]!);
      r.state[run] = log.state[i]!;
      r.end[run] = t;
    }
  }
  for (const [run, at] of open) {
    a.end[at] = lastTime;
    r.end[run] = lastTime;
  }
  for (let run = 0; run < r.end.length; run++) if (Number.isNaN(r.end[run]!)) r.end[run] = lastTime;

  const n = a.run.length;
  const start = Float64Array.from(a.start);
  const order = Int32Array.from({ length: n }, (_, i) => i);
  // Attempts are appended as they start, so they are nearly always in order already.
  let sorted = true;
  for (let i = 1; i < n && sorted; i++) if (start[i]! < start[i - 1]!) sorted = false;
  if (!sorted) order.sort((x, y) => start[x]! - start[y]! || x - y);
  const runTask = r.task;
  return {
    length: n, order,
    run: Int32Array.from(a.run), name: Int32Array.from(a.name), worker: Int32Array.from(a.worker), start,
    end: Float64Array.from(a.end), state: Uint8Array.from(a.state), attempt: Int32Array.from(a.attempt), wait: Float64Array.from(a.wait), measured: Uint8Array.from(a.measured),
    runs: r.task.length, runName: Int32Array.from(r.name), runState: Int8Array.from(r.state), runRetries: Int32Array.from(r.retries),
    runAttempts: Int32Array.from(r.attempts), runSubmitted: Float64Array.from(r.submitted), runReady: Float64Array.from(r.ready),
    runDue: Float64Array.from(r.due), runEnd: Float64Array.from(r.end), names, readyTimes,
    runIdOf: (run) => log.str(runTask[run]!) ?? '',
  };
}
