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
 * The task table's rows, and every first attempt's wait grouped by name (each group sorted):
 * {@link overheadOf} reads the same waits, so they are collected and sorted once.
 */
export function taskTable(a: Attempts): { rows: TaskRow[]; waits: Grouped } {
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

/** Scheduler overhead; `waits` are the first attempts' waits from {@link taskTable}, sorted there. */
export function overheadOf(a: Attempts, waits: Grouped): Overhead {
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

