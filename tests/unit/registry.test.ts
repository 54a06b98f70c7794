/** Worker liveness is judged on the cluster's clock (Redis TIME), on which heartbeats are stamped: never on this host's. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { freshWorkers, liveWorkers } from '../../src/cluster/registry.ts';
import type { WorkerInfo } from '../../src/cluster/protocol.ts';
import { keys } from '../../src/cluster/queues.ts';

const HOUR = 3600_000;

function entry(id: string, beat: number): [string, string] {
  const info: WorkerInfo = { id, host: 'h', pid: 1, concurrency: 1, resources: {}, root: '/', startedAt: beat, beat };
  return [id, JSON.stringify(info)];
}

test('freshWorkers: a beat within the stale bound of the cluster clock is live, an older one is not, a corrupt entry is skipped', () => {
  const clusterNow = 1_000_000_000_000;
  const entries = Object.fromEntries([entry('fresh', clusterNow - 4_000), entry('stale', clusterNow - 6_000), ['junk', '{not json']]);
  assert.deepEqual(freshWorkers(entries, clusterNow).map((w) => w.id), ['fresh']);
  assert.deepEqual(freshWorkers(entries, clusterNow, 10_000).map((w) => w.id).sort(), ['fresh', 'stale']);
});

test('liveWorkers reads the cluster clock beside the registry (this host\'s clock an hour off either way changes nothing), and a stale heartbeat beside a live pulse is a live worker', async (t) => {
  const clusterNow = Date.now();
  // 'busy': its heartbeat stale, its pulse alive (a task holds its event loop); 'gone': both stopped.
  const entries = Object.fromEntries([entry('w1', clusterNow - 1_000), entry('gone', clusterNow - 60_000), entry('busy', clusterNow - 60_000)]);
  const redis = {
    hgetall: async () => entries,
    time: async () => [String(Math.floor(clusterNow / 1000)), String((clusterNow % 1000) * 1000)],
    mget: async (ids: string[]) => ids.map((key) => (key === keys.pulse('weft', 'busy') ? '1' : null)),
  } as unknown as Redis;
  const real = Date.now;
  t.after(() => (Date.now = real));
  for (const skew of [-HOUR, HOUR]) {
    Date.now = () => real() + skew;
    assert.deepEqual((await liveWorkers(redis, 'weft')).map((w) => w.id), ['w1', 'busy'], `host clock ${skew > 0 ? 'ahead' : 'behind'} by an hour`);
  }
});
