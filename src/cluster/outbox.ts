import * as v8 from 'node:v8';
import type { ChainableCommander } from 'ioredis';
import type { Redis } from './libs.ts';
import { packEvents, type WorkerBatch } from './protocol.ts';
import { keys } from './queues.ts';
import { isCluster } from './connection.ts';
import { AttemptBatch, type AttemptEvent } from '../protocol/attempt-events.ts';
import { checkResult, failedResult } from '../protocol/attempt-events.ts';
import { encodeBatch } from '../protocol/serialize.ts';
import { addEntry, type WorkerFeed } from '../dashboard/feed.ts';

/** Result lists and done sets expire a day after their last write, so a client that vanished leaves nothing for long. */
export const KEY_TTL_S = 24 * 3600;

/**
 * Delivers one batch to a channel, only while the channel is open: a worker's late results (it
 * was cut off, and the run has ended since) must not re-create a finished run's keys.
 * KEYS: open, done, results. ARGV: TTL, the batch, the finished task run ids. Returns 0 if dropped.
 * The done set goes first: a job re-run after this worker dies skips what it delivered.
 */
const DELIVER = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 3, #ARGV, 1000 do redis.call('SADD', KEYS[2], unpack(ARGV, i, math.min(i + 999, #ARGV))) end
if #ARGV > 2 then redis.call('EXPIRE', KEYS[2], ARGV[1]) end
redis.call('RPUSH', KEYS[3], ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
`;
/** Writes out at once; more events wait and go together in the next. */
const MAX_IN_FLIGHT = 2;

/** The script as a command of the connection (ioredis sends EVALSHA, loading the script where Redis lacks it). */
interface Deliver {
  weftDeliver(...args: (string | number | Buffer)[]): unknown;
}

function defineDeliver(redis: Redis): void {
  if (!('weftDeliver' in redis)) redis.defineCommand('weftDeliver', { numberOfKeys: 3, lua: DELIVER });
}

/** Delivers one list element to a channel while it is open (the same rule as results); false if it was dropped. */
export async function deliver(redis: Redis, prefix: string, channel: string, element: Buffer): Promise<boolean> {
  defineDeliver(redis);
  const keysOf = [keys.open(prefix, channel), keys.done(prefix, channel), keys.results(prefix, channel)];
  return (await (redis as unknown as Deliver).weftDeliver(...keysOf, KEY_TTL_S, element)) === 1;
}

/**
 * A worker's attempt events to clients, batched: everything produced in one turn of the event
 * loop goes out as one list element per client channel, in one pipeline (one round trip).
 * Batching, not Redis, is what makes small tasks fast: on this machine Redis lists carry about
 * 5,700 messages a second one by one and 119,000 a second in batches of 200.
 */
export class Outbox {
  readonly #pending = new Map<string, AttemptBatch<string>>();
  readonly #inFlight: Promise<void>[] = [];
  #scheduled: Promise<void> | undefined;

  constructor(
    readonly redis: Redis,
    readonly prefix: string,
    readonly workerId: string,
    /** Each flush also adds one entry to the cluster's dashboard stream (see {@link Outbox.#write}). */
    readonly feed?: WorkerFeed,
  ) {
    defineDeliver(redis);
  }

  /** Queues an event; resolves once it (and its batch) reached Redis. */
  send(channel: string, event: AttemptEvent<string>): Promise<void> {
    let batch = this.#pending.get(channel);
    if (!batch) this.#pending.set(channel, (batch = new AttemptBatch()));
    batch.push(event);
    return (this.#scheduled ??= this.#schedule());
  }

  async #schedule(): Promise<void> {
    // Let the current turn's tasks add their events before sending, and wait while MAX_IN_FLIGHT
    // writes are out: events gather meanwhile into one batch. Two, not one: a task's 'done' must
    // not wait for its 'started' to come back (a round trip per chain hop on a distant host).
    await new Promise<void>((resolve) => setImmediate(resolve));
    while (this.#inFlight.length >= MAX_IN_FLIGHT) await this.#inFlight[0]?.catch(() => undefined);
    this.#scheduled = undefined;
    const batches = new Map<string, AttemptEvent<string>[]>();
    for (const [channel, batch] of this.#pending) batches.set(channel, batch.take());
    this.#pending.clear();
    // Writes on one connection reach Redis in the order they were sent.
    const write = this.#write(batches);
    this.#inFlight.push(write);
    try {
      await write;
    } finally {
      this.#inFlight.splice(this.#inFlight.indexOf(write), 1);
    }
  }

  /**
   * What a flush writes, in parts: each client channel's delivery, and the dashboard's stream
   * entry. On a single server every part goes in one pipeline (one round trip); on a Redis
   * Cluster each part in a pipeline of its own, all sent at once, because a pipeline may only hold
   * keys of one slot and each part's keys do (a channel's keys share a slot, the stream's is its own).
   */
  async #write(batches: Map<string, AttemptEvent<string>[]>): Promise<void> {
    const parts: Part[] = [];
    for (const [channel, events] of batches) parts.push({ add: (pipeline) => this.#deliver(pipeline, channel, events), optional: false });
    if (this.feed) {
      const rows = this.feed.rows(batches.values());
      if (rows.length > 0) parts.push({ add: (pipeline) => addEntry(pipeline, keys.dashboard(this.prefix), this.workerId, rows), optional: true });
    }
    if (!isCluster(this.redis) || parts.length <= 1) return this.#exec(parts);
    await Promise.all(parts.map((part) => this.#exec([part])));
  }

  #deliver(pipeline: ChainableCommander, channel: string, events: AttemptEvent<string>[]): void {
    const finished = events.filter((e) => e.type === 'done' || e.type === 'crashed').map((e) => e.id);
    const channelKeys = [keys.open(this.prefix, channel), keys.done(this.prefix, channel), keys.results(this.prefix, channel)];
    (pipeline as unknown as Deliver).weftDeliver(...channelKeys, KEY_TTL_S, encode(this.workerId, events), ...finished);
  }

  /** Sends parts in one pipeline; a failed delivery fails the write, the dashboard's entry never does. */
  async #exec(parts: readonly Part[]): Promise<void> {
    if (parts.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const part of parts) part.add(pipeline);
    const results = await pipeline.exec().catch((error: unknown) => {
      if (parts.every((part) => part.optional)) return null;
      throw error;
    });
    // Each part adds one command, so results line up with parts.
    const failed = results?.find(([error], i) => error && !parts[i]?.optional);
    if (failed?.[0]) throw failed[0];
  }
}

/** One command of a flush, whose keys share a slot. */
interface Part {
  readonly add: (pipeline: ChainableCommander) => void;
  /** Whether its failure leaves the write standing (the dashboard's entry: what it shows is not what runs depend on). */
  readonly optional: boolean;
}

/**
 * Events as one v8 buffer. Results are cloned together (the fast path); if that fails, each
 * result is tried alone and one that cannot cross becomes a Failed 'done' with a
 * SerializationError naming it (`result.callback`), so only its own task fails.
 */
function encode(workerId: string, events: AttemptEvent<string>[]): Buffer {
  return encodeBatch(events, {
    encode: (list) => v8.serialize({ workerId, events: packEvents(list) } satisfies WorkerBatch),
    check: checkResult,
    culprit: failedResult,
  }) as Buffer;
}
