/**
 * An IO-bound flow on every local runner: 24 "requests" that each wait on the network (simulated
 * with a timer that honours the task's AbortSignal, as `fetch(url, { signal })` would).
 *
 *   npx tsx examples/parallel-io/flow.ts
 *   WEFT_EXAMPLE_SCALE=0.2 npx tsx examples/parallel-io/flow.ts   # a quick run
 *
 * Waiting costs no CPU, so the event loop ('async') overlaps all of it at once; 'threads' and
 * 'processes' run one task per worker at a time and pay to start their workers: IO belongs on the
 * event loop.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { flow, getRunContext, isMain, ParallelTaskRunner, SequentialTaskRunner, task, type TaskRunner } from 'weftjs';

/** Pretends to fetch a page: waits `latencyMs`, then returns its size. */
export const fetchPage = task(async function fetchPage(id: number, latencyMs: number) {
  await sleep(latencyMs, undefined, { signal: getRunContext().signal });
  return 1_000 + id;
});

/** Fetches `pages` pages and returns their total size. */
export const crawl = flow(async function crawl(pages: number, latencyMs: number) {
  const ids = Array.from({ length: pages }, (_, i) => i);
  const sizes = await Promise.all(fetchPage.map(ids, ids.map(() => latencyMs)));
  return sizes.reduce((a, b) => a + b, 0);
});

export function runners(): [string, TaskRunner][] {
  return [
    ['sequential', new SequentialTaskRunner()],
    ['async (24)', new ParallelTaskRunner({ scheduler: 'async', workers: 24 })],
    ['threads (2)', new ParallelTaskRunner({ scheduler: 'threads', workers: 2 })],
    ['processes (2)', new ParallelTaskRunner({ scheduler: 'processes', workers: 2 })],
  ];
}

if (isMain(import.meta)) {
  const scale = Number(process.env.WEFT_EXAMPLE_SCALE ?? 1);
  const pages = 24;
  const latencyMs = Math.max(5, Math.round(100 * scale));
  console.log(`Fetching ${pages} pages of ${latencyMs} ms latency each:`);
  for (const [name, runner] of runners()) {
    const t0 = performance.now();
    const bytes = await crawl.withOptions({ taskRunner: runner })(pages, latencyMs);
    console.log(`  ${name.padEnd(14)} ${bytes} bytes in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  }
}
