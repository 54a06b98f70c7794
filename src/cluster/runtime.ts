import type { Lend } from '../core/task-runner.ts';

/**
 * What a task running on a cluster worker can reach of that worker: its cluster's address (for
 * `getClient()`) and a way to lend its slot while it waits on nested tasks. Set once per worker
 * process; undefined elsewhere.
 */
export interface WorkerRuntime {
  readonly id: string;
  readonly address: { readonly url: string };
  /** Lends the slot of task run `holder` while it waits (the worker pool's, counted per holder); the returned function takes it back. */
  readonly lend: Lend;
}

const kRuntime = Symbol.for('weft.cluster-worker-runtime');

/** @internal Called by the cluster worker when it starts. */
export function enterWorker(runtime: WorkerRuntime): void {
  (globalThis as { [kRuntime]?: WorkerRuntime })[kRuntime] = runtime;
}

/** The cluster worker this process is, if it is one. */
export function workerRuntime(): WorkerRuntime | undefined {
  return (globalThis as { [kRuntime]?: WorkerRuntime })[kRuntime];
}
