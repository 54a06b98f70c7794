/**
 * weft on a 3-master Redis Cluster (`redis+cluster://`), with the task queues on 1 shard and on 3
 * (`?shards=`), measured in one run on the same cluster and the same two `weft worker` processes:
 * - Redis CPU time per task run: `used_cpu_user + used_cpu_sys` from `INFO cpu` on every master,
 *   before and after, less what the masters spend idle (measured for 3 s first, per ms, times the
 *   run's wall time), over the task runs (target ≤ 10 µs on large maps, 3 shards within 20% of 1);
 * - the spread of commands over the masters under many flow runs at once (`INFO commandstats`,
 *   after `CONFIG RESETSTAT`): the busiest master's share against an even share (target within 20%);
 * - no-op throughput on 1 and 3 shards (this machine has 2 cores: 3 shards cannot beat 1 here);
 * - each workload run 3 times per configuration (workers warm), each figure the median of the rounds;
 * - the scaling statement: tasks/s one shard's Redis CPU can carry (1 s / the CPU per task on that
 *   shard), × S for S shards on S machines;
 * - a single-server column: the same workloads against one plain `redis-server` (`redis://`), the
 *   deployment the target speaks of, with 3 shards' figures as ratios to it.
 *
 * The workers import this module to find its task; the benchmark itself runs only as main.
 */
import { Redis } from 'ioredis';
import { DistributedTaskRunner, flow, isMain, task } from '../../src/index.ts';
import { clusterUnsupported, startRedisCluster, type TestRedisCluster } from '../../tests/helpers/redis-cluster.ts';
import { startRedis, startWorker, type CliProcess } from '../../tests/helpers/redis.ts';
import { figure, median, report, type Figure } from '../lib/harness.ts';

export const noop = task(function noop(i: number) {
  return i;
});

const BIG_MAP = 20_000;
const FLOWS = 20;
const PER_FLOW = 1_000;
const IDLE_MS = 3_000;
/** Rounds of the workloads per configuration, each figure their median. */
const ROUNDS = 3;

/** Redis CPU seconds, command calls and request reads (round trips) of one master. */
interface NodeStats {
  readonly cpuS: number;
  readonly calls: number;
  readonly reads: number;
}

async function stats(redis: Redis): Promise<NodeStats> {
  const cpu = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1] ?? 0);
  const commands = await redis.info('commandstats');
  let calls = 0;
  for (const m of commands.matchAll(/calls=(\d+)/g)) calls += Number(m[1]);
  const reads = Number(/total_reads_processed:(\d+)/.exec(await redis.info('stats'))?.[1] ?? 0);
  return { cpuS: field('used_cpu_user') + field('used_cpu_sys'), calls, reads };
}

/** What the masters did during `work`: CPU seconds and calls per master. */
async function measured(masters: Redis[], work: () => Promise<unknown>): Promise<{ ms: number; cpuS: number[]; calls: number[]; reads: number[] }> {
  await Promise.all(masters.map((m) => m.config('RESETSTAT')));
  const before = await Promise.all(masters.map(stats));
  const t0 = performance.now();
  await work();
  const ms = performance.now() - t0;
  const after = await Promise.all(masters.map(stats));
  return { ms, cpuS: after.map((a, i) => a.cpuS - (before[i] as NodeStats).cpuS), calls: after.map((a) => a.calls), reads: after.map((a) => a.reads) };
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

interface ShardFigures {
  readonly tasksPerSec: number;
  /** Redis CPU per task run over all masters, large map, µs. */
  readonly cpuUsPerTask: number;
  /** Redis CPU per task run, many flow runs at once, µs. */
  readonly cpuUsPerTaskFlows: number;
  /** Busiest master's calls / an even share, many flow runs. */
  readonly imbalance: number;
  /** Busiest master's CPU per task run (µs): what bounds one shard. */
  readonly busiestUsPerTask: number;
  /** The same on the large map: what bounds one shard on the workload the target names. */
  readonly busiestUsPerTaskMap: number;
  readonly callsPerTask: number;
  /** Commands and request reads (round trips) per task run on the large map, less the idle rate: load-independent. */
  readonly mapCallsPerTask: number;
  readonly mapReadsPerTask: number;
}

/** One round of the workloads with `map` (its workers warm): idle, a large map, many flow runs at once. */
async function measureRound(map: (n: number) => Promise<number>, masters: Redis[], label: string): Promise<ShardFigures> {
  // What the masters spend with nothing to do (workers' blocking pops, stall checks, heartbeats), per ms:
  // taken off the runs' CPU, so the figure is the task runs' own cost however long a loaded machine makes them.
  const idle = await measured(masters, () => new Promise((r) => setTimeout(r, IDLE_MS)));
  const idlePerMs = idle.cpuS.map((c) => c / idle.ms);
  const net = (m: { ms: number; cpuS: number[] }) => m.cpuS.map((c, i) => Math.max(0, c - (idlePerMs[i] as number) * m.ms));
  const big = await measured(masters, () => map(BIG_MAP));
  const many = await measured(masters, () => Promise.all(Array.from({ length: FLOWS }, () => map(PER_FLOW))));
  big.cpuS = net(big);
  many.cpuS = net(many);
  console.log(`(${label}: map ${big.ms.toFixed(0)} ms, CPU s by master ${big.cpuS.map((c) => c.toFixed(3)).join('/')}; ` +
    `${FLOWS} flows ${many.ms.toFixed(0)} ms, CPU s ${many.cpuS.map((c) => c.toFixed(3)).join('/')}, calls ${many.calls.join('/')})`);
  const flowsTasks = FLOWS * PER_FLOW;
  const even = sum(many.calls) / masters.length;
  return {
    tasksPerSec: (BIG_MAP / big.ms) * 1000,
    cpuUsPerTask: (sum(big.cpuS) / BIG_MAP) * 1e6,
    cpuUsPerTaskFlows: (sum(many.cpuS) / flowsTasks) * 1e6,
    imbalance: Math.max(...many.calls) / even,
    busiestUsPerTask: (Math.max(...many.cpuS) / flowsTasks) * 1e6,
    busiestUsPerTaskMap: (Math.max(...big.cpuS) / BIG_MAP) * 1e6,
    callsPerTask: sum(many.calls) / flowsTasks,
    mapCallsPerTask: (sum(big.calls) - (sum(idle.calls) / idle.ms) * big.ms) / BIG_MAP,
    mapReadsPerTask: (sum(big.reads) - (sum(idle.reads) / idle.ms) * big.ms) / BIG_MAP,
  };
}

/** The workloads on `address`, `ROUNDS` times, measured on `masters` (every master of a cluster, or the one server); `label` names them in the log. */
async function onRedis(address: string, masters: Redis[], label: string): Promise<ShardFigures> {
  const workers: CliProcess[] = [];
  try {
    // One after the other, each kept as soon as it joins: a failed start leaves nothing running.
    for (let i = 0; i < 2; i++) workers.push(await startWorker(address, ['--concurrency', '8']));
    const map = flow(async function bigMap(n: number) {
      return (await Promise.all(noop.map(Array.from({ length: n }, (_, i) => i)))).length;
    }, { taskRunner: new DistributedTaskRunner({ address, clientOptions: { connectTimeoutMs: 30_000 } }) });
    await map(2_000); // warm-up: workers import this module, queues and connections open
    const rounds: ShardFigures[] = [];
    for (let r = 0; r < ROUNDS; r++) rounds.push(await measureRound(map, masters, `${label}, round ${r + 1}`));
    // Each figure the median of its rounds: one round on a shared 2-core machine swings by 1.5x.
    const fields = Object.keys(rounds[0] as ShardFigures) as (keyof ShardFigures)[];
    return Object.fromEntries(fields.map((field) => [field, median(rounds.map((f) => f[field]))])) as unknown as ShardFigures;
  } finally {
    for (const w of workers) await w.stop();
  }
}

function onShards(cluster: TestRedisCluster, masters: Redis[], shards: number): Promise<ShardFigures> {
  return onRedis(`${cluster.address}?prefix=bench-s${shards}&shards=${shards}`, masters, `${shards} shard(s)`);
}

async function main(): Promise<void> {
  const unsupported = clusterUnsupported();
  if (unsupported) {
    console.log(`(rcluster skipped: ${unsupported})`);
    return;
  }
  // One plain redis-server first, stopped before the cluster starts (fewer processes on 2 cores).
  const server = await startRedis();
  const serverRedis = new Redis({ port: server.port, host: '127.0.0.1' });
  let single: ShardFigures;
  try {
    single = await onRedis(`${server.localAddress}?prefix=bench-single`, [serverRedis], 'one redis-server');
  } finally {
    serverRedis.disconnect();
    await server.stop();
  }
  const cluster = await startRedisCluster();
  const masters = (await cluster.masters()).map((port) => new Redis({ port, host: '127.0.0.1' }));
  let one: ShardFigures;
  let three: ShardFigures;
  try {
    one = await onShards(cluster, masters, 1);
    three = await onShards(cluster, masters, 3);
  } finally {
    for (const m of masters) m.disconnect();
    await cluster.stop();
  }
  // One shard's Redis carries 1 s of CPU a second; its busiest master's CPU per task (over every
  // task of the run) is what it spends on its share: with S shards on S machines, S times that.
  // The target names large maps; many flow runs at once (more, smaller batches) are given beside them.
  const perShard1 = 1e6 / one.busiestUsPerTaskMap;
  const perShard3 = 1e6 / (three.busiestUsPerTaskMap * 3);
  const perShard3Flows = 1e6 / (three.busiestUsPerTask * 3);
  // One server carries every key: its CPU per task is the whole cost. The target speaks of large maps;
  // many flow runs at once cost more per task (more, smaller batches), so both are given.
  const perServer = 1e6 / single.cpuUsPerTask;
  const perServerFlows = 1e6 / single.cpuUsPerTaskFlows;
  const vs = (a: number, b: number) => `${(a / b).toFixed(2)}x`;
  const lines = [
    `one redis-server: ${single.tasksPerSec.toFixed(0)} tasks/s, ${single.cpuUsPerTask.toFixed(1)} µs Redis CPU/task (map), ${single.cpuUsPerTaskFlows.toFixed(1)} µs (${FLOWS} flows), ${single.callsPerTask.toFixed(2)} commands/task; its CPU carries ≈ ${perServer.toFixed(0)} tasks/s (map), ${perServerFlows.toFixed(0)} (${FLOWS} flows)`,
    `1 shard: ${one.tasksPerSec.toFixed(0)} tasks/s, ${one.cpuUsPerTask.toFixed(1)} µs Redis CPU/task (map), ${one.cpuUsPerTaskFlows.toFixed(1)} µs (${FLOWS} flows), ${one.callsPerTask.toFixed(2)} commands/task, busiest master ×${one.imbalance.toFixed(2)} of an even share`,
    `3 shards: ${three.tasksPerSec.toFixed(0)} tasks/s, ${three.cpuUsPerTask.toFixed(1)} µs Redis CPU/task (map), ${three.cpuUsPerTaskFlows.toFixed(1)} µs (${FLOWS} flows), ${three.callsPerTask.toFixed(2)} commands/task, busiest master ×${three.imbalance.toFixed(2)} of an even share`,
    `1 shard: its queue master carries ≈ ${perShard1.toFixed(0)} tasks/s (result lists and shared keys on the others); ` +
      `3 shards: the busiest master ≈ ${perShard3.toFixed(0)} tasks/s of its third (map; ${perShard3Flows.toFixed(0)} under ${FLOWS} flows), so S shards on S machines ≈ ${perShard3.toFixed(0)} × S tasks/s of Redis work`,
  ];
  lines.push(`large map, per task run: 1 shard ${one.mapCallsPerTask.toFixed(3)} commands, ${one.mapReadsPerTask.toFixed(3)} round trips; ` +
    `3 shards ${three.mapCallsPerTask.toFixed(3)} commands, ${three.mapReadsPerTask.toFixed(3)} round trips`);
  lines.push(`large map, per task run: one redis-server ${single.mapCallsPerTask.toFixed(3)} commands, ${single.mapReadsPerTask.toFixed(3)} round trips`);
  lines.push(`3 shards vs one redis-server: CPU/task ${vs(three.cpuUsPerTask, single.cpuUsPerTask)} (map), ${vs(three.cpuUsPerTaskFlows, single.cpuUsPerTaskFlows)} (${FLOWS} flows), ` +
    `commands/task ${vs(three.mapCallsPerTask, single.mapCallsPerTask)}, round trips/task ${vs(three.mapReadsPerTask, single.mapReadsPerTask)}, no-op tasks/s ${vs(three.tasksPerSec, single.tasksPerSec)}`);
  for (const line of lines) console.log(line);
  const figures: Figure[] = [
    figure('Redis Cluster, Redis CPU per task, 20,000-task map, 3 shards', three.cpuUsPerTask, 'µs/task', 'the same on 1 shard', one.cpuUsPerTask,
      { text: '≤ 10 µs, within 20% of 1 shard', met: three.cpuUsPerTask <= 10 && three.cpuUsPerTask <= one.cpuUsPerTask * 1.2 }),
    figure('Redis Cluster, Redis CPU per task, 20 flow runs × 1,000, 3 shards', three.cpuUsPerTaskFlows, 'µs/task', 'the same on 1 shard', one.cpuUsPerTaskFlows,
      { text: 'within 20% of 1 shard', met: three.cpuUsPerTaskFlows <= one.cpuUsPerTaskFlows * 1.2 }),
    figure('Redis Cluster, commands per task run, 20,000-task map, 3 shards', three.mapCallsPerTask, 'commands/task', 'the same on 1 shard', one.mapCallsPerTask,
      { text: 'within 20% of 1 shard', met: three.mapCallsPerTask <= one.mapCallsPerTask * 1.2 }),
    figure('Redis Cluster, busiest master / even share, 20 flow runs, 3 shards', three.imbalance, 'x', 'the same on 1 shard', one.imbalance,
      { text: '≤ 1.2', met: three.imbalance <= 1.2 }),
    figure('Redis Cluster, 20,000 no-op tasks, 3 shards (2 cores)', three.tasksPerSec, 'tasks/s', 'the same on 1 shard', one.tasksPerSec),
    figure('Redis Cluster, tasks/s one shard carries (Redis CPU), 20,000-task map, 3 shards', perShard3, 'tasks/s', 'one shard alone', perShard1,
      { text: '≥ 100,000 tasks/s', met: perShard3 >= 100_000 }),
    figure('Redis Cluster, tasks/s one shard carries (Redis CPU), 20 flow runs × 1,000, 3 shards', perShard3Flows, 'tasks/s', 'the same on the 20,000-task map', perShard3),
  ];
  figures.push(
    figure('One redis-server, Redis CPU per task, 20,000-task map', single.cpuUsPerTask, 'µs/task', 'a 1-shard Redis Cluster', one.cpuUsPerTask,
      { text: '≤ 10 µs', met: single.cpuUsPerTask <= 10 }),
    figure('Redis Cluster, Redis CPU per task, 20,000-task map, 3 shards vs one redis-server', three.cpuUsPerTask, 'µs/task', 'one redis-server', single.cpuUsPerTask,
      { text: 'within 20% of one server', met: three.cpuUsPerTask <= single.cpuUsPerTask * 1.2 }),
    figure('Redis Cluster, Redis CPU per task, 20 flow runs × 1,000, 3 shards vs one redis-server', three.cpuUsPerTaskFlows, 'µs/task', 'one redis-server', single.cpuUsPerTaskFlows,
      { text: 'within 20% of one server', met: three.cpuUsPerTaskFlows <= single.cpuUsPerTaskFlows * 1.2 }),
    figure('Redis Cluster, commands per task run, 20,000-task map, 3 shards vs one redis-server', three.mapCallsPerTask, 'commands/task', 'one redis-server', single.mapCallsPerTask,
      { text: 'within 20% of one server', met: three.mapCallsPerTask <= single.mapCallsPerTask * 1.2 }),
    figure('One redis-server, tasks/s its Redis CPU carries, 20,000-task map', perServer, 'tasks/s', 'the same, 20 flow runs × 1,000', perServerFlows,
      { text: '≥ 100,000 tasks/s', met: perServer >= 100_000 }),
    figure('One redis-server, 20,000 no-op tasks (2 cores)', single.tasksPerSec, 'tasks/s', 'a 3-shard Redis Cluster', three.tasksPerSec),
  );
  report('rcluster', figures);
}

if (isMain(import.meta)) await main();
