// @needs netns redis-server
/**
 * The Redis host cut off silently (every packet dropped, no FIN, no RST): the flow's pending
 * futures reject with ClusterConnectionError within the stated bound, the flow ends, and the
 * workers notice and stop or wait as their --death-timeout says.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Network, hostsUnavailable } from '../helpers/hosts.ts';
import { FLOW, joinWorker, lines } from '../helpers/host-flows.ts';
import { until, within } from '../helpers/eventually.ts';

/** The README's bound: liveness PINGs (1 s apart, 3 s deadline) notice in ≤ 4 s, then reconnectTimeoutMs (5 s). */
const BOUND_MS = 10_000;
/** Slack for a loaded 2-core machine, under the 15 s. */
const SLACK_MS = 5000;

test('Redis cut off silently: every pending future rejects with ClusterConnectionError in the bound; workers stop or wait as --death-timeout says', { skip: hostsUnavailable() }, async (t) => {
  const net = Network.create('rcut');
  const dir = mkdtempSync(join(tmpdir(), 'weft-rcut-'));
  try {
    const [redisHost, w1, w2, flowHost] = [net.host('redis'), net.host('w1'), net.host('w2'), net.host('flow')];
    const { address } = await redisHost.redis();
    const quitter = await joinWorker(w1, address, 'w1', ['--death-timeout', '3']);
    const waiter = await joinWorker(w2, address, 'w2', ['--death-timeout', '120']);
    const run = flowHost.node(FLOW, ['hang', address, JSON.stringify({ dir, n: 6, ms: 120_000 })]);
    // Four run (two per worker), two wait in the queue: both kinds must settle.
    await until(() => readdirSync(dir).length >= 4, 30_000, 'four tasks started');
    assert.deepEqual(new Set(readdirSync(dir).map((f) => readFileSync(join(dir, f), 'utf8').split(' ')[1])), new Set(['w1', 'w2']));
    redisHost.cut();
    const cutAt = Date.now();
    const code = await within(run.exited, BOUND_MS + SLACK_MS + 10_000, 'the flow process');
    const out = lines(run.output());
    const rejected = out.filter((l) => 'rejected' in l);
    assert.equal(rejected.length, 6, run.output());
    for (const r of rejected) {
      assert.ok(r.error === 'ClusterConnectionError' || r.cause === 'ClusterConnectionError', JSON.stringify(r));
      assert.ok((r.at as number) - cutAt <= BOUND_MS + SLACK_MS, `rejected ${(r.at as number) - cutAt} ms after the cut`);
    }
    t.diagnostic(`futures rejected ${Math.min(...rejected.map((r) => (r.at as number) - cutAt))}-${Math.max(...rejected.map((r) => (r.at as number) - cutAt))} ms after the cut`);
    assert.ok(out.some((l) => l.end === true), run.output());
    assert.equal(code, 0, 'the flow ended by itself');
    // --death-timeout 3: the worker says it lost the cluster, then stops (exit 1) after about 3 s more.
    assert.equal(await within(quitter.exited, BOUND_MS + SLACK_MS + 10_000, 'w1 (--death-timeout 3)'), 1, quitter.output());
    assert.match(quitter.output(), /lost the cluster/);
    assert.match(quitter.output(), /unreachable for 3 s \(--death-timeout\); stopping/);
    // --death-timeout 120: it noticed, and waits.
    await waiter.waitFor(/lost the cluster at .*trying again for up to 120 s/, 10_000);
    assert.equal(waiter.child.exitCode, null, 'w2 still waits for the cluster');
  } finally {
    await net.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(net.namespaces(), []);
});
