// @needs netns redis-server
/**
 * 5 ms of latency each way between a worker host and Redis (a delaying proxy in the worker's
 * host: this kernel has no netem): a chain's per-hop cost grows by about two round trips, not
 * by a multiple of them. Bounded generously (timings are the benchmark's; this catches a hop
 * that grew a serial round trip or several).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Network, hostsUnavailable } from '../helpers/hosts.ts';
import { FLOW, joinWorker, lines } from '../helpers/host-flows.ts';

const DELAY_MS = 5;
const RTT_MS = 2 * DELAY_MS;
const HOPS = 150;

test('5 ms latency on a worker host: a chain\'s per-hop cost stays within about two round trips of the no-latency figure', { skip: hostsUnavailable() }, async (t) => {
  const net = Network.create('lat');
  try {
    const [redisHost, workerHost, flowHost] = [net.host('redis'), net.host('w1'), net.host('flow')];
    const { address } = await redisHost.redis();
    const chain = async () => {
      const run = flowHost.node(FLOW, ['chain', address, JSON.stringify({ hops: HOPS })]);
      assert.equal(await run.exited, 0, run.output());
      return lines(run.output()).find((l) => 'msPerHop' in l)?.msPerHop as number;
    };
    const direct = await joinWorker(workerHost, address, 'direct', ['--concurrency', '1']);
    const plain = await chain();
    await direct.stop();
    await workerHost.delayProxy(7000, redisHost.ip, 6379, DELAY_MS);
    await joinWorker(workerHost, 'redis://127.0.0.1:7000', 'delayed', ['--concurrency', '1']);
    const delayed = await chain();
    const added = delayed - plain;
    t.diagnostic(`per hop: ${plain.toFixed(2)} ms direct, ${delayed.toFixed(2)} ms with ${RTT_MS} ms more round trip: +${(added / RTT_MS).toFixed(2)} round trips`);
    assert.ok(added >= RTT_MS / 2, `the proxy delays (+${added.toFixed(2)} ms per hop)`);
    assert.ok(added <= 3 * RTT_MS, `+${added.toFixed(2)} ms per hop is more than three round trips of ${RTT_MS} ms`);
  } finally {
    await net.close();
  }
  assert.deepEqual(net.namespaces(), []);
});
