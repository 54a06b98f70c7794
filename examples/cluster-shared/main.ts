/**
 * A long-lived cluster shared by two flow runs. Start one with `weft cluster up` (or pass an
 * address in WEFT_ADDRESS); this script starts it for you when no address is given, runs two
 * flow runs on it at once, and stops it again.
 *
 *   npx weft cluster up --workers 2            # prints: address: redis://127.0.0.1:PORT
 *   WEFT_ADDRESS=redis://127.0.0.1:PORT node --import tsx examples/cluster-shared/main.ts
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { DistributedTaskRunner, flow, isMain, task } from 'weftjs';

export const square = task(function square(x: number) {
  return x * x;
});

export const sumOfSquares = flow(async function sumOfSquares(from: number, to: number) {
  const values = await Promise.all(square.map(Array.from({ length: to - from + 1 }, (_, i) => from + i)));
  return values.reduce((a, b) => a + b, 0);
});

/** Starts `weft cluster up` and resolves its address and a function that stops it. */
async function clusterUp(): Promise<{ address: string; stop: () => Promise<void> }> {
  // The `weft` CLI of the weftjs this script imports (bin/ sits beside its dist/ or src/).
  const bin = fileURLToPath(new URL('../bin/weft.js', import.meta.resolve('weftjs')));
  const child = spawn(process.execPath, [bin, 'cluster', 'up', '--workers', '2', '--threads-per-worker', '2'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /address: (\S+)/.exec(out);
      if (m) resolve(m[1] as string);
    });
    child.once('exit', (code) => reject(new Error(`weft cluster up exited (${code}) before printing its address:\n${out}`)));
  });
  return { address, stop: async () => (child.kill('SIGINT'), exited) };
}

export async function main(): Promise<[number, number]> {
  const given = process.env.WEFT_ADDRESS;
  const cluster = given ? { address: given, stop: async () => undefined } : await clusterUp();
  try {
    const onCluster = sumOfSquares.withOptions({ taskRunner: new DistributedTaskRunner({ address: cluster.address }) });
    const results = await Promise.all([onCluster(1, 100), onCluster(101, 200)]);
    console.log(`Two flow runs on ${cluster.address}: ${results.join(' and ')}`);
    return results as [number, number];
  } finally {
    await cluster.stop();
  }
}

if (isMain(import.meta)) await main();
