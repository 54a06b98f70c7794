/**
 * Map and reduce on a cluster: a daily series from 1988 to 2022 split into 4-week partitions; a
 * map task per partition sums each year's values in it, and a reduce task turns the partial sums
 * into a yearly mean. The series is computed, not downloaded, so the example runs offline.
 */
import { flow, task } from 'weftjs';

const DAY_MS = 86_400_000;

/** The value of the series on a day: a seasonal cycle over a slow warming trend. */
export function valueOn(dayMs: number): number {
  const date = new Date(dayMs);
  const dayOfYear = (dayMs - Date.UTC(date.getUTCFullYear(), 0, 1)) / DAY_MS;
  return 10 + 0.03 * (date.getUTCFullYear() - 1988) + 8 * Math.sin((2 * Math.PI * (dayOfYear - 100)) / 365.25);
}

/** Map: per year, the sum and count of the values in one partition of `days` days from `startMs`. */
export const partitionSums = task(function partitionSums(startMs: number, days: number) {
  const sums = new Map<number, { sum: number; count: number }>();
  for (let d = 0; d < days; d++) {
    const dayMs = startMs + d * DAY_MS;
    const year = new Date(dayMs).getUTCFullYear();
    const entry = sums.get(year) ?? { sum: 0, count: 0 };
    entry.sum += valueOn(dayMs);
    entry.count++;
    sums.set(year, entry);
  }
  return sums;
});

/** Reduce: partial sums from every partition into one mean per year. */
export const yearlyMeans = task(function yearlyMeans(partials: Map<number, { sum: number; count: number }>[]) {
  const total = new Map<number, { sum: number; count: number }>();
  for (const partial of partials) {
    for (const [year, { sum, count }] of partial) {
      const t = total.get(year) ?? { sum: 0, count: 0 };
      t.sum += sum;
      t.count += count;
      total.set(year, t);
    }
  }
  return new Map([...total].sort(([a], [b]) => a - b).map(([year, { sum, count }]) => [year, sum / count]));
});

/** The 4-week partitions of [first, last] as (start, days) pairs. */
export function partitions(first: number, last: number): { starts: number[]; days: number[] } {
  const starts: number[] = [];
  const days: number[] = [];
  const end = Date.UTC(last + 1, 0, 1);
  for (let t = Date.UTC(first, 0, 1); t < end; t += 28 * DAY_MS) {
    starts.push(t);
    days.push(Math.min(28, Math.round((end - t) / DAY_MS)));
  }
  return { starts, days };
}

export const timeseries = flow(async function timeseries(first: number, last: number) {
  const { starts, days } = partitions(first, last);
  const partials = partitionSums.map(starts, days);
  return yearlyMeans.submit(partials).result();
});
