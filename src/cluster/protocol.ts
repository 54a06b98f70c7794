/**
 * What crosses Redis between a flow's process (the client) and cluster workers: the job payload,
 * and the typed messages workers send back. Every payload is v8-serialized (structured clone), so
 * Maps, Dates, typed arrays and Errors survive the trip. Key names and queues: `queues.ts`.
 */
import type { ResolvedTaskOptions } from '../core/options.ts';
import type { TaskRef } from '../protocol/task-ref.ts';
import type { AttemptEvent } from '../protocol/attempt-events.ts';
import type { SubmittedResult, WireTaskDef } from '../protocol/messages.ts';
import type { Resources } from '../schedule/resources.ts';

/**
 * One task run inside a job. The whole batch is v8-serialized at once (per-task serialization cost
 * a fifth of the time of a no-op task); only when that fails is each task's `args` tried alone,
 * to fail just the task with the value that cannot cross, naming its path.
 */
export interface TaskWire {
  readonly taskRunId: string;
  readonly flowRunId: string;
  readonly ref: TaskRef;
  readonly options: ResolvedTaskOptions;
  readonly args: readonly unknown[];
}

/** The decoded payload of one BullMQ job: a batch of task runs bound for one result channel. */
export interface BatchPayload {
  /** The result list the worker pushes messages to. */
  readonly channel: string;
  readonly tasks: readonly TaskWire[];
  /** How many times this batch's tasks already lost their worker (carried over when a batch is split). */
  readonly crashes: number;
  /** Re-runs allowed after worker deaths before the tasks crash. */
  readonly allowedFailures: number;
}


/**
 * What a worker sends one client in one turn: one element of the client's result list. Its events
 * are the {@link AttemptEvent}s every transport speaks, naming runs by task run id, with times on
 * the cluster's clock (the worker adds its measured offset to Redis's `TIME`; see cluster/clock.ts).
 */
export interface WorkerBatch {
  readonly workerId: string;
  /** The events in order, packed ({@link packEvents}). */
  readonly events: readonly unknown[];
  /** Task runs that tasks running on the worker submit to their flow run (`getClient()`). */
  readonly submits?: readonly NestedSubmit[];
}

/** Entries of a Completed 'done' in a packed list: id, serviceMs, attempt, startTime, value. */
const DONE_ENTRIES = 5;

/**
 * A worker's events as they travel: a Completed 'done' (nearly every event of short tasks: its
 * 'started' rides on it) as five entries, its id (a string) first; any other event as its object.
 * A cloned object writes every key and its type and state strings again (about 60 bytes a run),
 * and the reader's deserializer builds it key by key. The order stays as it was.
 */
export function packEvents(events: readonly AttemptEvent<string>[]): unknown[] {
  const out: unknown[] = [];
  for (const e of events) {
    if (e.type === 'done' && e.state === 'Completed') out.push(e.id, e.serviceMs, e.attempt, e.startTime, e.value);
    else out.push(e);
  }
  return out;
}

/** Calls `each` with every event of a packed list ({@link packEvents}), in order. */
export function unpackEvents(entries: readonly unknown[], each: (event: AttemptEvent<string>) => void): void {
  for (let i = 0; i < entries.length; ) {
    const entry = entries[i];
    if (typeof entry !== 'string') {
      each(entry as AttemptEvent<string>);
      i++;
      continue;
    }
    const attempt = entries[i + 2] as number | undefined;
    const serviceMs = entries[i + 1] as number;
    const value = entries[i + 4];
    // Absent, not undefined, when the start went on its own (as AttemptBatch leaves it).
    each(attempt === undefined
      ? { type: 'done', id: entry, serviceMs, state: 'Completed', value }
      : { type: 'done', id: entry, serviceMs, attempt, startTime: entries[i + 3] as number, state: 'Completed', value });
    i += DONE_ENTRIES;
  }
}

/**
 * A task on a cluster worker submits a task run to its flow run (`getClient()`): the flow's process
 * records it and runs it on the same runner, as any of its task runs, and answers on `replyTo`
 * with a {@link NestedAnswers} element. `parentTaskRunId` is the submitting task's run.
 */
export interface NestedSubmit {
  readonly requestId: number;
  readonly parentTaskRunId: string;
  readonly task: WireTaskDef;
  /** Encoded as for a job (envelopes for marked class instances), passed on as they are. */
  readonly args: readonly unknown[];
  /** The worker's answer channel (its result list is `keys.results(prefix, replyTo)`). */
  readonly replyTo: string;
}

/** The flow's answers to {@link NestedSubmit}s, one element of a worker's answer list. */
export interface NestedAnswers {
  readonly answers: readonly SubmittedResult[];
}

/** Messages on the control channel, seen by every worker. */
export type ControlMessage =
  | { readonly type: 'cancel'; readonly flowRunId: string; readonly taskRunIds: readonly string[] | undefined; readonly reason: string }
  | { readonly type: 'requirement'; readonly signature: string };

/** A worker's entry in the registry. */
export interface WorkerInfo {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly concurrency: number;
  readonly resources: Resources;
  readonly root: string;
  readonly startedAt: number;
  /** Last heartbeat, epoch ms. */
  readonly beat: number;
  /** Task runs executing in its slots at the last heartbeat (`weft cluster status`). */
  readonly running?: number;
  /** Task runs it had taken in (its jobs' runs, executing or waiting for a slot) at the last heartbeat. */
  readonly held?: number;
  /** Recent mean run time of its tasks, ms, by requirement signature (what adaptive scaling weighs the backlog by). */
  readonly taskMs?: Readonly<Record<string, number>>;
}

/** How often workers refresh their registry entry, and how stale an entry may get before the worker counts as gone. */
export const HEARTBEAT_MS = 1000;
export const HEARTBEAT_STALE_MS = 5000;

const signatures = new WeakMap<Resources, string>();

/** A stable text form of a resource requirement: `GPU=1,process=1` (names sorted); '' for none. Cached per (frozen) resources object. */
export function requirementSignature(resources: Resources): string {
  let signature = signatures.get(resources);
  if (signature === undefined) {
    signature = Object.keys(resources).sort().map((name) => `${name}=${resources[name]}`).join(',');
    signatures.set(resources, signature);
  }
  return signature;
}

/** Parses a requirement signature back (the inverse of {@link requirementSignature}). */
export function parseSignature(signature: string): Resources {
  const out: Record<string, number> = {};
  for (const part of signature.split(',').filter(Boolean)) {
    const [name, amount] = part.split('=');
    if (name && amount !== undefined) out[name] = Number(amount);
  }
  return out;
}
