import type { ResolvedTaskOptions } from '../core/options.ts';
import type { AttemptEvent } from './attempt-events.ts';
import type { TaskRef } from './task-ref.ts';
import type { WireError } from './wire-error.ts';

/**
 * The protocol between a local pool (the flow's process) and its worker threads and child
 * processes. Every message is one member of these unions, told apart by `type`; a reply about a
 * job carries the job's `id` (a number unique within one worker's life).
 *
 * Messages are batched: the pool sends every job it hands a worker in one turn of the event loop as
 * one `run` message, and a worker sends what happened during one turn as one `batch`. That is what
 * lets 'threads' and 'processes' keep up with thousands of small tasks a second.
 *
 * @module
 */

/** A task's identity and options, sent to a worker once and named by a number afterwards. */
export interface WireTaskDef {
  readonly ref: TaskRef;
  readonly options: ResolvedTaskOptions;
}

/**
 * Task runs as they reach a worker, as columns: job `i` has id `firstId + i`, run id
 * `taskRunIds[i]`, arguments `args[i]` and task def number `defs[i]`. Columns, not one object per
 * job, because structured clone pays per object. A def travels whole once, in `newDefs` as
 * `[job index, def number, def]`, and the worker remembers it from that job on; def number 0 is
 * never remembered (the pool sends such defs whole every time).
 */
export interface WireJobs {
  readonly firstId: number;
  readonly taskRunIds: readonly string[];
  readonly args: readonly unknown[][];
  readonly defs: readonly number[];
  readonly newDefs: readonly (readonly [number, number, WireTaskDef])[];
}

/** One job as the worker queues it, expanded from {@link WireJobs}. */
export interface WireJob {
  readonly id: number;
  readonly taskRunId: string;
  readonly flowRunId: string;
  readonly args: unknown[];
  readonly def: number;
  readonly task: WireTaskDef | undefined;
}

/** The pool → worker messages. */
export type ToWorker =
  /** Run these jobs (all of one flow run: a runner serves one), one after another, in order. */
  | ({ readonly type: 'run'; readonly flowRunId: string } & WireJobs)
  /** Abort this job's signal (it is queued in the worker, or cooperative). */
  | { readonly type: 'cancel'; readonly id: number; readonly reason: string }
  /** Finish nothing more and exit. */
  | { readonly type: 'close' };

/** The worker → pool messages. */
export type FromWorker =
  /** The worker has loaded weft and the TypeScript loader and takes jobs. */
  | { readonly type: 'ready'; readonly pid: number }
  /** The worker could not start; it exits after sending this. */
  | { readonly type: 'start-failed'; readonly error: WireError }
  /** The worker is about to die of an uncaught error (a throw from a timer, say). */
  | { readonly type: 'fatal'; readonly error: WireError }
  /** What happened to jobs, in order; a job's attempt events name it by its job id. */
  | { readonly type: 'batch'; readonly events: readonly AttemptEvent<number>[] };

/** The data a worker program is started with (thread `workerData`, process environment). */
export interface WorkerBoot {
  readonly workerId: string;
}

/** A message port, as the worker side sees it: a thread's parentPort or a process's IPC channel. */
export interface WorkerPort {
  /** Sends a message; `transfer` is honoured by threads and ignored by processes. Throws if it cannot be cloned. */
  post(message: FromWorker, transfer?: readonly ArrayBuffer[]): void;
  onMessage(listener: (message: ToWorker) => void): void;
  /** Ends the worker program. */
  exit(code: number): never;
}
