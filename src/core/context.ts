import { AsyncLocalStorage } from 'node:async_hooks';
import { inspect } from 'node:util';
import { InvalidOptionError, UsageError } from '../errors.ts';
import type { LogLevel } from '../events/events.ts';
import { resolveResources, type Resources } from '../schedule/resources.ts';
import * as v from '../util/validate.ts';

/** Options that `annotate()` applies to every submit inside its callback. */
export interface Annotations {
  /** Higher runs sooner among queued tasks. */
  priority?: number;
  /** What each task holds while it runs, e.g. `{ GPU: 1 }`. */
  resources?: Resources;
  /** Retries for each task. */
  retries?: number;
}

/** A logger whose lines reach the flow's process, labelled with the task run. */
export interface RunLogger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

/** What code running inside a flow or a task can know about its run. */
export interface RunContext {
  readonly flowRunId: string | undefined;
  readonly flowName: string | undefined;
  /** Set inside a task. */
  readonly taskRunId: string | undefined;
  readonly taskName: string | undefined;
  /** 1 for the first attempt. */
  readonly attempt: number | undefined;
  /** Where the task runs: `main`, `thread-1`, `process-2`, a cluster worker id. */
  readonly workerId: string | undefined;
  /** Fires when the task run (or flow run) is cancelled or times out: stop work and return. */
  readonly signal: AbortSignal;
  readonly logger: RunLogger;
}

/** The engine-side handle of the current flow run, as the context sees it. */
export interface FlowRunScope {
  readonly id: string;
  readonly flowName: string;
  readonly signal: AbortSignal;
  log(taskRun: TaskScope | undefined, level: LogLevel, message: string): void;
}

/** The current task attempt. */
export interface TaskScope {
  readonly taskRunId: string;
  readonly taskName: string;
  readonly flowRunId: string;
  readonly attempt: number;
  readonly workerId: string;
  readonly signal: AbortSignal;
  /** Sends a log line to the flow's process. */
  log(level: LogLevel, message: string): void;
  /** The task is about to wait for other task runs: give its slot back until the returned rejoin is called. */
  secede?(): () => void;
}

export interface RunStore {
  /** The flow run in this process, when there is one (not in a worker). */
  readonly flowRun: FlowRunScope | undefined;
  readonly task: TaskScope | undefined;
  readonly annotations: Annotations | undefined;
}

const kStorage = Symbol.for('weft.run-storage');
/** One store per realm, shared by every copy of weft loaded in it. */
export const storage: AsyncLocalStorage<RunStore> = ((globalThis as { [kStorage]?: AsyncLocalStorage<RunStore> })[kStorage] ??= new AsyncLocalStorage<RunStore>());

export function currentStore(): RunStore | undefined {
  return storage.getStore();
}

/**
 * The run that the calling code belongs to: inside a task, its task run (with the `AbortSignal`
 * that fires on cancel or timeout); inside a flow, its flow run.
 *
 * @example
 * const fetchPage = task(async function fetchPage(url: string) {
 *   const { signal, logger } = getRunContext();
 *   logger.info('fetching', url);
 *   return (await fetch(url, { signal })).text();
 * });
 */
export function getRunContext(): RunContext {
  const store = storage.getStore();
  const task = store?.task;
  const flowRun = store?.flowRun;
  if (!task && !flowRun) {
    throw new UsageError('getRunContext() was called outside a flow run and outside a task: call it from code that a flow or a task runs.');
  }
  const log = (level: LogLevel) => (...args: unknown[]) => {
    const message = args.map((a) => (typeof a === 'string' ? a : inspectValue(a))).join(' ');
    if (task) task.log(level, message);
    else flowRun?.log(undefined, level, message);
  };
  return {
    flowRunId: task?.flowRunId ?? flowRun?.id,
    flowName: flowRun?.flowName,
    taskRunId: task?.taskRunId,
    taskName: task?.taskName,
    attempt: task?.attempt,
    workerId: task?.workerId,
    signal: (task?.signal ?? flowRun?.signal) as AbortSignal,
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
  };
}

// node:util is imported statically: a lazy import() may not have resolved when the first task
// logs (under a loader it takes a while), and objects were then logged as [object Object].
function inspectValue(value: unknown): string {
  return inspect(value, { depth: 4 });
}

const ANNOTATION_KEYS = ['priority', 'resources', 'retries'] as const;

/**
 * Applies options to every `submit` and `map` made inside `callback`, async code included, as
 * `dask.annotate`. Nested annotations merge, the innermost winning; annotations override the
 * options a task was defined with. Returns what `callback` returns.
 *
 * @example
 * await annotate({ priority: 10 }, async () => urgent.submit(1).result());
 */
export function annotate<R>(annotations: Annotations, callback: () => R): R {
  const raw = v.plainObject('annotations', annotations);
  v.knownKeys('annotations', raw, ANNOTATION_KEYS);
  const checked: Annotations = {};
  if (raw.priority !== undefined) {
    if (typeof raw.priority !== 'number' || !Number.isFinite(raw.priority)) throw new InvalidOptionError('annotations.priority', 'a finite number', raw.priority);
    checked.priority = raw.priority;
  }
  if (raw.retries !== undefined) checked.retries = v.integer('annotations.retries', raw.retries, 0);
  if (raw.resources !== undefined) checked.resources = resolveResources('annotations.resources', raw.resources);
  const outer = storage.getStore();
  const merged = { ...outer?.annotations, ...checked };
  return storage.run({ flowRun: outer?.flowRun, task: outer?.task, annotations: merged }, callback);
}
