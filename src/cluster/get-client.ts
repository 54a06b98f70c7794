import { randomUUID } from 'node:crypto';
import { TaskRunError, UsageError } from '../errors.ts';
import { currentStore } from '../core/context.ts';
import type { Task } from '../core/task.ts';
import type { TaskOutcome } from '../core/task-runner.ts';
import type { EventSink } from '../events/events.ts';
import { ClusterClient } from './client.ts';
import { parseAddress } from './connection.ts';
import { workerRuntime, type WorkerRuntime } from './runtime.ts';

/** Submits work from inside a task onto the cluster the task runs on (Dask's `get_client()`). */
export interface Client {
  /** Runs `task` with `args` on the cluster; resolves its value or rejects with TaskRunError. */
  submit<A extends unknown[], R>(task: Task<A, R>, ...args: A): Promise<Awaited<R>>;
  /** One run per element (zip), as `task.map`. */
  map<A extends unknown[], R>(task: Task<A, R>, ...iterables: { [K in keyof A]: Iterable<A[K]> }): Promise<Awaited<R>>[];
  /** Waits for them all. */
  gather<T>(promises: readonly PromiseLike<T>[]): Promise<T[]>;
}

/**
 * A client of the cluster the calling task runs on, for nested fan-out: tasks that submit more
 * tasks. While a task waits on work it submitted this way it gives its worker slot back, so a
 * one-slot worker cannot deadlock on itself. In a task that runs in the flow's process it submits
 * to the flow run's own runner.
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
    if (!store?.flowRun) throw new UsageError('getClient() found no cluster and no flow run to submit to: call it from a task that runs on a DistributedTaskRunner.');
    return makeClient((task, args) => task.submit(...(args as never[])).result() as Promise<never>);
  }
  const parent = { taskRunId: scope.taskRunId, flowRunId: scope.flowRunId };
  return makeClient(async (task, args) => {
    const client = await nestedClient(runtime);
    const taskRunId = `${parent.taskRunId}/${task.taskName}-${++counter}`;
    const release = waitingOn(runtime, parent.taskRunId);
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
    map: (task, ...iterables) => {
      const columns = iterables.map((it) => [...(it as Iterable<unknown>)]);
      const n = Math.min(...columns.map((c) => c.length));
      return Array.from({ length: n }, (_, i) => submit(task as unknown as Task<unknown[], unknown>, columns.map((c) => c[i])));
    },
    gather: (promises) => Promise.all(promises),
  };
  return client;
}

let counter = 0;
/** Nested runs' events have no flow run to go to yet. */
const NO_EVENTS: EventSink = { emit: () => undefined, has: () => false };
let shared: Promise<ClusterClient> | undefined;

/** One client per worker process, on its own result channel, for every nested submission. */
function nestedClient(runtime: WorkerRuntime): Promise<ClusterClient> {
  shared ??= ClusterClient.connect(parseAddress('address', runtime.address.url), `nested-${runtime.id}-${randomUUID().slice(0, 8)}`, {
    connectTimeoutMs: 5000, reconnectTimeoutMs: 5000, allowedFailures: 3, redis: undefined,
  }, NO_EVENTS).catch((error: unknown) => {
    shared = undefined;
    throw error;
  });
  return shared;
}

/** Nested submissions each parent task waits on; the parent's slot is given back while any is pending. */
const waiting = new Map<string, { count: number; rejoin: () => void }>();

function waitingOn(runtime: WorkerRuntime, parent: string): () => void {
  const entry = waiting.get(parent);
  if (entry) entry.count++;
  else waiting.set(parent, { count: 1, rejoin: runtime.secede() });
  return () => {
    const e = waiting.get(parent);
    if (!e || --e.count > 0) return;
    waiting.delete(parent);
    e.rejoin();
  };
}
