/**
 * ParallelTaskRunner({ scheduler: 'processes' }) on 2 child processes, measured in one run
 * against raw workerpool process workers (same count):
 * - 20,000 no-op tasks: tasks/s with the workers warm (target: ≥ raw workerpool processes), and
 *   end to end with start-up included,
 *   from a JavaScript task module on the built package (bench/fixtures/noops.mjs: the raw pool
 *   gets a JavaScript file too), and end to end again from the TypeScript module, sources under
 *   tsx (a row of its own);
 * - 8 CPU-bound tasks of ~0.5 s: sequential against 'processes' (target: ≥ 1.85x on 2 cores);
 * - a 10 MB ArrayBuffer argument to a process (always copied: v8 serialization);
 * - worker start-up as users pay it: the built package and a JavaScript task module
 *   (bench/fixtures/startup.mjs; target ≤ 150 ms).
 *
 * The tasks live in threads.ts (the workers import that module to find them).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import workerpool from 'workerpool';
import { isMain, ParallelTaskRunner, SequentialTaskRunner } from '../../src/index.ts';
import { figure, report, type Figure } from '../lib/harness.ts';
import { noopRates } from '../lib/pool-bench.ts';
import { builtNoops, startupFigures } from '../lib/built.ts';
import { bigArgument, cpu, noops } from './threads.ts';

const N = 20_000;
const WARMUP = 2_000;
const WORKERS = 2;
const CPU_TASKS = 8;
const CPU_MS = 500;

const processes = () => new ParallelTaskRunner({ scheduler: 'processes', workers: WORKERS });

async function rawWorkerpool(): Promise<{ warmMs: number; totalMs: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-'));
  const file = join(dir, 'noop.cjs');
  const workerpoolPath = createRequire(import.meta.url).resolve('workerpool');
  writeFileSync(file, `require(${JSON.stringify(workerpoolPath)}).worker({ noop: (i) => i });\n`);
  try {
    const t0 = performance.now();
    const pool = workerpool.pool(file, { workerType: 'process', minWorkers: WORKERS, maxWorkers: WORKERS });
    await Promise.all(Array.from({ length: WARMUP }, (_, i) => pool.exec('noop', [i])));
    const t1 = performance.now();
    const runs = [];
    for (let i = 0; i < N; i++) runs.push(pool.exec('noop', [i]));
    await Promise.all(runs);
    const t2 = performance.now();
    await pool.terminate();
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
  const rates = await noopRates(N, () => runJavaScript('processes', WORKERS, N, WARMUP), rawWorkerpool, 5, () => noops.withOptions({ taskRunner: processes() })(N));

  const sequentialMs = await cpu.withOptions({ taskRunner: new SequentialTaskRunner() })(CPU_TASKS, CPU_MS, 1);
  const t1 = performance.now();
  const processesMs = await cpu.withOptions({ taskRunner: processes() })(CPU_TASKS, CPU_MS, WORKERS);
  const processesTotalMs = performance.now() - t1;
  const copiedMs = await bigArgument.withOptions({ taskRunner: processes() })(false, 9);

  const startup = startupFigures('processes');
  const warm = rates.weftWarm;
  const rawRate = rates.rawWarm;
  const speedup = sequentialMs / processesMs;
  const figures: Figure[] = [
    figure(`'processes' (${WORKERS}), ${N.toLocaleString('en-US')} no-op tasks, workers warm (JavaScript task module, built package)`, warm, 'tasks/s', `raw workerpool, ${WORKERS} processes`, rawRate, { text: '≥ raw workerpool processes', met: warm >= rawRate }),
    figure(`'processes' (${WORKERS}), ${(N + WARMUP).toLocaleString('en-US')} no-op tasks, start-up included (JavaScript task module, built package)`, rates.weftTotal * ((N + WARMUP) / N), 'tasks/s', 'raw workerpool, start-up included', rates.rawTotal * ((N + WARMUP) / N)),
    figure(`'processes' (${WORKERS}), ${(N + WARMUP).toLocaleString('en-US')} no-op tasks, start-up included, TypeScript task module from the sources (each worker loads tsx)`, (rates.typeScriptTotal ?? 0) * ((N + WARMUP) / N), 'tasks/s', 'raw workerpool, start-up included', rates.rawTotal * ((N + WARMUP) / N)),
    figure(`${CPU_TASKS} CPU tasks of ${CPU_MS} ms on 'processes' (${WORKERS}), workers started`, speedup, 'x', `sequential ${(sequentialMs / 1000).toFixed(2)} s, processes ${(processesMs / 1000).toFixed(2)} s`, 1, { text: '≥ 1.85x', met: speedup >= 1.85 }),
    figure('the same, flow run end to end (start-up included)', sequentialMs / processesTotalMs, 'x', `processes ${(processesTotalMs / 1000).toFixed(2)} s`, 1),
    figure('10 MB ArrayBuffer argument to a process (v8 serialization, copied)', copiedMs, 'ms', 'NOTES.md: 27 ms', 27),
    figure(`'processes' worker start-up, built package, JavaScript task module (flow start to worker:joined)`, startup.workerStartMs, 'ms', `a whole 2-task flow on 2 fresh workers: ${startup.flowMs.toFixed(0)} ms`, startup.flowMs, { text: '≤ 150 ms', met: startup.workerStartMs <= 150 }),
  ];
  report('processes', figures);
}

if (isMain(import.meta)) await main();
