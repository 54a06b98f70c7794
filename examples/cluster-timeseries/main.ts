/**
 * Runs the 1988-2022 yearly means on a temporary 2-worker cluster and prints a few of them.
 *
 *   node --import tsx examples/cluster-timeseries/main.ts
 */
import { DistributedTaskRunner, isMain } from 'weftjs';
import { partitions, timeseries } from './flow.ts';

export async function main(): Promise<{ means: Map<number, number>; partitions: number }> {
  const taskRunner = new DistributedTaskRunner({ clusterOptions: { workers: 2, threadsPerWorker: 2 } });
  const means = await timeseries.withOptions({ taskRunner })(1988, 2022);
  const count = partitions(1988, 2022).starts.length;
  console.log(`${count} four-week partitions mapped, reduced to ${means.size} yearly means:`);
  for (const year of [1988, 2000, 2022]) console.log(`  ${year}: ${means.get(year)?.toFixed(3)}`);
  return { means, partitions: count };
}

if (isMain(import.meta)) await main();
