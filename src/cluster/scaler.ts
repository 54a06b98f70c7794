import { InvalidOptionError } from '../errors.ts';
import { adaptiveTarget, INITIAL_ADAPTIVE_STATE, type AdaptiveBounds, type AdaptiveState } from '../schedule/adaptive.ts';
import { shortfall, type Resources } from '../schedule/resources.ts';
import * as v from '../util/validate.ts';
import type { AdaptOptions } from './cluster.ts';
import { parseSignature } from './protocol.ts';
import type { ClusterQueues } from './queues.ts';

/** What the scaler drives: a cluster that can count and change its workers. */
export interface Scalable {
  readonly size: number;
  /** Tasks one worker runs at once. */
  readonly slotsPerWorker: number;
  /** What each worker declares: a backlog of tasks needing more is not this cluster's to scale for. */
  readonly workerResources: Resources;
  scale(workers: number): Promise<void>;
}

/** Whether workers declaring `workerResources` can run tasks of this requirement signature. */
export function canRun(workerResources: Resources): (signature: string) => boolean {
  return (signature) => !shortfall(parseSignature(signature), workerResources);
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
 * the backlog (task runs, over every queue the cluster's workers can take from) and scales the
 * cluster toward the target.
 */
export class Scaler {
  readonly #cluster: Scalable;
  readonly #bounds: AdaptiveBounds;
  #state: AdaptiveState = INITIAL_ADAPTIVE_STATE;
  #timer: NodeJS.Timeout | undefined;
  readonly #queues: () => Promise<ClusterQueues>;
  #busy = false;
  /** Called after each change, for 'scale:up' / 'scale:down' events. */
  onScale: ((from: number, to: number) => void) | undefined;

  constructor(cluster: Scalable, queues: () => Promise<ClusterQueues>, options: AdaptOptions) {
    this.#cluster = cluster;
    this.#queues = queues;
    this.#bounds = resolveAdapt('adapt', options);
  }

  start(): void {
    this.#timer = setInterval(() => void this.#check(), CHECK_MS);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  async #check(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const { slotsPerWorker, workerResources } = this.#cluster;
      // Runs beyond what the largest cluster can hold change nothing: stop counting there.
      const queues = await this.#queues();
      const { total: backlog } = await queues.backlog((this.#bounds.maximum + 1) * slotsPerWorker, canRun(workerResources));
      const from = this.#cluster.size;
      const next = adaptiveTarget({ backlog, workers: from, slotsPerWorker }, this.#bounds, this.#state);
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
