/**
 * The report's statistics over attempts: the per-task-name table with exact quantiles, and the
 * scheduler overhead (its quantiles and histogram). Pure.
 * @module
 */
import type { Attempts } from './attempts.ts';
import type { Histogram, Overhead, TaskRow } from './model.ts';

/** The value at quantile q of sorted values (nearest rank); 0 for none. */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(q * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))]!;
}

/**
 * Values grouped by task name, each group kept sorted as values come (for exact quantiles): values
 * are appended, and {@link settle} sorts each group's new ones into a run of their own, merging
 * runs of like size as it goes (as a merge sort does: each value is moved O(log runs) times), so
 * at the end a few runs are left to merge. Fed once at the end, it is one sort per group.
 */
export class SortedGroups {
  /** By group: values not yet sorted, and how many. */
  #pending: Float64Array[] = [];
  #length: number[] = [];
  /** By group: sorted runs, each at least twice as long as the next. */
  #runs: Float64Array[][] = [];

  push(group: number, value: number): void {
    while (this.#pending.length <= group) {
      this.#pending.push(new Float64Array(16));
      this.#length.push(0);
      this.#runs.push([]);
    }
    let values = this.#pending[group]!;
    const n = this.#length[group]!;
    if (n === values.length) {
      const wider = new Float64Array(n * 2);
      wider.set(values);
      this.#pending[group] = values = wider;
    }
    values[n] = value;
    this.#length[group] = n + 1;
  }

  /** Sorts each group's values pushed since the last call into a run, and merges runs of like size. */
  settle(): void {
    for (let g = 0; g < this.#pending.length; g++) {
      const n = this.#length[g]!;
      if (n === 0) continue;
      const runs = this.#runs[g]!;
      runs.push(this.#pending[g]!.slice(0, n).sort());
      this.#length[g] = 0;
      while (runs.length > 1 && runs[runs.length - 2]!.length <= 2 * runs[runs.length - 1]!.length) runs.push(merge(runs.pop()!, runs.pop()!));
    }
  }

  /** Each group's values, sorted: group `g` is element `g`, of `groups` in all. */
  sorted(groups: number): Float64Array[] {
    this.settle();
    return Array.from({ length: groups }, (_, g) => {
      const runs = this.#runs[g] ?? [];
      while (runs.length > 1) runs.push(merge(runs.pop()!, runs.pop()!));
      return runs[0] ?? new Float64Array(0);
    });
  }
}

/**
 * The task table's rows. `durations`: every attempt's duration, by task name, sorted; `waits`:
 * every first attempt's wait, likewise ({@link SortedGroups}).
 */
export function taskTable(a: Attempts, durations: readonly Float64Array[], waits: readonly Float64Array[]): TaskRow[] {
  const names = a.names.length;
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
  return a.names.map((name, n) => {
    const ds = durations[n]!;
    const ws = waits[n]!;
    let total = 0;
    for (let i = 0; i < ds.length; i++) total += ds[i]!;
    return {
      name, count: count[n]!, completed: byState[n * 4]!, failed: byState[n * 4 + 1]!, crashed: byState[n * 4 + 2]!, cancelled: byState[n * 4 + 3]!,
      retries: retries[n]!, totalMs: total, meanMs: ds.length ? total / ds.length : 0, p50Ms: quantile(ds, 0.5), p95Ms: quantile(ds, 0.95),
      maxMs: ds.length ? ds[ds.length - 1]! : 0, waitP95Ms: quantile(ws, 0.95),
    };
  });
}

/** All of `groups`' values in one sorted array, merging its sorted groups pairwise (one group: itself, no copy). */
function mergeGroups(groups: readonly Float64Array[]): Float64Array {
  let runs = groups.filter((g) => g.length > 0);
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

/** Scheduler overhead; `waits`: every first attempt's wait, by task name, sorted ({@link taskTable}). */
export function overheadOf(a: Attempts, waits: readonly Float64Array[]): Overhead {
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

