/**
 * The ring of task-queue shards on a Redis Cluster: S hash tags, one per shard, each on a slot of a
 * different master (round the masters, S defaulting to their number), so that the task queues'
 * work, which is most of a cluster's Redis work, spreads over the masters. The ring is chosen once,
 * by whoever connects first (a client or a worker, with the address's `?shards=`), and stored in
 * the cluster's `ring` key: every later client and worker reads the same one, so a worker knows
 * every queue a client may add to. On one Redis there is one shard, the prefix itself.
 *
 * @module
 */
import { InvalidOptionError } from '../errors.ts';
import type { Redis } from './libs.ts';
import { isTagged, keys } from './queues.ts';
import { keySlot } from './slot.ts';

/** A master's slot ranges, `[first, last]` each. */
export type SlotRanges = readonly (readonly [number, number])[];

/** Most shards a ring may have. */
export const MAX_SHARDS = 64;

/**
 * The ring's shard prefixes (`{weft:q0}`, ...) for a cluster whose masters serve `masters` (in a
 * stable order): shard i lands on master i mod M, by trying `weft:q<i>`, `weft:q<i>.1`, ... until
 * the tag's slot is that master's. On an untagged prefix (one Redis), the prefix alone.
 */
export function ringPrefixes(prefix: string, shards: number, masters: readonly SlotRanges[]): string[] {
  if (!isTagged(prefix) || masters.length === 0) return [prefix];
  const name = prefix.slice(1, -1);
  const out: string[] = [];
  for (let i = 0; i < shards; i++) {
    const ranges = masters[i % masters.length] as SlotRanges;
    for (let n = 0; ; n++) {
      const tag = n === 0 ? `${name}:q${i}` : `${name}:q${i}.${n}`;
      const slot = keySlot(tag);
      if (ranges.some(([a, b]) => slot >= a && slot <= b)) {
        out.push(`{${tag}}`);
        break;
      }
      if (n > 100_000) throw new Error(`no hash tag lands on master ${i % masters.length}'s slots`);
    }
  }
  return out;
}

/** The masters' slot ranges from `CLUSTER SLOTS`, ordered by their first slot. */
async function masterRanges(redis: Redis): Promise<SlotRanges[]> {
  const reply = (await redis.call('CLUSTER', 'SLOTS')) as [number, number, [string, number, string?]][];
  const byMaster = new Map<string, [number, number][]>();
  for (const [first, last, master] of reply) {
    const id = master[2] ?? `${master[0]}:${master[1]}`;
    byMaster.set(id, [...(byMaster.get(id) ?? []), [first, last]]);
  }
  const masters = [...byMaster.values()].map((r) => r.sort((x, y) => x[0] - y[0]));
  return masters.sort((x, y) => (x[0]?.[0] ?? 0) - (y[0]?.[0] ?? 0));
}

/**
 * The ring of a cluster's task queues: read from its `ring` key, or chosen now (`shards` of them,
 * default one per master) and stored there unless another process stored one first. On one Redis,
 * `[prefix]` without a round trip.
 */
export async function openRing(redis: Redis, prefix: string, shards?: number): Promise<readonly string[]> {
  if (!isTagged(prefix)) return [prefix];
  const key = keys.ring(prefix);
  let stored = await redis.get(key);
  if (stored === null) {
    const masters = await masterRanges(redis);
    const count = shards ?? masters.length;
    if (!Number.isInteger(count) || count < 1 || count > MAX_SHARDS) throw new InvalidOptionError('address (shards)', `an integer from 1 to ${MAX_SHARDS}`, count);
    await redis.set(key, JSON.stringify(ringPrefixes(prefix, count, masters)), 'NX');
    stored = (await redis.get(key)) as string;
  }
  const ring = parseRing(stored);
  if (!ring) throw new InvalidOptionError(`the ring stored in ${key}`, 'a JSON list of hash-tagged prefixes (delete the key to choose a new ring)', stored);
  return ring;
}

/** The ring as stored, without choosing one: the prefix alone when none is stored or it cannot be read (`weft cluster status` writes nothing). */
export async function storedRing(redis: Redis, prefix: string): Promise<readonly string[]> {
  if (!isTagged(prefix)) return [prefix];
  return parseRing(await redis.get(keys.ring(prefix))) ?? [prefix];
}

function parseRing(stored: string | null): string[] | undefined {
  let ring: unknown;
  try {
    ring = stored === null ? undefined : JSON.parse(stored);
  } catch {
    return undefined;
  }
  return Array.isArray(ring) && ring.length > 0 && ring.every((p) => typeof p === 'string' && isTagged(p)) ? (ring as string[]) : undefined;
}
