// @needs netns redis-server
/**
 * A worker host cut off silently: its running tasks run elsewhere within a bound tied to the
 * worker's pulse (not its 30 s job lock), no result already delivered is computed again, and
 * once the link heals, the cut worker's late results are dropped: they never re-create the
 * finished run's keys.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Network, hostsUnavailable } from '../helpers/hosts.ts';
import { FLOW, joinWorker, lines } from '../helpers/host-flows.ts';
import { until, within } from '../helpers/eventually.ts';

/** The README's bound: the pulse key lapses ≤ 4 s after the cut, the next reap ≤ 1 s later, the next stall check ≤ 2 s after that. */
const BOUND_MS = 8000;
/** Slack for a loaded 2-core machine, within the 15 s. */
const SLACK_MS = 7000;

/** Each run of task i: its start and end lines, `[kind, worker, time]`. */
function runsOf(dir: string, i: number): [string, string, number][] {
  return readFileSync(join(dir, String(i)), 'utf8').trim().split('\n').map((l) => {
    const [kind, worker, time] = l.split(' ');
    return [kind as string, worker as string, Number(time)];
  });
}

test('a worker host cut off: its tasks run elsewhere within the bound, nothing delivered runs again, its late results re-create nothing', { skip: hostsUnavailable() }, async (t) => {
  const net = Network.create('wcut');
  const dir = mkdtempSync(join(tmpdir(), 'weft-wcut-'));
  try {
    const [redisHost, w1, w2, flowHost] = [net.host('redis'), net.host('w1'), net.host('w2'), net.host('flow')];
    const { address } = await redisHost.redis();
    // BullMQ's default 30 s lock: the move must not wait for it.
    const cutWorker = await joinWorker(w1, address, 'w1', ['--lock-ms', '30000', '--death-timeout', '300']);
    await joinWorker(w2, address, 'w2', ['--lock-ms', '30000']);
    const n = 16;
    const run = flowHost.node(FLOW, ['spread', address, JSON.stringify({ dir, n, ms: 2500 })]);
    // Cut once w1 runs its second pair: it has delivered results, and holds running tasks.
    await until(() => readdirSync(dir).filter((f) => runsOf(dir, Number(f)).some(([k, w]) => k === 'start' && w === 'w1')).length >= 4, 60_000, 'w1 to start four tasks');
    w1.cut();
    const cutAt = Date.now();
    const held = readdirSync(dir).map(Number).filter((i) => {
      const runs = runsOf(dir, i);
      return runs.length === 1 && runs[0]?.[1] === 'w1';
    });
    assert.ok(held.length > 0, 'w1 was running tasks at the cut');
    assert.equal(await within(run.exited, 90_000, 'the flow'), 0, run.output());
    const out = lines(run.output());
    const delivered = new Map(out.filter((l) => 'delivered' in l).map((l) => [l.delivered as number, l]));
    assert.equal(delivered.size, n, 'every task delivered');
    // The tasks w1 held ran on w2 within the bound after the cut.
    const moved = held.map((i) => runsOf(dir, i).find(([k, w]) => k === 'start' && w === 'w2')?.[2]);
    assert.ok(moved.every((at) => at !== undefined), `held tasks ${held} ran again on w2`);
    const worst = Math.max(...(moved as number[])) - cutAt;
    t.diagnostic(`tasks held by the cut host started on w2 ${Math.min(...(moved as number[])) - cutAt}-${worst} ms after the cut`);
    assert.ok(worst <= BOUND_MS + SLACK_MS, `moved ${worst} ms after the cut`);
    // Nothing started again after its result was delivered.
    for (const [i, l] of delivered) {
      const late = runsOf(dir, i).filter(([k, , at]) => k === 'start' && at > (l.at as number));
      assert.deepEqual(late, [], `task ${i} ran again after its result was delivered`);
    }
    // The link heals: w1 comes back, its late writes land on a finished run, and re-create nothing.
    w1.heal();
    await cutWorker.waitFor(/reconnected/, 60_000);
    await until(() => held.every((i) => runsOf(dir, i).some(([k, w]) => k === 'end' && w === 'w1')), 10_000, 'w1 to finish what it held');
    await new Promise((r) => setTimeout(r, 3000));
    const left = await redisHost.redisCli(address, ['--scan', '--pattern', 'weft:*']);
    assert.deepEqual(left.split('\n').filter((k) => /:(results|done|open):/.test(k)), [], `a finished run's keys were re-created:\n${left}`);
  } finally {
    await net.close();
    rmSync(dir, { recursive: true, force: true });
  }
  assert.deepEqual(net.namespaces(), []);
});
