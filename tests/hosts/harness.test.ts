// @needs netns redis-server
/** The multi-host harness itself: hosts that reach each other, a flow across them, a cut, and nothing left after. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Network, hostsUnavailable } from '../helpers/hosts.ts';
import { lines, joinWorker, FLOW } from '../helpers/host-flows.ts';

const skip = hostsUnavailable();

test('a flow on one host runs its tasks on a worker on another, through Redis on a third; close leaves nothing', { skip }, async () => {
  const net = Network.create('harness');
  const dir = mkdtempSync(join(tmpdir(), 'weft-hosts-'));
  try {
    const [redisHost, workerHost, flowHost] = [net.host('redis'), net.host('w1'), net.host('flow')];
    const { address } = await redisHost.redis();
    const worker = await joinWorker(workerHost, address, 'w1');
    const run = flowHost.node(FLOW, ['spread', address, JSON.stringify({ dir, n: 6, ms: 10 })]);
    assert.equal(await run.exited, 0, run.output());
    const delivered = lines(run.output()).filter((l) => 'delivered' in l);
    assert.equal(delivered.length, 6);
    assert.ok(delivered.every((l) => l.workerId === 'w1'), run.output());
    // A cut host hears nothing and answers nothing, silently: a connection attempt times out (no refusal).
    workerHost.cut();
    assert.equal(await workerHost.reach(redisHost.ip, 6379), 'timeout');
    assert.equal(await flowHost.reach(workerHost.ip, 9, 1000), 'timeout', 'nor is it reached from another host');
    workerHost.heal();
    assert.equal(await flowHost.reach(workerHost.ip, 9, 1000), 'refused', 'healed: a closed port refuses again');
    assert.match(await workerHost.redisCli(address, ['PING']), /PONG/);
    assert.ok(worker.child.pid);
  } finally {
    await net.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(net.namespaces(), [], 'every namespace (and with them the veths, bridge and rules) is gone');
});
