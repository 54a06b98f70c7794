import type { Redis } from 'ioredis';
import { InvalidOptionError } from '../errors.ts';
import { adaptiveTarget, INITIAL_ADAPTIVE_STATE, type AdaptiveBounds, type AdaptiveState } from '../schedule/adaptive.ts';
import * as v from '../util/validate.ts';
import type { AdaptOptions } from './cluster.ts';
import { connect, parseAddress } from './connection.ts';
import { TASK_QUEUE } from './protocol.ts';

/** What the scaler drives: a cluster that can count and change its workers. */
export interface Scalable {
  readonly size: number;
  readonly workerOptions: { readonly address: string; readonly concurrency: number };
  scale(workers: number): Promise<void>;
}

/** Validates `adapt` options: `{ minimum ≥ 0, maximum ≥ minimum }`. */
export function resolveAdapt(option: string, raw: unknown): AdaptiveBounds {
  const o = v.plainObject(option, raw);
  v.knownKeys(option, o, ['minimum', 'maximum']);
  const minimum = o.minimum === undefined ? 0 : v.integer(`${option}.minimum`, o.minimum, 0);
  const maximum = o.maximum === undefined || o.maximum === Infinity ? Infinity : v.integer(`${option}.maximum`, o.maximum, 1);
  if (maximum < minimum) throw new InvalidOptionError(`${option}.maximum`, `at least \`${option}.minimum\` (${minimum})`, maximum);
  return { minimum, maximum };
}

const CHECK_MS = 500;

/**
 * Applies the adaptive policy (`schedule/adaptive.ts`) to a cluster: every half second it reads
 * the backlog of the plain task queue from Redis and scales the cluster toward the target.
 */
export class Scaler {
  readonly #cluster: Scalable;
  readonly #bounds: AdaptiveBounds;
  #state: AdaptiveState = INITIAL_ADAPTIVE_STATE;
  #timer: NodeJS.Timeout | undefined;
  #redis: Redis | undefined;
  #busy = false;
  /** Called after each change, for 'scale:up' / 'scale:down' events. */
  onScale: ((from: number, to: number) => void) | undefined;

  constructor(cluster: Scalable, options: AdaptOptions) {
    this.#cluster = cluster;
    this.#bounds = resolveAdapt('adapt', options);
  }

  start(): void {
    this.#timer = setInterval(() => void this.#check(), CHECK_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#redis?.disconnect();
    this.#redis = undefined;
  }

  async #check(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const address = parseAddress('address', this.#cluster.workerOptions.address);
      this.#redis ??= await connect(address, { connectTimeoutMs: 2000, name: 'weft-scaler' });
      const base = `${address.prefix}:${TASK_QUEUE}`;
      const replies = (await this.#redis.multi().llen(`${base}:wait`).zcard(`${base}:prioritized`).llen(`${base}:active`).exec()) ?? [];
      const backlog = replies.reduce((sum, [, n]) => sum + (typeof n === 'number' ? n : 0), 0);
      const from = this.#cluster.size;
      const next = adaptiveTarget({ backlog, workers: from, slotsPerWorker: this.#cluster.workerOptions.concurrency }, this.#bounds, this.#state);
      this.#state = next.state;
      if (next.target !== from) {
        await this.#cluster.scale(next.target);
        this.onScale?.(from, next.target);
      }
    } catch {
      // Redis briefly unreachable: try again next time.
    } finally {
      this.#busy = false;
    }
  }
}
