// @needs redis-server
/** `weft cluster status`: a cluster's workers (host, resources, running, heartbeat), queue depths, and flow runs in progress. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DistributedTaskRunner, flow } from '../../src/index.ts';
import { sleepy } from '../fixtures/cluster/tasks.ts';
import { startCli, startRedis, startWorker, type CliProcess } from '../helpers/redis.ts';
import { until } from '../helpers/eventually.ts';

/** The exit code of a CLI process that ends by itself. */
function exitOf(cli: CliProcess): Promise<number | null> {
  const { child } = cli;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

test('weft cluster status prints workers, queue depths and the flow runs in progress; --json the same as data', async () => {
  const redis = await startRedis();
  const address = `${redis.address}?prefix=status`;
  const worker = await startWorker(address, ['--name', 'st-1', '--concurrency', '2', '--resources', 'GPU=1']);
  const status = async (...flags: string[]) => {
    const cli = startCli(['cluster', 'status', '--address', address, ...flags]);
    assert.equal(await exitOf(cli), 0, cli.output());
    return cli.output();
  };
  try {
    const main = flow(async function statusFlow() {
      return Promise.all(sleepy.map(Array.from({ length: 32 }, () => 700)));
    }, { taskRunner: new DistributedTaskRunner({ address }) });
    const running = main();
    // 32 runs go out in 16 jobs of two (batch.ts); the worker holds one job per slot, two at once.
    type Depth = { queue: string; waiting: number; running: number; waitingJobs: number; runningJobs: number };
    let data: { workers: { id: string; running: number; held: number; resources: object }[]; queues: Depth[]; sessions: { flowName: string }[] } | undefined;
    await until(async () => {
      data = JSON.parse(await status('--json')) as typeof data;
      return data?.workers[0]?.running === 2 && data.queues[0]?.runningJobs === 2;
    }, 60_000, 'two jobs running in the status');
    // Two executing in its two slots; the runs of the jobs it holds are more (at the last heartbeat: a job may have just ended).
    assert.ok((data?.workers[0]?.held ?? 0) >= 2, JSON.stringify(data?.workers));
    assert.deepEqual(data?.workers.map((w) => [w.id, w.resources]), [['st-1', { GPU: 1 }]]);
    const depth = data?.queues[0] as Depth;
    // Counted in task runs, not jobs: each job holds two.
    assert.equal(depth.running, 2 * depth.runningJobs, JSON.stringify(depth));
    assert.equal(depth.waiting, 2 * depth.waitingJobs, JSON.stringify(depth));
    assert.ok(depth.waitingJobs >= 1, JSON.stringify(depth));
    assert.deepEqual(data?.sessions.map((s) => s.flowName), ['statusFlow']);
    const text = await status();
    assert.match(text, /^cluster redis:\/\/127\.0\.0\.1:\d+\/?\?prefix=status/m);
    assert.match(text, /workers \(1 live\):\n\s+ID\s+HOST\s+RESOURCES\s+RUNNING\s+HELD\s+LAST HEARTBEAT\n\s+st-1\s+\S+ \(pid \d+\)\s+GPU=1\s+\d\/2\s+\d+\s+\d+\.\d s ago/);
    assert.match(text, /QUEUE\s+WAITING\s+RUNNING\s+JOBS WAITING\s+JOBS RUNNING\n\s+tasks\s+\d+\s+\d+\s+\d+\s+\d+/);
    assert.match(text, /flow runs in progress \(1\):\n.*\n\s+statusFlow\s+\S+\s+\S+ \(pid \d+\)/);
    await running;
    assert.match(await status(), /flow runs in progress \(0\):\n\s+none/);
  } finally {
    await worker.stop();
    await redis.stop();
  }
});

test('weft cluster status on an address where nothing listens says so and exits 1', async () => {
  const cli = startCli(['cluster', 'status', '--address', 'redis://127.0.0.1:1']);
  assert.equal(await exitOf(cli), 1);
  assert.match(cli.output(), /weft cluster status: .*connection refused/);
});
