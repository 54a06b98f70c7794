// @needs redis-server
/** Every examples/cluster-* scenario, run as its main() does (one runs as a script too). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { main as images } from '../../examples/cluster-images/main.ts';
import { main as timeseriesMain } from '../../examples/cluster-timeseries/main.ts';
import { partitions, valueOn } from '../../examples/cluster-timeseries/flow.ts';
import { main as priority } from '../../examples/cluster-priority/main.ts';
import { main as resourcesMain, maxOverlap } from '../../examples/cluster-resources/main.ts';
import { main as shared } from '../../examples/cluster-shared/main.ts';
import { main as killed } from '../../examples/cluster-killed-worker/main.ts';
import { ROOT } from '../helpers/redis.ts';

describe('examples/cluster-*', () => {
  it('cluster-images: twelve images downloaded by worker processes of a temporary cluster', async () => {
    const r = await images(20);
    assert.equal(r.files.length, 12);
    assert.ok(r.workers.length >= 1 && r.workers.every((w) => w.startsWith('local-')));
  });

  it('cluster-timeseries: 1988-2022 yearly means by map and reduce match a direct computation', async () => {
    const r = await timeseriesMain();
    assert.equal(r.partitions, partitions(1988, 2022).starts.length);
    assert.deepEqual([...r.means.keys()], Array.from({ length: 35 }, (_, i) => 1988 + i));
    for (const year of [1988, 2004, 2022]) {
      let sum = 0;
      let n = 0;
      for (let t = Date.UTC(year, 0, 1); t < Date.UTC(year + 1, 0, 1); t += 86_400_000) {
        sum += valueOn(t);
        n++;
      }
      assert.ok(Math.abs((r.means.get(year) ?? NaN) - sum / n) < 1e-9, `mean of ${year}`);
    }
  });

  it('cluster-priority: queued tasks start highest priority first on a one-thread worker', async () => {
    const order = await priority();
    assert.deepEqual(order, ['priority 100', 'priority 10', 'priority 5', 'priority 1', 'priority 0 (default)']);
  });

  it('cluster-resources: { GPU: 1 } and { process: 1 } tasks run one at a time, plain ones beside them', async () => {
    const spans = await resourcesMain();
    assert.equal(spans.length, 7);
    assert.equal(maxOverlap(spans, 'gpu'), 1);
    assert.equal(maxOverlap(spans, 'process'), 1);
  });

  it('cluster-shared: two flow runs on one `weft cluster up`', async () => {
    const results = await shared();
    assert.deepEqual(results, [338_350, 2_348_350]);
  });

  it('cluster-killed-worker: the task runs again elsewhere and the flow goes on', async () => {
    const r = await killed();
    assert.notEqual(r.killed, r.ranOn);
    assert.deepEqual(r.others, [10, 20, 30]);
  });

  it('runs as a script', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/cluster-timeseries/main.ts'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /yearly means/);
  });
});
