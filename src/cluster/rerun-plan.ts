/**
 * What a cluster worker does with a job it takes, when that job may have run before (its worker
 * died: BullMQ saw it stall, or an earlier worker split it out of a batch that stalled). Pure: the
 * caller asks Redis which runs were already delivered, then follows the plan.
 *
 * @module
 */

/** A job as the policy sees it. */
export interface JobRunState<T> {
  readonly tasks: readonly T[];
  /** Worker deaths this job's runs already went through, carried over when a batch is split. */
  readonly crashes: number;
  /** Times BullMQ found this job's worker gone (its lock lapsed) and moved the job back. */
  readonly stalls: number;
  /** Re-runs allowed after worker deaths before the runs crash. */
  readonly allowedFailures: number;
}

/**
 * - `run`: run these (a first run; or a re-run of one run, or of runs whose batch was already split);
 * - `skip`: every run was delivered before the worker died: nothing to do;
 * - `crash`: their workers died more than `allowedFailures` times: report them Crashed;
 * - `split`: a batch that stalled: queue each run as a job of its own, so a run that kills workers
 *   is not blamed on the others.
 */
export type RerunPlan<T> =
  | { readonly action: 'run'; readonly tasks: readonly T[] }
  | { readonly action: 'skip' }
  | { readonly action: 'crash'; readonly tasks: readonly T[]; readonly crashes: number }
  | { readonly action: 'split'; readonly tasks: readonly T[]; readonly crashes: number };

/** Whether the job may have run before, so that what was delivered must be looked up first. */
export function mayHaveRun(job: JobRunState<unknown>): boolean {
  return job.stalls > 0 || job.crashes > 0;
}

/** The plan for a job, given the ids of the runs already delivered to their client. */
export function rerunPlan<T extends { readonly taskRunId: string }>(job: JobRunState<T>, delivered: ReadonlySet<string>): RerunPlan<T> {
  if (!mayHaveRun(job)) return { action: 'run', tasks: job.tasks };
  const tasks = job.tasks.filter((t) => !delivered.has(t.taskRunId));
  if (tasks.length === 0) return { action: 'skip' };
  const crashes = job.crashes + job.stalls;
  if (crashes > job.allowedFailures) return { action: 'crash', tasks, crashes };
  if (tasks.length > 1 && job.stalls > 0) return { action: 'split', tasks, crashes };
  return { action: 'run', tasks };
}
