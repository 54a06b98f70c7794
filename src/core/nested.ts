import type { WireTaskDef } from '../protocol/messages.ts';

/**
 * Submission from inside a task that runs in a worker thread or child process of a local pool, or
 * on a cluster worker: the worker program installs a submitter that asks the flow's process to run
 * the task (on the same runner, recorded in the same flow run) and resolves its value, or rejects
 * as `future.result()` would. `getClient()` uses it there.
 *
 * @module
 */
export type NestedSubmitter = (parentTaskRunId: string, task: WireTaskDef, args: unknown[]) => Promise<unknown>;

const kSubmitter = Symbol.for('weft.nested-submitter');

/** @internal Called once by the worker program of a thread or process, and by a cluster worker. */
export function installNestedSubmitter(submitter: NestedSubmitter): void {
  (globalThis as { [kSubmitter]?: NestedSubmitter })[kSubmitter] = submitter;
}

/** The submitter of the worker this code runs in, if it is a pool's worker. */
export function nestedSubmitter(): NestedSubmitter | undefined {
  return (globalThis as { [kSubmitter]?: NestedSubmitter })[kSubmitter];
}
