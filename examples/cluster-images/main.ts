/**
 * The twelve-image download on a temporary cluster: the same `plumes` flow as examples/plumes,
 * given a DistributedTaskRunner. A LocalCluster (a private redis-server and 2 worker processes
 * running 6 tasks each) starts with the flow run and is gone when it ends.
 *
 *   node --import tsx examples/cluster-images/main.ts
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DistributedTaskRunner, isMain } from 'weftjs';
import { plumes } from '../plumes/flow.ts';
import { startImageServer } from '../plumes/server.ts';

export async function main(delayMs = 100): Promise<{ files: string[]; workers: string[] }> {
  const server = await startImageServer({ delayMs });
  const outDir = await mkdtemp(join(tmpdir(), 'weft-cluster-images-'));
  try {
    const taskRunner = new DistributedTaskRunner({ clusterOptions: { workers: 2, threadsPerWorker: 6 } });
    const run = plumes.withOptions({ taskRunner }).run(server.url, 2022, outDir);
    const workers = new Set<string>();
    run.on('task-run:started', (e) => workers.add(e.workerId));
    const t0 = performance.now();
    const files = await run.result();
    console.log(`${files.length} images downloaded by cluster workers ${[...workers].sort().join(', ')} in ${((performance.now() - t0) / 1000).toFixed(2)} s (cluster start and stop included)`);
    return { files, workers: [...workers] };
  } finally {
    await rm(outDir, { recursive: true, force: true });
    await server.close();
  }
}

if (isMain(import.meta)) await main();
