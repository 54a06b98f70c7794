/**
 * Across hosts (network namespaces on one machine: tests/helpers/hosts.ts), in one run: a Redis
 * host, two worker hosts (`weft worker --concurrency 1` each) and a flow host.
 * - 10,000 no-op tasks and a 1,000-hop chain, without latency and with 5 ms each way between each
 *   worker host and Redis (a delaying proxy in the worker host: this kernel has no netem);
 * - the time from a worker host's cut (all its packets dropped) to its running tasks starting on
 *   the other host, against the 30 s job lock it no longer waits for.
 * Needs root (skips, saying why, without it).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { figure, report, type Figure } from '../lib/harness.ts';
import { Network, hostsUnavailable, type Host, type HostProcess } from '../../tests/helpers/hosts.ts';
import { FLOW, joinWorker, lines, runsOf } from '../../tests/helpers/host-flows.ts';
import { until } from '../../tests/helpers/eventually.ts';

const N = 10_000;
const HOPS = 1_000;
const DELAY_MS = 5;
const LOCK_MS = 30_000;

async function flowFigure(flowHost: Host, mode: string, address: string, params: object, key: string): Promise<number> {
  const run = flowHost.node(FLOW, [mode, address, JSON.stringify(params)]);
  if ((await run.exited) !== 0) throw new Error(`the ${mode} flow failed:\n${run.output()}`);
  return lines(run.output()).find((l) => key in l)?.[key] as number;
}

async function workers(hosts: Host[], addressOf: (h: Host) => string, tag: string): Promise<HostProcess[]> {
  return Promise.all(hosts.map((h) => joinWorker(h, addressOf(h), `${h.name}-${tag}`, ['--concurrency', '1', '--lock-ms', String(LOCK_MS)])));
}

/** Cuts the first worker host while it runs a task; resolves ms from the cut until that task started on the other. */
async function cutToMove(flowHost: Host, cut: Host, address: string, cutName: string, otherName: string): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'weft-bench-cut-'));
  try {
    const run = flowHost.node(FLOW, ['spread', address, JSON.stringify({ dir, n: 6, ms: 4000 })]);
    const running = () => readdirSync(dir).map(Number).filter((i) => runsOf(dir, i).length === 1 && runsOf(dir, i)[0]?.[1] === cutName);
    await until(() => running().length > 0, 60_000, `${cutName} to run a task`);
    const held = running();
    cut.cut();
    const cutAt = Date.now();
    if ((await run.exited) !== 0) throw new Error(`the spread flow failed:\n${run.output()}`);
    const moved = held.map((i) => runsOf(dir, i).find(([k, w]) => k === 'start' && w === otherName)?.[2] ?? NaN);
    cut.heal();
    return Math.max(...moved) - cutAt;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const reason = hostsUnavailable();
  if (reason) {
    console.log(`(hosts suite skipped: ${reason})`);
    return;
  }
  const net = Network.create('bench');
  try {
    const [redisHost, w1, w2, flowHost] = [net.host('redis'), net.host('w1'), net.host('w2'), net.host('flow')];
    const { address } = await redisHost.redis();
    const workerHosts = [w1, w2];

    let running = await workers(workerHosts, () => address, 'direct');
    const plainNoop = await flowFigure(flowHost, 'noop', address, { n: N }, 'tasksPerSec');
    const plainChain = await flowFigure(flowHost, 'chain', address, { hops: HOPS }, 'msPerHop');
    await Promise.all(running.map((w) => w.stop()));

    await Promise.all(workerHosts.map((h) => h.delayProxy(7000, redisHost.ip, 6379, DELAY_MS)));
    running = await workers(workerHosts, () => 'redis://127.0.0.1:7000', 'delayed');
    const slowNoop = await flowFigure(flowHost, 'noop', address, { n: N }, 'tasksPerSec');
    const slowChain = await flowFigure(flowHost, 'chain', address, { hops: HOPS }, 'msPerHop');
    await Promise.all(running.map((w) => w.stop()));

    running = await workers(workerHosts, () => address, 'cut');
    const moveMs = await cutToMove(flowHost, w1, address, 'w1-cut', 'w2-cut');

    const rtt = 2 * DELAY_MS;
    const figures: Figure[] = [
      figure('hosts, 10,000 no-op tasks, 2 worker hosts', plainNoop, 'tasks/s', 'the same with 5 ms each way on both worker hosts', slowNoop),
      figure('hosts, 1,000-task chain, 2 worker hosts', plainChain, 'ms/hop', 'the same with 5 ms each way on both worker hosts', slowChain),
      figure('hosts, chain hop cost added by 5 ms each way', (slowChain - plainChain) / rtt, 'round trips', 'the ~2 round trips a hop needs', 2,
        { text: '≤ about 2 round trips', met: slowChain - plainChain <= 2.5 * rtt }),
      figure('hosts, worker host cut → its tasks start elsewhere', moveMs, 'ms', 'the 30 s job lock it no longer waits for', LOCK_MS, { text: '≤ 15,000 ms', met: moveMs <= 15_000 }),
    ];
    report('hosts', figures);
  } finally {
    await net.close();
  }
}

await main();
