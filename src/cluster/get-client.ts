import { UsageError } from '../errors.ts';
import { currentStore } from '../core/context.ts';
import { mapArgs, type Task, type Unmapped } from '../core/task.ts';
import { nestedSubmitter } from '../core/nested.ts';

/** Submits work from inside a task onto the cluster the task runs on (Dask's `get_client()`). */
export interface Client {
  /** Runs `task` with `args` on the cluster; resolves its value or rejects with TaskRunError. */
  submit<A extends unknown[], R>(task: Task<A, R>, ...args: A): Promise<Awaited<R>>;
  /** One run per element (zip, equally long iterables), `unmapped(x)` passed whole, as `task.map`. */
  map<A extends unknown[], R>(task: Task<A, R>, ...iterables: { [K in keyof A]: Iterable<A[K]> | Unmapped<A[K]> }): Promise<Awaited<R>>[];
  /** Waits for them all. */
  gather<T>(promises: readonly PromiseLike<T>[]): Promise<T[]>;
}

/**
 * A client of the cluster the calling task runs on, for nested fan-out: tasks that submit more
 * tasks. While a task waits on work it submitted this way it gives its worker slot back, so a
 * one-slot worker cannot deadlock on itself. On every runner it submits to the flow run's own
 * runner, and the runs are recorded in that flow run and emit on its event stream.
 *
 * @example
 * export const fanOut = task(async function fanOut(n: number) {
 *   const client = getClient();
 *   return client.gather(client.map(square, Array.from({ length: n }, (_, i) => i)));
 * });
 */
export function getClient(): Client {
  const store = currentStore();
  const scope = store?.task;
  if (!scope) throw new UsageError('getClient() was called outside a task: call it from inside a task that runs on a flow run.');
  // In the flow's process (sequential, async): the task submits to its flow run directly.
  if (store?.flowRun) return makeClient((task, args) => task.submit(...(args as never[])).result() as Promise<never>);
  // In a worker thread or child process of a local pool, or on a cluster worker: through the
  // flow's process, which records the run in the same flow run and runs it on the same runner.
  const viaWorker = nestedSubmitter();
  if (viaWorker) return makeClient((task, args) => viaWorker(scope.taskRunId, { ref: task.ref, options: task.options }, args) as Promise<never>);
  throw new UsageError('getClient() found no flow run to submit to: call it from inside a task that a flow run runs.');
}

type SubmitFn = (task: Task<unknown[], unknown>, args: unknown[]) => Promise<never>;

function makeClient(submit: SubmitFn): Client {
  const client: Client = {
    submit: (task, ...args) => submit(task as unknown as Task<unknown[], unknown>, args),
    // The same rules as task.map: iterables zipped (equally long), unmapped(x) passed whole.
    map: (task, ...iterables) => mapArgs(`getClient().map(${task.taskName})`, iterables).map((args) => submit(task as unknown as Task<unknown[], unknown>, args)),
    gather: (promises) => Promise.all(promises),
  };
  return client;
}
