/**
 * Busy slots, ready-queue depth and workers over time: each a time-weighted mean per bucket. Pure.
 * @module
 */
import type { Attempts } from './attempts.ts';
import type { Timeline } from './model.ts';

/** How many time buckets the over-time charts have. */
export const BUCKETS = 1000;

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

/** `workers`: each worker's [joined, left) in the pool, and the joins of those still in it at the end. */
export function timelineOf(a: Attempts, workerIntervals: ReadonlyArray<readonly [number, number]>, stillJoined: Iterable<number>, t0: number, t1: number): Timeline {
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
  for (const [since, left] of workerIntervals) workers.add(since, left);
  for (const since of stillJoined) workers.add(since, t1);
  const t = new Float64Array(BUCKETS);
  for (let b = 0; b < BUCKETS; b++) t[b] = b * width;
  return { bucketMs: width, t, busy: busy.means(), queued: queued.means(), workers: workers.means() };
}

