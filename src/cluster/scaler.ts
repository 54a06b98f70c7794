import { InvalidOptionError } from '../errors.ts';
import {
  adaptiveTarget, DEFAULT_SCALE_DOWN_MS, DEFAULT_TARGET_MS, INITIAL_ADAPTIVE_STATE, UNKNOWN_TASK_MS,
  type AdaptivePolicy, type AdaptiveState,
} from '../schedule/adaptive.ts';
import { shortfall, type Resources } from '../schedule/resources.ts';
import * as v from '../util/validate.ts';
import type { AdaptOptions } from './cluster.ts';
import { parseSignature, type WorkerInfo } from './protocol.ts';
import type { Backlog } from './queues.ts';

/** What the scaler drives: a cluster that can count and change its workers. */
export interface Scalable {
  readonly size: number;
  /** Tasks one worker runs at once. */
  readonly slotsPerWorker: number;
  /** What each worker declares: a backlog of tasks needing more is not this cluster's to scale for. */
  readonly workerResources: Resources;
  scale(workers: number): Promise<void>;
}

/** What the scaler reads of the cluster at each check. */
export interface ScalerSource {
  /** Task runs waiting or running, counted up to `limit`, over the signatures `accept` takes. */
  backlog(limit: number, accept: (signature: string) => boolean): Promise<Backlog>;
  /** Recent mean task run time, ms, by requirement signature (from the workers' heartbeats). */
  durations(): Promise<ReadonlyMap<string, number>>;
}

/** Whether workers declaring `workerResources` can run tasks of this requirement signature. */
export function canRun(workerResources: Resources): (signature: string) => boolean {
  return (signature) => !shortfall(parseSignature(signature), workerResources);
}

/** The workers' recent task durations, by requirement signature: the mean over the workers that report one. */
export function taskDurations(workers: readonly WorkerInfo[]): Map<string, number> {
  const sums = new Map<string, { total: number; n: number }>();
  for (const worker of workers) {
    for (const [signature, ms] of Object.entries(worker.taskMs ?? {})) {
      if (!Number.isFinite(ms)) continue;
      const sum = sums.get(signature) ?? { total: 0, n: 0 };
      sum.total += ms;
      sum.n++;
      sums.set(signature, sum);
    }
  }
  return new Map([...sums].map(([signature, { total, n }]) => [signature, total / n]));
}

/** Validates `adapt` options: `{ minimum ≥ 0, maximum ≥ minimum, targetMs > 0, scaleDownMs ≥ 0 }`. */
export function resolveAdapt(option: string, raw: unknown): AdaptivePolicy {
  const o = v.plainObject(option, raw);
  v.knownKeys(option, o, ['minimum', 'maximum', 'targetMs', 'scaleDownMs']);
  const minimum = o.minimum === undefined ? 0 : v.integer(`${option}.minimum`, o.minimum, 0);
  const maximum = o.maximum === undefined || o.maximum === Infinity ? Infinity : v.integer(`${option}.maximum`, o.maximum, 1);
  if (maximum < minimum) throw new InvalidOptionError(`${option}.maximum`, `at least \`${option}.minimum\` (${minimum})`, maximum);
  const targetMs = o.targetMs === undefined ? DEFAULT_TARGET_MS : v.number(`${option}.targetMs`, o.targetMs, 1);
  const scaleDownMs = o.scaleDownMs === undefined ? DEFAULT_SCALE_DOWN_MS : v.number(`${option}.scaleDownMs`, o.scaleDownMs, 0);
  return { minimum, maximum, targetMs, scaleDownMs };
}

const CHECK_MS = 500;

/**
 * Applies the adaptive policy (`schedule/adaptive.ts`) to a cluster: every half second it reads
 * the backlog (task runs, over every queue the cluster's workers can take from) and the workers'
 * recent task durations, and scales the cluster toward the target, saying why.
 */
export class Scaler {
  readonly #cluster: Scalable;
  readonly #policy: AdaptivePolicy;
  readonly #source: ScalerSource;
  #state: AdaptiveState = INITIAL_ADAPTIVE_STATE;
  #timer: NodeJS.Timeout | undefined;
  #busy = false;
  #stopped = false;
  /** Called at each decision to change the size, with its reason, for 'scale:up' / 'scale:down' events. */
  onScale: ((from: number, to: number, reason: string) => void) | undefined;

  constructor(cluster: Scalable, source: ScalerSource, options: AdaptOptions) {
    this.#cluster = cluster;
    this.#source = source;
    this.#policy = resolveAdapt('adapt', options);
  }

  start(): void {
    this.#timer = setInterval(() => void this.#check(), CHECK_MS);
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  async #check(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const { slotsPerWorker, workerResources } = this.#cluster;
      const durations = await this.#source.durations();
      // Runs beyond what the largest cluster could finish within the target change nothing: stop counting there.
      const shortest = Math.min(UNKNOWN_TASK_MS, ...durations.values());
      const limit = (this.#policy.maximum + 1) * slotsPerWorker * Math.max(1, Math.ceil(this.#policy.targetMs / Math.max(1, shortest)));
      const { bySignature } = await this.#source.backlog(limit, canRun(workerResources));
      const backlog = [...bySignature].map(([signature, runs]) => ({ need: parseSignature(signature), runs, taskMs: durations.get(signature) }));
      const from = this.#cluster.size;
      const next = adaptiveTarget({ backlog, workers: from, slotsPerWorker, workerResources, now: Date.now() }, this.#policy, this.#state);
      this.#state = next.state;
      if (next.target !== from) {
        this.onScale?.(from, next.target, next.reason);
        // Not awaited: checks go on while new workers start (they count in `size` already), so a
        // burst that grows or ends meanwhile is seen at once.
        this.#cluster.scale(next.target).catch((error: unknown) => {
          if (!this.#stopped) console.error(`weft: adaptive scaling to ${next.target} workers: ${(error as Error).message}`);
        });
      }
    } catch {
      // Redis briefly unreachable: try again next time.
    } finally {
      this.#busy = false;
    }
  }
}
