/**
 * Adaptive scaling policy, with none of the cluster details (as dask's `AdaptiveCore`): from the
 * backlog and the current size, the number of workers wanted. Pure: no timers, no I/O.
 */

/** What the policy sees at one check. */
export interface AdaptiveObservation {
  /** Task runs waiting or running on the cluster. */
  readonly backlog: number;
  /** Worker processes now. */
  readonly workers: number;
  /** Tasks one worker runs at once. */
  readonly slotsPerWorker: number;
}

export interface AdaptiveBounds {
  readonly minimum: number;
  readonly maximum: number;
}

/** Checks in a row that must want fewer workers before any is retired: a short lull retires nobody. */
export const SCALE_DOWN_WAIT = 3;

export interface AdaptiveState {
  /** Consecutive checks that wanted fewer workers. */
  readonly lowCount: number;
}

export const INITIAL_ADAPTIVE_STATE: AdaptiveState = { lowCount: 0 };

/**
 * The workers wanted now and the next state. Scaling up is immediate (tasks wait); scaling down
 * waits {@link SCALE_DOWN_WAIT} checks, and never goes below what the backlog still needs.
 */
export function adaptiveTarget(seen: AdaptiveObservation, bounds: AdaptiveBounds, state: AdaptiveState): { target: number; state: AdaptiveState } {
  const needed = Math.ceil(seen.backlog / Math.max(1, seen.slotsPerWorker));
  const wanted = Math.min(bounds.maximum, Math.max(bounds.minimum, needed));
  if (wanted >= seen.workers) return { target: wanted, state: INITIAL_ADAPTIVE_STATE };
  const lowCount = state.lowCount + 1;
  if (lowCount < SCALE_DOWN_WAIT) return { target: seen.workers, state: { lowCount } };
  return { target: wanted, state: INITIAL_ADAPTIVE_STATE };
}
