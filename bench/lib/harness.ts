/**
 * The benchmark harness every bench suite uses: time a piece of work (warm-up, repeats, median),
 * compare it with a baseline measured in the same run, print the table and merge the figures
 * into bench/results/latest.json (one entry per figure, replaced per suite).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';

export interface Figure {
  /** What was measured, e.g. `async runner, 20,000 no-op tasks`. */
  readonly name: string;
  readonly value: number;
  /** `tasks/s`, `µs/task`, `ms`, `x`. */
  readonly unit: string;
  /** What it is compared with, e.g. `Promise.all over the bare function`. */
  readonly baseline: string;
  readonly baselineValue: number;
  /** value / baselineValue. */
  readonly ratio: number;
  /** A target from the issue, as text (`≥ 100,000 tasks/s`), and whether this run met it. */
  readonly target?: string;
  readonly met?: boolean;
}

export interface StoredFigure extends Figure {
  readonly suite: string;
}

/** Median wall time in ms of `fn` over `repeats` runs after `warmup` runs. */
export async function timeMs(fn: () => unknown, options: { warmup?: number; repeats?: number } = {}): Promise<number> {
  const { warmup = 1, repeats = 5 } = options;
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function figure(name: string, value: number, unit: string, baseline: string, baselineValue: number, target?: { text: string; met: boolean }): Figure {
  return { name, value, unit, baseline, baselineValue, ratio: baselineValue === 0 ? NaN : value / baselineValue, target: target?.text, met: target?.met };
}

export const RESULTS = new URL('../results/latest.json', import.meta.url);

/** Prints the suite's table and merges its figures into bench/results/latest.json. */
export function report(suite: string, figures: readonly Figure[]): void {
  console.log(`\n## ${suite}`);
  console.log(formatTable(figures));
  let stored: { updatedAt?: string; machine?: unknown; figures: StoredFigure[] } = { figures: [] };
  try {
    stored = JSON.parse(readFileSync(RESULTS, 'utf8'));
  } catch {
    // first run: no file yet
  }
  const others = (stored.figures ?? []).filter((f) => f.suite !== suite);
  const next = {
    updatedAt: new Date().toISOString(),
    machine: { cpus: availableParallelism(), model: cpus()[0]?.model, node: process.version },
    figures: [...others, ...figures.map((f) => ({ suite, ...f }))],
  };
  mkdirSync(new URL('.', RESULTS), { recursive: true });
  writeFileSync(RESULTS, JSON.stringify(next, null, 2) + '\n');
}

/** A figure's cells as the tables show them: name, weft, baseline, ratio, target. */
export function cells(f: Figure): string[] {
  return [f.name, `${fmt(f.value)} ${f.unit}`, `${f.baseline}: ${fmt(f.baselineValue)} ${f.unit}`, `${fmt(f.ratio)}x`, f.target ? `${f.target} ${f.met ? '✔' : '✘'}` : ''];
}

export function formatTable(figures: readonly Figure[]): string {
  const rows = figures.map(cells);
  const head = ['figure', 'weft', 'baseline', 'ratio', 'target'];
  const all = [head, ...rows];
  const widths = head.map((_, i) => Math.max(...all.map((r) => (r[i] as string).length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] as number)).join(' | ')} |`;
  return [line(head), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function fmt(n: number): string {
  if (!Number.isFinite(n)) return String(n);
  if (Math.abs(n) >= 1000) return Math.round(n).toLocaleString('en-US');
  if (Math.abs(n) >= 10) return n.toFixed(1);
  return n.toPrecision(3);
}
