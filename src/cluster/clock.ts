import type { Redis } from './libs.ts';
import { now } from '../events/events.ts';

/** One round trip to Redis's clock: when it left, what `TIME` said, when it came back (local ms). */
export interface ClockSample {
  readonly sentAt: number;
  readonly serverMs: number;
  readonly receivedAt: number;
}

/** Samples kept: the best of the last few, so a drifting clock is followed within a minute or so. */
const WINDOW = 8;

/**
 * This process's clock against the cluster's (its Redis server's `TIME`), by Cristian's method:
 * the server read its clock about halfway through the round trip, so `offsetMs = serverMs -
 * (sentAt + receivedAt) / 2`, wrong by at most half the round trip. Of the recent samples the one
 * with the shortest round trip wins. A cluster worker stamps its events with `now() + offsetMs`
 * (the cluster's clock) and a client takes its own offset off again, so events from every worker
 * land on the flow process's clock, whatever the hosts' clocks say.
 */
export class ClockSync {
  readonly #samples: { offsetMs: number; rttMs: number }[] = [];
  #best: { offsetMs: number; rttMs: number } | undefined;

  /** Add this to a local time to get the cluster's time (0 before any sample). */
  get offsetMs(): number {
    return this.#best?.offsetMs ?? 0;
  }

  /** Half the best round trip: how far off `offsetMs` may be. */
  get errorMs(): number {
    return this.#best ? this.#best.rttMs / 2 : Infinity;
  }

  add(sample: ClockSample): void {
    const rttMs = Math.max(0, sample.receivedAt - sample.sentAt);
    this.#samples.push({ offsetMs: sample.serverMs - (sample.sentAt + sample.receivedAt) / 2, rttMs });
    if (this.#samples.length > WINDOW) this.#samples.shift();
    this.#best = this.#samples.reduce((a, b) => (b.rttMs < a.rttMs ? b : a));
  }

  /** Takes `count` samples from `redis`, one after another. */
  async measure(redis: Redis, count = 1): Promise<void> {
    for (let i = 0; i < count; i++) {
      const sentAt = now();
      const serverMs = await clusterTime(redis);
      this.add({ sentAt, serverMs, receivedAt: now() });
    }
  }
}

/** The cluster's clock (its Redis server's `TIME`), epoch ms. */
export async function clusterTime(redis: Redis): Promise<number> {
  const [seconds, micros] = await redis.time();
  return Number(seconds) * 1000 + Number(micros) / 1000;
}
