// @needs redis-server
/**
 * Adaptive scaling: a cluster that grows and shrinks under a burst retires workers gracefully
 * (every task runs exactly once), says why it scales, and `weft cluster up --adapt-min/--adapt-max`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { flow, unmapped, DistributedTaskRunner, LocalCluster } from '../../src/index.ts';
import { marked, whereAmI } from '../fixtures/cluster/tasks.ts';
import { recordedLocalCluster } from '../helpers/clusters.ts';
import { alive, startCli } from '../helpers/redis.ts';
import { until } from '../helpers/eventually.ts';

test('a burst while the cluster grows and shrinks: every task runs exactly once, and each scale event says why', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'weft-adapt-'));
  const file = join(dir, 'runs.txt');
  const clusters: LocalCluster[] = [];
  const events: { kind: string; from: number; to: number; reason: string }[] = [];
  let shrunk: () => void = () => undefined;
  const firstShrink = new Promise<void>((resolve) => (shrunk = resolve));
  const burst = (from: number, n: number, ms: number) => marked.map(unmapped(file), Array.from({ length: n }, (_, i) => from + i), unmapped(ms));
  const main = flow(async function growAndShrink() {
    // 16 quick tasks, then 2 long ones: once the quick ones are done, one worker would do for the
    // two long runs, so the cluster shrinks while both workers still run one each.
    const first = [...burst(0, 16, 150), ...burst(16, 2, 2500)];
    // The second burst goes out once a worker is retiring: it must not take any of it.
    await firstShrink;
    const second = burst(18, 20, 150);
    return Promise.all([...first, ...second]);
  }, {
    taskRunner: new DistributedTaskRunner({
      clusterClass: recordedLocalCluster(clusters),
      clusterOptions: { workers: 1, threadsPerWorker: 1 },
      // With a 0.5 s target the cluster grows to the maximum at once, and shrinks 0.3 s after fewer
      // workers would do.
      adapt: { minimum: 1, maximum: 2, targetMs: 500, scaleDownMs: 300 },
    }),
  });
  const run = main.run();
  let running = 0;
  let runningAtShrink = -1;
  run.on('task-run:started', () => void running++);
  run.on('task-run:finished', () => void running--);
  run.on('scale:up', (e) => events.push({ kind: 'up', ...e }));
  run.on('scale:down', (e) => {
    events.push({ kind: 'down', ...e });
    if (runningAtShrink < 0) runningAtShrink = running;
    shrunk();
  });
  try {
    const results = await run.result();
    assert.deepEqual(results, Array.from({ length: 38 }, (_, i) => i));
    const runs = readFileSync(file, 'utf8').trim().split('\n').map(Number).sort((a, b) => a - b);
    assert.deepEqual(runs, Array.from({ length: 38 }, (_, i) => i), 'each of the 38 tasks ran exactly once');
    assert.ok(runningAtShrink > 0, `the cluster shrank while tasks ran (${runningAtShrink} running)`);
    const kinds = events.map((e) => e.kind).join(' ');
    assert.match(kinds, /up.*down.*up/, `grew, shrank, grew again: ${JSON.stringify(events)}`);
    for (const e of events) {
      assert.ok(e.to <= 2 && e.to >= 1, `within the bounds: ${JSON.stringify(e)}`);
      assert.match(e.reason, /backlog|no backlog/, 'the reason names the backlog');
    }
    assert.match(events.find((e) => e.kind === 'down')?.reason ?? '', /, for \d+\.\d s$/, 'a scale-down says how long fewer workers sufficed');
    assert.equal(clusters[0]?.state, 'closed');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('weft cluster up --adapt-min 0 --adapt-max 2: no worker until tasks wait, one for them, none again after', async () => {
  const cluster = startCli(['cluster', 'up', '--adapt-min', '0', '--adapt-max', '2', '--threads-per-worker', '1']);
  try {
    const [, address] = await cluster.waitFor(/address: (redis:\/\/\S+)/);
    assert.match(cluster.output(), /0 workers × 1 thread/);
    assert.match(cluster.output(), /adaptive: 0 to 2 workers/);
    const main = flow(async function onAdaptiveCluster() {
      return Promise.all(whereAmI.map([100, 100]));
    }, { taskRunner: new DistributedTaskRunner({ address: address as string }) });
    const where = await main();
    assert.equal(where.length, 2);
    await cluster.waitFor(/scale 0 → [12] workers \(backlog 2 task runs/, 30_000);
    await cluster.waitFor(/scale [12] → 0 workers \(no backlog.*for \d/, 30_000);
    assert.equal(await cluster.stop('SIGINT'), 0);
    for (const w of where) assert.equal(alive(w.pid), false, `worker ${w.pid} is gone`);
  } finally {
    await cluster.stop('SIGKILL');
  }
});

test('weft cluster up refuses --adapt-max below --adapt-min, naming both', async () => {
  const cluster = startCli(['cluster', 'up', '--adapt-min', '3', '--adapt-max', '2']);
  await until(() => cluster.child.exitCode !== null, 20_000, 'weft cluster up to exit');
  assert.equal(cluster.child.exitCode, 2);
  assert.match(cluster.output(), /--adapt-max to be an integer ≥ 3, got '2'/);
});
