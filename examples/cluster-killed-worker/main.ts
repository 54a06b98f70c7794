/**
 * A worker killed mid-task: the task runs again on another worker (at most `allowedFailures`
 * times), the flow goes on, and LocalCluster replaces the dead worker. The task kills its own
 * worker process (SIGKILL) the first time it runs, as an out-of-memory kill would.
 *
 *   node --import tsx examples/cluster-killed-worker/main.ts
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DistributedTaskRunner, flow, getRunContext, isMain, task } from 'weftjs';

export const fragile = task(async function fragile(marker: string) {
  if (!existsSync(marker)) {
    writeFileSync(marker, `${getRunContext().workerId}`);
    process.kill(process.pid, 'SIGKILL');
  }
  return getRunContext().workerId as string;
});

export const steady = task(function steady(x: number) {
  return x * 10;
});

export const survives = flow(async function survives(marker: string) {
  const retried = fragile.submit(marker);
  const others = await Promise.all(steady.map([1, 2, 3]));
  return { ranOn: await retried.result(), others };
});

export async function main(): Promise<{ killed: string; ranOn: string; others: number[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-killed-'));
  try {
    const marker = join(dir, 'killed');
    const taskRunner = new DistributedTaskRunner({ clusterOptions: { workers: 2, threadsPerWorker: 1, lockMs: 1000 } });
    const { ranOn, others } = await survives.withOptions({ taskRunner })(marker);
    const killed = (await import('node:fs')).readFileSync(marker, 'utf8');
    console.log(`The task killed worker ${killed}, ran again on ${ranOn}, and the flow went on: ${others.join(', ')}`);
    return { killed, ranOn, others };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (isMain(import.meta)) await main();
