/**
 * ParallelTaskRunner({ scheduler: 'threads' }) on 2 threads, measured in one run against raw
 * Piscina (same thread count):
 * - 20,000 no-op tasks: tasks/s with the workers warm (target: ≥ raw Piscina), and end to end
 *   with start-up included,
 *   from a JavaScript task module on the built package (bench/fixtures/noops.mjs: the raw pool
 *   gets a JavaScript file too), and end to end again from the TypeScript module, sources under
 *   tsx (a row of its own);
 * - 8 CPU-bound tasks of ~0.5 s: sequential against 'threads' (target: ≥ 1.85x on 2 cores);
 * - a 10 MB ArrayBuffer argument, copied against transferred (target: transferred < 1 ms);
 * - worker start-up as users pay it: the built package and a JavaScript task module
 *   (bench/fixtures/startup.mjs; target ≤ 150 ms).
 *
 * Tasks are defined at this module's top level, so the workers import it to find them; the
 * benchmark itself runs only where this module is the main one.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { flow, isMain, ParallelTaskRunner, SequentialTaskRunner, task, transfer } from '../../src/index.ts';
import { figure, median, report, type Figure } from '../lib/harness.ts';
import { noopRates } from '../lib/pool-bench.ts';
import { builtNoops, startupFigures } from '../lib/built.ts';

const N = 20_000;
const WARMUP = 2_000;
const WORKERS = 2;
const CPU_TASKS = 8;
const CPU_MS = 500;

export const noop = task(function noop(i: number) {
  return i;
});

export const burn = task(function burn(ms: number) {
  const end = performance.now() + ms;
  let x = 0;
  while (performance.now() < end) for (let i = 0; i < 1000; i++) x += Math.sqrt(i);
  return x > 0;
});

export const byteLength = task(function byteLength(buf: ArrayBuffer) {
  return buf.byteLength;
});

/** Runs `n` no-op tasks after a warm-up batch; resolves the ms of the warm part. */
export const noops = flow(async function noops(n: number) {
  await Promise.all(noop.map(Array.from({ length: WARMUP }, (_, i) => i)));
  const t0 = performance.now();
  const futures = [];
  for (let i = 0; i < n; i++) futures.push(noop.submit(i));
  await Promise.all(futures);
  return performance.now() - t0;
});

/** Runs `count` CPU tasks; resolves the ms they took once every worker had started. */
export const cpu = flow(async function cpu(count: number, ms: number, workers: number) {
  // One no-op per idle worker: each imports this module before the clock starts.
  await Promise.all(noop.map(Array.from({ length: workers }, (_, i) => i)));
  const t0 = performance.now();
  await Promise.all(burn.map(Array.from({ length: count }, () => ms)));
  return performance.now() - t0;
});

/** Median ms from submit to result of a 10 MB buffer argument, copied or transferred. */
export const bigArgument = flow(async function bigArgument(move: boolean, repeats: number) {
  await byteLength.submit(new ArrayBuffer(1024)).result();
  const times: number[] = [];
  const shared = new ArrayBuffer(10 * 1024 * 1024);
  for (let i = 0; i < repeats; i++) {
    const buf = move ? new ArrayBuffer(10 * 1024 * 1024) : shared;
    const t0 = performance.now();
    await byteLength.submit(move ? transfer(buf) : buf).result();
    times.push(performance.now() - t0);
  }
  return median(times);
});

const threads = () => new ParallelTaskRunner({ scheduler: 'threads', workers: WORKERS });

async function piscina(): Promise<{ warmMs: number; totalMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
  const file = join(dir, 'noop.mjs');
  writeFileSync(file, 'export default function noop(i) { return i; }\n');
  try {
    const t0 = performance.now();
    const pool = new Piscina({ filename: file, minThreads: WORKERS, maxThreads: WORKERS });
    await Promise.all(Array.from({ length: WARMUP }, (_, i) => pool.run(i)));
    const t1 = performance.now();
    const runs = [];
    for (let i = 0; i < N; i++) runs.push(pool.run(i));
    await Promise.all(runs);
    const t2 = performance.now();
    await pool.destroy();
    return { warmMs: t2 - t1, totalMs: performance.now() - t0 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  process.env.WEFT_TASK_LOGS = 'off';
  // Like for like with the raw pool (a plain JavaScript file): weft's tasks in a JavaScript module
  // on the built package. The TypeScript module from the sources (each worker loads tsx) runs in the
  // same rounds, as a row of its own.
  const runJavaScript = await builtNoops();
  const rates = await noopRates(N, () => runJavaScript('threads', WORKERS, N, WARMUP), piscina, 5, () => noops.withOptions({ taskRunner: threads() })(N));

  const sequentialMs = await cpu.withOptions({ taskRunner: new SequentialTaskRunner() })(CPU_TASKS, CPU_MS, 1);
  const t1 = performance.now();
  const threadsMs = await cpu.withOptions({ taskRunner: threads() })(CPU_TASKS, CPU_MS, WORKERS);
  const threadsTotalMs = performance.now() - t1;

  const copiedMs = await bigArgument.withOptions({ taskRunner: threads() })(false, 9);
  const movedMs = await bigArgument.withOptions({ taskRunner: threads() })(true, 9);

  const startup = startupFigures('threads');
  const warm = rates.weftWarm;
  const rawRate = rates.rawWarm;
  const speedup = sequentialMs / threadsMs;
  const figures: Figure[] = [
    figure(`'threads' (${WORKERS}), ${N.toLocaleString('en-US')} no-op tasks, workers warm (JavaScript task module, built package)`, warm, 'tasks/s', `raw Piscina, ${WORKERS} threads`, rawRate, { text: '≥ raw Piscina', met: warm >= rawRate }),
    figure(`'threads' (${WORKERS}), ${(N + WARMUP).toLocaleString('en-US')} no-op tasks, start-up included (JavaScript task module, built package)`, rates.weftTotal * ((N + WARMUP) / N), 'tasks/s', 'raw Piscina, start-up included', rates.rawTotal * ((N + WARMUP) / N)),
    figure(`'threads' (${WORKERS}), ${(N + WARMUP).toLocaleString('en-US')} no-op tasks, start-up included, TypeScript task module from the sources (each worker loads tsx)`, (rates.typeScriptTotal ?? 0) * ((N + WARMUP) / N), 'tasks/s', 'raw Piscina, start-up included', rates.rawTotal * ((N + WARMUP) / N)),
    figure(`${CPU_TASKS} CPU tasks of ${CPU_MS} ms on 'threads' (${WORKERS}), workers started`, speedup, 'x', `sequential ${(sequentialMs / 1000).toFixed(2)} s, threads ${(threadsMs / 1000).toFixed(2)} s`, 1, { text: '≥ 1.85x', met: speedup >= 1.85 }),
    figure(`the same, flow run end to end (start-up included)`, sequentialMs / threadsTotalMs, 'x', `threads ${(threadsTotalMs / 1000).toFixed(2)} s`, 1),
    figure('10 MB ArrayBuffer argument, transferred (submit to result)', movedMs, 'ms', 'the same, copied', copiedMs, { text: '< 1 ms', met: movedMs < 1 }),
    figure(`'threads' worker start-up, built package, JavaScript task module (flow start to worker:joined)`, startup.workerStartMs, 'ms', `a whole 2-task flow on 2 fresh workers: ${startup.flowMs.toFixed(0)} ms`, startup.flowMs, { text: '≤ 150 ms', met: startup.workerStartMs <= 150 }),
  ];
  report('threads', figures);
}

if (isMain(import.meta)) await main();
