import type { Redis } from './libs.ts';
import { HEARTBEAT_STALE_MS } from './protocol.ts';
import { jobKeys, keys } from './queues.ts';

/** A registry entry's last heartbeat; 0 for one that cannot be read (a foreign or corrupt entry is stale). */
function beatOf(text: string | undefined): number {
  try {
    return Number((JSON.parse(text ?? '') as { beat?: unknown }).beat) || 0;
  } catch {
    return 0;
  }
}

/**
 * Frees the jobs of one queue held by dead workers. KEYS[1]: the queue's active list. ARGV[1]:
 * the holder key prefix of the queue, ARGV[2]: its job key prefix, ARGV[3..]: the dead workers.
 * A job's holder is `<worker> <lock token>`; its lock goes only if it is still that token (the
 * job was not taken again since), so the queue's next stall check hands it to a live worker.
 */
const REAP = `
local dead = {}
for i = 3, #ARGV do dead[ARGV[i]] = true end
local freed = 0
for _, id in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
  local holder = redis.call('GET', ARGV[1] .. id)
  if holder then
    local worker, token = string.match(holder, '^(.*) (%S+)$')
    local lock = ARGV[2] .. id .. ':lock'
    if worker and dead[worker] and redis.call('GET', lock) == token then
      redis.call('DEL', lock)
      freed = freed + 1
    end
  end
end
return freed
`;

/** What a job's holder key says: the worker and its lock token. */
export function holderValue(workerId: string, token: string): string {
  return `${workerId} ${token}`;
}

/** The worker named by a holder key's value. */
export function holderWorker(value: string): string {
  const space = value.lastIndexOf(' ');
  return space < 0 ? value : value.slice(0, space);
}

/**
 * Run by every worker on each heartbeat: workers in the registry whose pulse key lapsed and
 * whose heartbeat is stale (dead, frozen, or cut off; a task blocking a live worker's event loop
 * stops its heartbeat, not its pulse) lose their jobs' locks, so their tasks run elsewhere after
 * the next stall check instead of after the job lock's whole duration, and leave the registry (a
 * worker that comes back registers again on its next heartbeat). `clusterNow` is the time on
 * the cluster's clock, as heartbeats are stamped. Resolves the jobs freed.
 */
export async function reapDead(redis: Redis, prefix: string, ring: readonly string[], selfId: string, clusterNow: number): Promise<number> {
  const entries = await redis.hgetall(keys.workers(prefix));
  const stale = Object.keys(entries).filter((id) => id !== selfId && beatOf(entries[id]) < clusterNow - HEARTBEAT_STALE_MS);
  if (stale.length === 0) return 0;
  const pulses = await redis.mget(stale.map((id) => keys.pulse(prefix, id)));
  const dead = stale.filter((_, i) => pulses[i] === null);
  if (dead.length === 0) return 0;
  const signatures = ['', ...(await redis.smembers(keys.requirements(prefix)))];
  let freed = 0;
  // Per shard of the ring (ring.ts): a queue's active list, its jobs' locks and their holders share the shard's slot.
  for (const shard of ring) {
    for (const signature of signatures) {
      const queue = jobKeys(shard, signature);
      freed += Number(await redis.eval(REAP, 1, queue.active, keys.holder(shard, signature, ''), queue.job(''), ...dead));
    }
  }
  await redis.hdel(keys.workers(prefix), ...dead);
  return freed;
}
