/**
 * A CPU-bound flow on every local runner: counting primes in ranges of numbers. The flow's code is
 * the same each time; only the runner changes (`withOptions({ taskRunner })`).
 *
 *   npx tsx examples/parallel-cpu/flow.ts            # ~8 chunks of ~0.5 s each
 *   WEFT_EXAMPLE_SCALE=0.05 npx tsx examples/parallel-cpu/flow.ts   # a quick run
 *
 * On 2 cores expect sequential ≈ 'async' (one event loop does the work either way), and
 * 'threads' ≈ 'processes' ≈ half of that once their workers have started.
 */
import { availableParallelism } from 'node:os';
import { flow, isMain, ParallelTaskRunner, SequentialTaskRunner, task, type TaskRunner } from 'weftjs';

/** How many primes lie in [from, to): plain CPU work, no IO. */
export const countPrimes = task(function countPrimes(from: number, to: number) {
  let count = 0;
  for (let n = Math.max(2, from); n < to; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) {
      if (n % d === 0) {
        prime = false;
        break;
      }
    }
    if (prime) count++;
  }
  return count;
});

/** Counts the primes below `chunks * size`, one task per chunk. */
export const primes = flow(async function primes(chunks: number, size: number) {
  const starts = Array.from({ length: chunks }, (_, i) => i * size);
  const counts = await Promise.all(countPrimes.map(starts, starts.map((s) => s + size)));
  return counts.reduce((a, b) => a + b, 0);
});

/** The runners to compare, by name. */
export function runners(workers = availableParallelism()): [string, TaskRunner][] {
  return [
    ['sequential', new SequentialTaskRunner()],
    [`async (${workers})`, new ParallelTaskRunner({ scheduler: 'async', workers })],
    [`threads (${workers})`, new ParallelTaskRunner({ scheduler: 'threads', workers })],
    [`processes (${workers})`, new ParallelTaskRunner({ scheduler: 'processes', workers })],
  ];
}

if (isMain(import.meta)) {
  const scale = Number(process.env.WEFT_EXAMPLE_SCALE ?? 1);
  const chunks = 8;
  const size = Math.max(1_000, Math.round(2_500_000 * scale));
  console.log(`Counting primes below ${(chunks * size).toLocaleString('en-US')} in ${chunks} tasks:`);
  for (const [name, runner] of runners()) {
    const t0 = performance.now();
    const count = await primes.withOptions({ taskRunner: runner })(chunks, size);
    console.log(`  ${name.padEnd(14)} ${count} primes in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  }
}
