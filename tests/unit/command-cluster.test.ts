/** CommandCluster's command template and options, without starting anything. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandLauncher, CommandCluster } from '../../src/cluster/command-cluster.ts';
import { InvalidOptionError } from '../../src/errors.ts';

test('the command template: {worker} becomes the weft worker arguments, values shell-quoted, hosts in turn', () => {
  const launcher = new CommandLauncher({ command: 'ssh {host} npx weft {worker}', hosts: ['a', 'b c'], threadsPerWorker: 2, resources: { GPU: 1 }, deathTimeoutS: 10 });
  assert.equal(launcher.commandFor('cmd-1', 'redis://:p@10.0.0.5:6390'),
    'ssh a npx weft worker --address redis://:p@10.0.0.5:6390 --name cmd-1 --concurrency 2 --death-timeout 10 --resources GPU=1');
  assert.match(launcher.commandFor("it's", 'redis://h:1'), /^ssh 'b c' npx weft .*--name 'it'\\''s'/);
  assert.match(launcher.commandFor('cmd-3', 'redis://h:1'), /^ssh a /, 'back to the first host');
});

test('CommandCluster options: {worker} and hosts required; a random password by default', () => {
  assert.throws(() => new CommandCluster({ command: 'ssh {host} weft worker', hosts: ['a'], host: '10.0.0.5' }), (e: unknown) => e instanceof InvalidOptionError && /\{worker\}/.test(e.message));
  assert.throws(() => new CommandCluster({ command: 'ssh {host} weft {worker}', hosts: [], host: '10.0.0.5' }), /hosts/);
  const cluster = new CommandCluster({ command: 'ssh {host} npx weft {worker}', hosts: ['a', 'b'], host: '10.0.0.5' });
  assert.equal(cluster.spec.workers, 2);
  assert.match(cluster.spec.redis.password ?? '', /^[\w-]{24}$/);
});
