/**
 * Adaptive scaling policy, with none of the cluster details (as dask's `AdaptiveCore` and the
 * scheduler's `adaptive_target`): from the backlog, recent task durations and the workers, the
 * number of workers wanted and why. Pure: no timers, no I/O; time comes in as an argument.
 */
import { slotsFor, type Resources } from './resources.ts';

/** Task runs of one resource requirement waiting or running, and how long such tasks took lately. */
export interface RequirementBacklog {
  /** What each of these tasks needs (`{}` for nothing). */
  readonly need: Resources;
  readonly runs: number;
  /** Recent mean run time of such a task, ms; absent until one finished ({@link UNKNOWN_TASK_MS} is assumed). */
  readonly taskMs?: number;
}

/** What the policy sees at one check. */
export interface AdaptiveObservation {
  /** The backlog, by requirement. */
  readonly backlog: readonly RequirementBacklog[];
  /** Worker processes now (starting ones included, retiring ones not). */
  readonly workers: number;
  /** Tasks one worker runs at once. */
  readonly slotsPerWorker: number;
  /** What each worker declares: a backlog needing more is not this cluster's to scale for. */
  readonly workerResources: Resources;
  /** Now, ms (any clock, the same at every check). */
  readonly now: number;
}

/** The policy's settings (the resolved `adapt` option). */
export interface AdaptivePolicy {
  readonly minimum: number;
  readonly maximum: number;
  /** Workers are wanted to finish the backlog within this (dask's `target_duration`). */
  readonly targetMs: number;
  /** Fewer workers must have sufficed this long before any is retired (dask's `wait_count` × `interval`). */
  readonly scaleDownMs: number;
}

export const DEFAULT_TARGET_MS = 5000;
export const DEFAULT_SCALE_DOWN_MS = 3000;
/** The duration assumed for tasks of a requirement none of which has finished yet (dask's `unknown-task-duration`). */
export const UNKNOWN_TASK_MS = 500;

export interface AdaptiveState {
  /** Since when fewer workers would have done, continuously; undefined when not. */
  readonly lowSince: number | undefined;
}

export const INITIAL_ADAPTIVE_STATE: AdaptiveState = { lowSince: undefined };

export interface AdaptiveDecision {
  /** Workers wanted now (equal to `workers`: no change). */
  readonly target: number;
  /** Why, for people: the backlog, its estimated work and the rule that decided. */
  readonly reason: string;
  readonly state: AdaptiveState;
}

/** Workers the backlog needs and a summary of it: for each requirement, enough to finish its work within the target, but no more than its runs can use. */
export function workersNeeded(seen: AdaptiveObservation, targetMs: number): { needed: number; runs: number; workMs: number } {
  let runs = 0;
  let workMs = 0;
  let needed = 0;
  for (const { need, runs: count, taskMs } of seen.backlog) {
    const slots = slotsFor(need, seen.workerResources, seen.slotsPerWorker);
    if (slots === 0 || count <= 0) continue; // no worker of this cluster could run them
    const ms = taskMs ?? UNKNOWN_TASK_MS;
    runs += count;
    workMs += count * ms;
    // Many quick tasks: few workers finish them in time. Few long ones: one slot each, no more.
    needed = Math.max(needed, Math.min(Math.ceil((count * ms) / (targetMs * slots)), Math.ceil(count / slots)));
  }
  // Requirements share workers: the whole backlog's work too must fit in the target.
  const slots = Math.max(1, seen.slotsPerWorker);
  if (runs > 0) needed = Math.max(needed, Math.min(Math.ceil(workMs / (targetMs * slots)), Math.ceil(runs / slots)));
  return { needed, runs, workMs };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * The workers wanted now, why, and the next state. Scaling up is immediate (tasks wait); scaling
 * down waits until fewer workers have sufficed for `scaleDownMs` in a row (a short lull retires
 * nobody), and never goes below what the backlog still needs, nor outside the bounds.
 */
export function adaptiveTarget(seen: AdaptiveObservation, policy: AdaptivePolicy, state: AdaptiveState): AdaptiveDecision {
  const { needed, runs, workMs } = workersNeeded(seen, policy.targetMs);
  const wanted = Math.min(policy.maximum, Math.max(policy.minimum, needed));
  const load = runs === 0 ? 'no backlog' : `backlog ${runs} task run${runs === 1 ? '' : 's'} ≈ ${seconds(workMs)} of work`;
  const rule = wanted === policy.maximum && needed > wanted ? `, capped at the maximum ${policy.maximum}`
    : wanted === policy.minimum && needed < wanted ? `, kept at the minimum ${policy.minimum}` : '';
  const plan = `${load}: ${needed} worker${needed === 1 ? ' finishes' : 's finish'} it within ${seconds(policy.targetMs)}${rule}`;
  if (wanted >= seen.workers) return { target: wanted, reason: plan, state: INITIAL_ADAPTIVE_STATE };
  const lowSince = state.lowSince ?? seen.now;
  if (seen.now - lowSince < policy.scaleDownMs) return { target: seen.workers, reason: plan, state: { lowSince } };
  return { target: wanted, reason: `${plan}, for ${seconds(seen.now - lowSince)}`, state: INITIAL_ADAPTIVE_STATE };
}
