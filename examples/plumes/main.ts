/**
 * `npm start`: downloads twelve monthly images from a local server that answers each request
 * after a delay, first on SequentialTaskRunner, then on ParallelTaskRunner('async'), and prints
 * both times. Set PLUMES_DELAY_MS to change the server's delay (default 250 ms).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isMain, ParallelTaskRunner, SequentialTaskRunner } from 'weftjs';
import { plumes } from './flow.ts';
import { startImageServer } from './server.ts';

export async function main(delayMs = Number(process.env.PLUMES_DELAY_MS ?? 250)): Promise<{ sequentialMs: number; parallelMs: number; files: number; maxInFlight: number[] }> {
  const server = await startImageServer({ delayMs });
  const outDir = await mkdtemp(join(tmpdir(), 'weft-plumes-'));
  try {
    console.log(`Downloading 12 monthly images from ${server.url} (each response delayed ${delayMs} ms)`);
    const runners = [
      ['SequentialTaskRunner()', new SequentialTaskRunner()],
      ["ParallelTaskRunner({ scheduler: 'async', workers: 12 })", new ParallelTaskRunner({ scheduler: 'async', workers: 12 })],
    ] as const;
    const times: number[] = [];
    const maxInFlight: number[] = [];
    let files = 0;
    for (const [label, taskRunner] of runners) {
      server.resetStats();
      const t0 = performance.now();
      const paths = await plumes.withOptions({ taskRunner })(server.url, 2022, join(outDir, String(times.length)));
      const ms = performance.now() - t0;
      times.push(ms);
      maxInFlight.push(server.maxInFlight);
      files += paths.length;
      console.log(`${label.padEnd(56)} ${paths.length} images in ${(ms / 1000).toFixed(2)} s`);
    }
    const [sequentialMs, parallelMs] = times as [number, number];
    console.log(`The parallel runner was ${(sequentialMs / parallelMs).toFixed(1)}x faster: the downloads wait on the network, not the CPU.`);
    return { sequentialMs, parallelMs, files, maxInFlight };
  } finally {
    await rm(outDir, { recursive: true, force: true });
    await server.close();
  }
}

if (isMain(import.meta)) await main();
