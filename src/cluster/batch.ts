import { requirementSignature } from './protocol.ts';
import type { TaskWire } from './protocol.ts';

/** What planning reads of a task run. */
type Planned = Pick<TaskWire, 'flowRunId' | 'options'>;

/** Tasks bound for one BullMQ job. */
export interface PlannedJob<T extends Planned = TaskWire> {
  readonly signature: string;
  /** The flow run of its tasks (a session's nested client sends for several), for fair share. */
  readonly flowRunId: string;
  readonly priority: number;
  readonly tasks: T[];
}

/** Most task runs in one job: big enough to amortise BullMQ's per-job Lua, small enough to spread. */
export const MAX_BATCH = 256;
/** A group is cut into at least this many jobs, so a map of slow tasks still spreads over the workers. */
export const MIN_JOBS_PER_GROUP = 16;

/**
 * Groups the task runs submitted in one turn into BullMQ jobs. Only runs of the same resource
 * requirement, priority and flow run share a job (so queue order and resource routing stay exact), runs
 * needing resources go one per job (a resource-holding task should go to whichever worker is
 * free), and a group of n runs becomes jobs of about n/16 runs, at most {@link MAX_BATCH}: a few
 * submissions go out one per job, thousands in a few dozen jobs. Pure.
 */
export function planJobs<T extends Planned>(tasks: readonly T[]): PlannedJob<T>[] {
  const groups = new Map<string, PlannedJob<T>>();
  let last: { options: T['options']; flowRunId: string; group: PlannedJob<T> } | undefined;
  for (const task of tasks) {
    // A map's runs come in a row with one options object: they join the previous run's group.
    if (last?.options === task.options && last.flowRunId === task.flowRunId) {
      last.group.tasks.push(task);
      continue;
    }
    const signature = requirementSignature(task.options.resources);
    const key = `${task.options.priority}|${signature}|${task.flowRunId}`;
    let group = groups.get(key);
    if (!group) groups.set(key, (group = { signature, flowRunId: task.flowRunId, priority: task.options.priority, tasks: [] }));
    group.tasks.push(task);
    last = { options: task.options, flowRunId: task.flowRunId, group };
  }
  const jobs: PlannedJob<T>[] = [];
  for (const group of groups.values()) {
    const n = group.tasks.length;
    const size = group.signature !== '' ? 1 : Math.max(1, Math.min(MAX_BATCH, Math.floor(n / MIN_JOBS_PER_GROUP)));
    for (let i = 0; i < n; i += size) jobs.push({ signature: group.signature, flowRunId: group.flowRunId, priority: group.priority, tasks: group.tasks.slice(i, i + size) });
  }
  // Higher priority first, so even the order of adding favours it.
  return jobs.sort((a, b) => b.priority - a.priority);
}
