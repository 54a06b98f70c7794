import { randomUUID } from 'node:crypto';
import { TaskRunError, UsageError } from '../errors.ts';
import { currentStore } from '../core/context.ts';
import { mapArgs, type Task, type Unmapped } from '../core/task.ts';
import { nestedSubmitter } from '../core/nested.ts';
import type { TaskOutcome } from '../core/task-runner.ts';
import type { EventSink } from '../events/events.ts';
import { ClusterSession } from './session.ts';
import { parseAddress } from './connection.ts';
import { workerRuntime, type WorkerRuntime } from './runtime.ts';

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
 * one-slot worker cannot deadlock on itself. On a local runner (sequential, async, threads,
 * processes) it submits to the flow run's own runner, and the runs are recorded in that flow run.
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
  const runtime = workerRuntime();
  if (!runtime) {
    // In the flow's process (sequential, async): the task submits to its flow run directly.
    if (store?.flowRun) return makeClient((task, args) => task.submit(...(args as never[])).result() as Promise<never>);
    // In a worker thread or child process of a local pool: through the flow's process, which
    // records the run in the same flow run and runs it on the same runner.
    const viaPool = nestedSubmitter();
    if (viaPool) return makeClient((task, args) => viaPool(scope.taskRunId, { ref: task.ref, options: task.options }, args) as Promise<never>);
    throw new UsageError('getClient() found no flow run to submit to: call it from inside a task that a flow run runs.');
  }
  const parent = { taskRunId: scope.taskRunId, flowRunId: scope.flowRunId };
  return makeClient(async (task, args) => {
    const client = await nestedClient(runtime);
    const taskRunId = `${parent.taskRunId}/${task.taskName}-${++counter}`;
    const release = runtime.lend(parent.taskRunId);
    let outcome: TaskOutcome;
    try {
      outcome = await client.submit({ taskRunId, flowRunId: parent.flowRunId, ref: task.ref, options: task.options, args }, undefined);
    } finally {
      release();
    }
    if (outcome.state === 'Completed') return outcome.value as never;
    throw outcome.state === 'Failed' ? new TaskRunError(task.taskName, taskRunId, outcome.error) : outcome.error;
  });
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

let counter = 0;
/** Nested runs' events have no flow run to go to yet. */
const NO_EVENTS: EventSink = { emit: () => undefined, has: () => false };
let shared: Promise<ClusterSession> | undefined;

/** One client per worker process, on its own result channel, for every nested submission. */
function nestedClient(runtime: WorkerRuntime): Promise<ClusterSession> {
  shared ??= ClusterSession.connect(parseAddress('address', runtime.address.url), `nested-${runtime.id}-${randomUUID().slice(0, 8)}`, {
    connectTimeoutMs: 5000, reconnectTimeoutMs: 5000, allowedFailures: 3, redis: undefined,
  }, NO_EVENTS).catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}
