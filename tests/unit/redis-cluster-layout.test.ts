/** Redis Cluster addresses and the key layout on a cluster, without Redis: which keys share a slot. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { parseAddress } from '../../src/cluster/connection.ts';
import { keys } from '../../src/cluster/queues.ts';
import { keySlot } from '../../src/cluster/slot.ts';
import { ringPrefixes } from '../../src/cluster/ring.ts';
import { InvalidOptionError } from '../../src/errors.ts';

test('redis+cluster:// names seed nodes, with a password, TLS and a prefix; the password never shows', () => {
  const a = parseAddress('address', 'rediss+cluster://:s%40cret@10.0.0.1:7000,10.0.0.2,[::1]:7002?prefix=team-a');
  assert.equal(a.cluster, true);
  assert.deepEqual(a.nodes, [{ host: '10.0.0.1', port: 7000 }, { host: '10.0.0.2', port: 6379 }, { host: '::1', port: 7002 }]);
  assert.equal(a.redis.password, 's@cret');
  assert.ok(a.redis.tls);
  assert.equal(a.prefix, '{team-a}', 'hash-tagged on a cluster');
  assert.equal(a.display, 'rediss+cluster://:***@10.0.0.1:7000,10.0.0.2,[::1]:7002?prefix=team-a');
  const plain = parseAddress('address', 'redis://:pw@h:6380/1');
  assert.equal(plain.cluster, false);
  assert.equal(plain.prefix, 'weft', 'a single server keeps its key names');
  assert.equal(plain.display, 'redis://:***@h:6380/1');
  assert.throws(() => parseAddress('address', 'redis+cluster://h1:1,h2:2/3'), (e: unknown) => e instanceof InvalidOptionError && /database 0 only/.test(e.message));
  assert.throws(() => parseAddress('address', 'redis+cluster://h1:1,:2'), InvalidOptionError);
  assert.throws(() => parseAddress('address', 'redis+cluster://h1:99999'), InvalidOptionError);
});

test('keySlot is Redis Cluster\'s hash slot (checked against ioredis\'s own)', () => {
  const require = createRequire(import.meta.url);
  const reference = require('cluster-key-slot') as (key: string) => number;
  for (const key of ['weft', '{weft}:workers', 'a{b}c', '{}x', 'é{ü}', '{weft:ch-1}:results', '123456789']) assert.equal(keySlot(key), reference(key), key);
  // An empty first tag hashes the whole key: what redis-server 7.0's CLUSTER KEYSLOT answers (cluster-key-slot says 15133).
  assert.equal(keySlot('x{}{y}'), 14166);
  assert.equal(keySlot('123456789'), 0x31c3 % 16384, 'CRC16/XMODEM check value');
});

test('on a cluster, each multi-key operation stays in one slot: shared keys together, each client\'s keys together', () => {
  const prefix = parseAddress('address', 'redis+cluster://h:1').prefix;
  const shared = [keys.workers(prefix), keys.requirements(prefix), keys.control(prefix)].map(keySlot);
  assert.equal(new Set(shared).size, 1, 'heartbeat MULTI (workers + requirements) and the announcement (requirements + control)');
  for (const channel of ['flow-1', 'nested-w-2']) assert.equal(keySlot(keys.results(prefix, channel)), keySlot(keys.done(prefix, channel)), 'the DEL at close');
  const clients = new Set(Array.from({ length: 64 }, (_, i) => keySlot(keys.results(prefix, `c${i}`))));
  assert.ok(clients.size > 32, 'clients spread over the slots');
  assert.equal(keys.results('weft', 'c'), 'weft:results:c', 'single-server names unchanged');
});

test('the ring: S shard tags round the masters, each on a slot of its master; one shard on one Redis', () => {
  const masters = [[[0, 5460]], [[5461, 10922]], [[10923, 16383]]] as const;
  const ring = ringPrefixes('{weft}', 6, masters);
  assert.equal(ring.length, 6);
  assert.equal(new Set(ring).size, 6);
  ring.forEach((prefix, i) => {
    const [[a, b]] = masters[i % 3] as readonly (readonly [number, number])[] as [[number, number]];
    const slot = keySlot(`${prefix}:tasks:wait`);
    assert.ok(slot >= a && slot <= b, `${prefix} (slot ${slot}) on master ${i % 3}`);
  });
  assert.deepEqual(ringPrefixes('weft', 3, masters), ['weft']);
  assert.throws(() => parseAddress('address', 'redis+cluster://h:1?shards=0'), InvalidOptionError);
  assert.equal(parseAddress('address', 'redis+cluster://h:1?shards=5').shards, 5);
});
