/**
 * DistributedTaskRunner on a 2-worker LocalCluster (2 cores), measured in one run against raw
 * BullMQ doing the same jobs on the same Redis, and against Dask distributed's LocalCluster:
 * - 10,000 no-op tasks (target ≥ 20,000 tasks/s), with the cluster warm;
 * - a chain of 1,000 dependent tasks (target ≤ 3 ms per hop);
 * - a temporary cluster's start (Redis + 2 workers ready; target ≤ 400 ms) and stop (≤ 200 ms), on
 *   the built package (dist/, what users run; built if stale) and, for comparison, from the sources.
 *
 * The workers import this module to find its tasks; the benchmark itself runs only as main.
 */
import { DistributedTaskRunner, LocalCluster, flow, isMain, task } from '../../src/index.ts';
import { bullmqChain, bullmqNoop } from '../baselines/bullmq.ts';
import { dask } from '../baselines/dask.ts';
import { ensureBuilt } from '../lib/built.ts';
import { figure, median, report, type Figure } from '../lib/harness.ts';

export const noop = task(function noop(i: number) {
  return i;
});

export const inc = task(function inc(x: number) {
  return x + 1;
});

const N = 10_000;
const HOPS = 1_000;
const REPEATS = 3;

async function weftFigures(address: string): Promise<{ tasksPerSec: number; msPerHop: number }> {
  const runner = new DistributedTaskRunner({ address });
  const noops = flow(async function noops(n: number) {
    const t0 = performance.now();
    await Promise.all(noop.map(Array.from({ length: n }, (_, i) => i)));
    return performance.now() - t0;
  }, { taskRunner: runner });
  const chain = flow(async function chain(n: number) {
    const t0 = performance.now();
    let x = 0;
    for (let i = 0; i < n; i++) x = await inc.submit(x).result();
    if (x !== n) throw new Error(`chain ended at ${x}, not ${n}`);
    return performance.now() - t0;
  }, { taskRunner: runner });
  await noops(1000); // warm-up: workers import this module, connections open
  await chain(50);
  const noopMs: number[] = [];
  const chainMs: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    noopMs.push(await noops(N));
    chainMs.push(await chain(HOPS));
  }
  return { tasksPerSec: (N / median(noopMs)) * 1000, msPerHop: median(chainMs) / HOPS };
}

/** Start and stop of a 2-worker LocalCluster: `weft` is the built package (what users run) or the sources under tsx. */
async function startStop(weft: { LocalCluster: typeof LocalCluster }): Promise<{ startMs: number; stopMs: number }> {
  const starts: number[] = [];
  const stops: number[] = [];
  for (let i = 0; i < REPEATS; i++) {
    const cluster = new weft.LocalCluster({ workers: 2, threadsPerWorker: 1 });
    const t0 = performance.now();
    await cluster.start();
    const t1 = performance.now();
    await cluster.close();
    stops.push(performance.now() - t1);
    starts.push(t1 - t0);
  }
  return { startMs: median(starts), stopMs: median(stops) };
}

function daskValue(result: Record<string, number> | { skipped: string }, key: string, scale = 1): number {
  if ('skipped' in result) {
    console.log(`(Dask skipped: ${String(result.skipped)})`);
    return NaN;
  }
  return (result[key] ?? NaN) * scale;
}

async function main(): Promise<void> {
  const cluster = new LocalCluster({ workers: 2, threadsPerWorker: 1 });
  await cluster.start();
  let weft: { tasksPerSec: number; msPerHop: number };
  let rawNoop: { tasksPerSec: number };
  let rawChain: { msPerHop: number };
  try {
    weft = await weftFigures(cluster.address);
    rawNoop = await bullmqNoop(cluster.address, N, 50);
    rawChain = await bullmqChain(cluster.address, HOPS);
  } finally {
    await cluster.close();
  }
  ensureBuilt();
  // A variable specifier: dist/ need not exist when the bench is type-checked.
  const built = (await import(new URL('../../dist/index.js', import.meta.url).href)) as { LocalCluster: typeof LocalCluster };
  const life = await startStop(built);
  const fromSources = await startStop({ LocalCluster });
  const daskNoop = await dask('noop', N);
  const daskChain = await dask('chain', HOPS);
  const daskLife = await dask('startstop', 0);

  const figures: Figure[] = [
    figure('cluster, 10,000 no-op tasks, 2 workers', weft.tasksPerSec, 'tasks/s', 'raw BullMQ, same jobs, same Redis', rawNoop.tasksPerSec, { text: '≥ 20,000 tasks/s', met: weft.tasksPerSec >= 20_000 }),
    figure('cluster, 10,000 no-op tasks, vs Dask', weft.tasksPerSec, 'tasks/s', 'Dask distributed client.map', daskValue(daskNoop, 'tasksPerSec')),
    figure('cluster, 1,000-task chain', weft.msPerHop, 'ms/hop', 'raw BullMQ add → completed', rawChain.msPerHop, { text: '≤ 3 ms/hop', met: weft.msPerHop <= 3 }),
    figure('cluster, 1,000-task chain, vs Dask', weft.msPerHop, 'ms/hop', 'Dask distributed submit chain', daskValue(daskChain, 'msPerHop')),
    figure('temporary cluster start (Redis + 2 workers ready), built package', life.startMs, 'ms', 'Dask LocalCluster(2) start', daskValue(daskLife, 'startSeconds', 1000), { text: '≤ 400 ms', met: life.startMs <= 400 }),
    figure('temporary cluster stop, built package', life.stopMs, 'ms', 'Dask LocalCluster(2) close', daskValue(daskLife, 'stopSeconds', 1000), { text: '≤ 200 ms', met: life.stopMs <= 200 }),
    figure('temporary cluster start, weft from its sources (tsx in every worker)', fromSources.startMs, 'ms', 'the built package', life.startMs),
    figure('temporary cluster stop, weft from its sources', fromSources.stopMs, 'ms', 'the built package', life.stopMs),
  ];
  report('cluster', figures);
}

if (isMain(import.meta)) await main();
