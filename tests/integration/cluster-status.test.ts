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
      return Promise.all(sleepy.map([4000, 4000, 4000, 4000, 4000]));
    }, { taskRunner: new DistributedTaskRunner({ address }) });
    const running = main();
    // Two run on the worker's two slots, three wait in the queue.
    let data: { workers: { id: string; running: number; resources: object }[]; queues: { queue: string; waiting: number; running: number }[]; sessions: { flowName: string }[] } | undefined;
    await until(async () => {
      data = JSON.parse(await status('--json')) as typeof data;
      return data?.workers[0]?.running === 2 && data.queues[0]?.running === 2;
    }, 60_000, 'two tasks running in the status');
    assert.deepEqual(data?.workers.map((w) => [w.id, w.resources]), [['st-1', { GPU: 1 }]]);
    assert.ok((data?.queues[0]?.waiting ?? 0) >= 1, JSON.stringify(data?.queues));
    assert.deepEqual(data?.sessions.map((s) => s.flowName), ['statusFlow']);
    const text = await status();
    assert.match(text, /^cluster redis:\/\/127\.0\.0\.1:\d+\/?\?prefix=status/m);
    assert.match(text, /workers \(1 live\):\n\s+ID\s+HOST\s+RESOURCES\s+RUNNING\s+LAST HEARTBEAT\n\s+st-1\s+\S+ \(pid \d+\)\s+GPU=1\s+2\/2\s+\d+\.\d s ago/);
    assert.match(text, /QUEUE\s+WAITING\s+RUNNING\n\s+tasks\s+\d+\s+2/);
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
