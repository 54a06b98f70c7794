/**
 * Elastic clusters, measured in one run on LocalClusters of 2-slot workers:
 * - an adaptive burst of 200 tasks of 100 ms (adapt 1..4 workers, default 5 s target): wall time
 *   and worker-seconds (worker processes alive × time, over the burst) against fixed clusters of
 *   1 and of 4 workers, and the times to the first scale-up (from the burst's submission) and back
 *   down to 1 worker (from its end);
 * - fair share: a run of 4 tasks of 50 ms started while a run of 200 such tasks is queued on a
 *   one-worker cluster, its latency against the same small run alone.
 *
 * The workers import this module to find its tasks; the benchmark itself runs only as main.
 */
import { DistributedTaskRunner, LocalCluster, flow, isMain, task } from '../../src/index.ts';
import { figure, report, type Figure } from '../lib/harness.ts';

export const nap = task(async function nap(ms: number) {
  await new Promise((r) => setTimeout(r, ms));
  return ms;
});

const BURST = 200;
const BURST_MS = 100;
const SLOTS = 2;

const mapFlow = (name: string) => flow(async function burst(n: number, ms: number) {
  const t0 = performance.now();
  await Promise.all(nap.map(Array.from({ length: n }, () => ms)));
  return performance.now() - t0;
}, { name });

/** Integrates worker processes alive over time, sampling every 25 ms. */
function workerSeconds(cluster: LocalCluster): { stop(): number } {
  let total = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    total += cluster.pids.workers.length * (now - last);
    last = now;
  }, 25);
  return {
    stop() {
      clearInterval(timer);
      total += cluster.pids.workers.length * (performance.now() - last);
      return total / 1000;
    },
  };
}

async function fixed(workers: number): Promise<{ wallMs: number; workerS: number }> {
  const cluster = new LocalCluster({ workers, threadsPerWorker: SLOTS });
  await cluster.start();
  try {
    const run = mapFlow(`fixed-${workers}`).withOptions({ taskRunner: new DistributedTaskRunner({ address: cluster.address }) });
    await run(4, 0); // warm-up: workers import this module
    const wallMs = await run(BURST, BURST_MS);
    return { wallMs, workerS: (workers * wallMs) / 1000 };
  } finally {
    await cluster.close();
  }
}

async function until(check: () => boolean, ms: number): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check() && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
}

interface AdaptiveFigures {
  wallMs: number;
  workerS: number;
  /** From the burst's submission to the first scale-up decision, and to the first added worker's join. */
  upMs: number;
  joinedMs: number;
  /** From the burst's end until the cluster is back to one worker process. */
  downMs: number;
  peak: number;
}

async function adaptive(targetMs: number): Promise<AdaptiveFigures> {
  const cluster = new LocalCluster({ workers: 1, threadsPerWorker: SLOTS });
  await cluster.start();
  try {
    const run = mapFlow('adaptive').withOptions({ taskRunner: new DistributedTaskRunner({ address: cluster.address }) });
    await run(4, 0);
    let firstUp = NaN;
    let peak = 1;
    cluster.adapt({ minimum: 1, maximum: 4, targetMs }, (_from, to, reason) => {
      if (Number.isNaN(firstUp)) firstUp = performance.now();
      peak = Math.max(peak, to);
      console.log(`  target ${targetMs} ms: scale → ${to}: ${reason}`);
    });
    const meter = workerSeconds(cluster);
    const t0 = performance.now();
    const burst = run.run(BURST, BURST_MS);
    let joined = NaN;
    const seen = new Set<string>();
    // The runner reports the worker already there as joined at the start: the first added one is the second.
    burst.on('worker:joined', (e) => {
      seen.add(e.workerId);
      if (seen.size === 2 && Number.isNaN(joined)) joined = performance.now();
    });
    const wallMs = await burst.result();
    const workerS = meter.stop();
    const end = performance.now();
    await until(() => cluster.pids.workers.length === 1, 60_000);
    return { wallMs, workerS, upMs: firstUp - t0, joinedMs: joined - t0, downMs: performance.now() - end, peak };
  } finally {
    await cluster.close();
  }
}

async function fairShare(): Promise<{ aloneMs: number; behindMs: number; bigMs: number }> {
  const cluster = new LocalCluster({ workers: 1, threadsPerWorker: SLOTS });
  await cluster.start();
  try {
    const runner = () => new DistributedTaskRunner({ address: cluster.address });
    const small = mapFlow('small').withOptions({ taskRunner: runner() });
    await small(4, 0);
    const aloneMs = await small(4, 50);
    const big = mapFlow('big').withOptions({ taskRunner: runner() }).run(BURST, 50);
    let bigDone = 0;
    big.on('task-run:finished', () => void bigDone++);
    await until(() => bigDone >= 10, 60_000);
    const behindMs = await small(4, 50);
    const bigMs = await big.result();
    return { aloneMs, behindMs, bigMs };
  } finally {
    await cluster.close();
  }
}

async function main(): Promise<void> {
  const one = await fixed(1);
  const four = await fixed(4);
  const adapt = await adaptive(5000);
  const quick = await adaptive(1000);
  const fair = await fairShare();
  console.log(`adaptive: peak ${adapt.peak} workers (target 5 s), ${quick.peak} (target 1 s); fair share: the big run took ${Math.round(fair.bigMs)} ms`);
  const burstFigures = (label: string, a: AdaptiveFigures): Figure[] => [
    figure(`adaptive burst 200 × 100 ms (1..4 workers × 2, ${label}), wall`, a.wallMs, 'ms', 'fixed 1 worker', one.wallMs),
    figure(`adaptive burst (${label}), wall, vs fixed 4`, a.wallMs, 'ms', 'fixed 4 workers', four.wallMs),
    figure(`adaptive burst (${label}), worker-seconds`, a.workerS, 'worker-s', 'fixed 1 worker', one.workerS),
    figure(`adaptive burst (${label}), worker-seconds, vs fixed 4`, a.workerS, 'worker-s', 'fixed 4 workers', four.workerS),
    figure(`adaptive burst (${label}), time to first scale-up / added worker joined`, a.upMs, 'ms', 'added worker joined', a.joinedMs),
    figure(`adaptive burst (${label}), time back down to 1 worker after it`, a.downMs, 'ms', 'the burst\'s wall time', a.wallMs),
  ];
  const figures: Figure[] = [
    ...burstFigures('target 5 s', adapt),
    ...burstFigures('target 1 s', quick),
    figure('small run (4 × 50 ms) behind a queued 200-task run, 1 worker × 2', fair.behindMs, 'ms', 'the small run alone', fair.aloneMs),
  ];
  report('elastic', figures);
}

if (isMain(import.meta)) await main();
