// @needs netns redis-server
/**
 * A CommandCluster as a flow's clusterClass: its workers are started by a command of the user's
 * (here `ip netns exec HOST ...`, as `ssh HOST ...` would), one per host, join the cluster's Redis
 * on the flow's host with its password, run the flow's tasks, and are gone when the run ends.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Network, hostsUnavailable } from '../helpers/hosts.ts';
import { FLOW, lines } from '../helpers/host-flows.ts';
import { until } from '../helpers/eventually.ts';

const BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));

test('a CommandCluster starts its workers with the user\'s command on other hosts, runs the flow there, and stops them', { skip: hostsUnavailable() }, async () => {
  const net = Network.create('cmd');
  const dir = mkdtempSync(join(tmpdir(), 'weft-cmd-'));
  try {
    const [flowHost, w1, w2] = [net.host('flow'), net.host('w1'), net.host('w2')];
    const cluster = { command: `ip netns exec {host} ${process.execPath} ${BIN} {worker}`, hosts: [w1.ns, w2.ns], host: flowHost.ip, threadsPerWorker: 2 };
    const run = flowHost.node(FLOW, ['spread', 'command', JSON.stringify({ dir, n: 8, ms: 300, cluster })]);
    assert.equal(await run.exited, 0, run.output());
    const delivered = lines(run.output()).filter((l) => 'delivered' in l);
    assert.equal(delivered.length, 8);
    assert.deepEqual(new Set(delivered.map((l) => l.workerId)), new Set(['cmd-1', 'cmd-2']), 'both hosts ran tasks');
    // Every worker the command started has gone with the run (nothing runs in the worker hosts).
    await until(() => w1.pids().length === 0 && w2.pids().length === 0, 15_000, 'the workers to leave their hosts');
  } finally {
    await net.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(net.namespaces(), []);
});
