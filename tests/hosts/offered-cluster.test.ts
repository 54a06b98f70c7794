// @needs netns redis-server
/**
 * A cluster offered to other hosts: `weft cluster up --host ADDR --password ...` on one host, a
 * `weft worker` on another joins with the password, a flow on a third runs on it; without a
 * password, binding beyond loopback is refused saying why; a worker without it is told so.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Network, hostsUnavailable } from '../helpers/hosts.ts';
import { FLOW, joinWorker, lines } from '../helpers/host-flows.ts';

test('weft cluster up --host --password: a worker on another host joins with the password; without one, the bind is refused', { skip: hostsUnavailable() }, async () => {
  const net = Network.create('offer');
  const dir = mkdtempSync(join(tmpdir(), 'weft-offer-'));
  try {
    const [clusterHost, workerHost, flowHost] = [net.host('cluster'), net.host('w1'), net.host('flow')];
    const refused = clusterHost.weft(['cluster', 'up', '--host', clusterHost.ip, '--workers', '0']);
    assert.equal(await refused.exited, 2, refused.output());
    assert.match(refused.output(), /a password when host is '10\.231\.7\.\d+'.*anyone who reaches the port could run the project's tasks/s);
    const up = clusterHost.weft(['cluster', 'up', '--host', clusterHost.ip, '--port', '6390', '--password', 's3cret', '--workers', '0']);
    const address = (await up.waitFor(/address: (\S+)/, 30_000))[1] as string;
    assert.equal(address, `redis://:s3cret@${clusterHost.ip}:6390`);
    const noPassword = workerHost.weft(['worker', '--address', `redis://${clusterHost.ip}:6390`]);
    assert.equal(await noPassword.exited, 1, noPassword.output());
    assert.match(noPassword.output(), /authentication required/);
    await joinWorker(workerHost, address, 'remote');
    const run = flowHost.node(FLOW, ['spread', address, JSON.stringify({ dir, n: 4, ms: 10 })]);
    assert.equal(await run.exited, 0, run.output());
    const delivered = lines(run.output()).filter((l) => 'delivered' in l);
    assert.deepEqual(delivered.map((l) => l.workerId), ['remote', 'remote', 'remote', 'remote']);
    assert.equal(await up.stop('SIGINT'), 0, up.output());
  } finally {
    await net.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(net.namespaces(), []);
});
