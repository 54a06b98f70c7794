/**
 * What a task running on a cluster worker can reach of that worker: its cluster's address (for
 * `getClient()`) and a way to give up its slot while it waits on nested tasks. Set once per
 * worker process; undefined elsewhere.
 */
export interface WorkerRuntime {
  readonly id: string;
  readonly address: { readonly url: string };
  /** Frees the calling task's slot while it waits; the returned function takes it back. */
  secede(): () => void;
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
