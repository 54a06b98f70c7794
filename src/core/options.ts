import { InvalidOptionError } from '../errors.ts';
import { resolveResources, type Resources } from '../schedule/resources.ts';
import * as v from '../util/validate.ts';
import type { ResolvedTaskOptions, TaskRunner } from './task-runner.ts';

export type { ResolvedTaskOptions } from './task-runner.ts';
import type { FlowRunRecord } from './states.ts';
import type { AllowFailure } from './arguments.ts';
import { isStandardSchema, type StandardSchemaV1 } from './standard-schema.ts';

/** Options of a task, given to `task(fn, options)` or `t.withOptions(options)`. */
export interface TaskOptions {
  /** The task's name; defaults to the function's name. Must be unique within its module. */
  name?: string;
  /** How many times a failed attempt is tried again. @default 0 */
  retries?: number;
  /**
   * Milliseconds to wait before each retry: one number for every retry, or a list, one per retry
   * (the last repeats), as Prefect's `retry_delay_seconds`. @default 0
   */
  retryDelayMs?: number | readonly number[];
  /** An attempt running longer than this fails with `TaskTimeoutError`. Enforced where the task runs. @default Infinity */
  timeoutMs?: number;
  /** Higher runs sooner among queued tasks (FIFO within a priority). @default 0 */
  priority?: number;
  /** What the task holds while it runs, e.g. `{ GPU: 1 }`; runs only where that much is free. @default {} */
  resources?: Resources;
  /** Free-form labels, kept on the task run. @default [] */
  tags?: readonly string[];
}

/** Options of one submission: the task's options plus ordering without data. */
export interface SubmitOptions extends TaskOptions {
  /** Futures this run waits for (and fails with, unless given as `allowFailure(f)`) without taking their values. */
  waitFor?: readonly (PromiseLike<unknown> | AllowFailure<unknown>)[];
}


const TASK_KEYS = ['name', 'retries', 'retryDelayMs', 'timeoutMs', 'priority', 'resources', 'tags', 'waitFor'] as const;

/** Validates task options once; `base` holds already resolved values to override. */
export function resolveTaskOptions(raw: SubmitOptions | undefined, base: ResolvedTaskOptions | undefined, fallbackName: string): ResolvedTaskOptions {
  const o = raw === undefined ? {} : v.plainObject('options', raw);
  v.knownKeys('options', o, TASK_KEYS);
  const name = o.name !== undefined ? v.string('name', o.name) : (base?.name ?? fallbackName);
  return {
    name,
    retries: o.retries !== undefined ? v.integer('retries', o.retries, 0) : (base?.retries ?? 0),
    retryDelayMs: o.retryDelayMs !== undefined ? resolveDelays(o.retryDelayMs) : (base?.retryDelayMs ?? [0]),
    timeoutMs: o.timeoutMs !== undefined ? timerMs('timeoutMs', v.positiveOrInfinity('timeoutMs', o.timeoutMs), 'a number > 0 (milliseconds) or Infinity') : (base?.timeoutMs ?? Infinity),
    priority: o.priority !== undefined ? priority(o.priority) : (base?.priority ?? 0),
    resources: o.resources !== undefined ? resolveResources('resources', o.resources) : (base?.resources ?? resolveResources('resources', undefined)),
    tags: o.tags !== undefined ? tags(o.tags) : (base?.tags ?? []),
  };
}

function resolveDelays(value: unknown): readonly number[] {
  if (typeof value === 'number') return [timerMs('retryDelayMs', v.number('retryDelayMs', value, 0), 'a finite number ≥ 0')];
  if (!Array.isArray(value) || value.length === 0) {
    throw new InvalidOptionError('retryDelayMs', 'a number ≥ 0 or a non-empty list of them', value);
  }
  return value.map((d: unknown, i) => timerMs(`retryDelayMs[${i}]`, v.number(`retryDelayMs[${i}]`, d, 0), 'a finite number ≥ 0'));
}

function timerMs(option: string, value: number, expected: string): number {
  if (value > v.MAX_TIMER_MS && value !== Infinity) {
    throw new InvalidOptionError(option, `${expected}, at most ${v.MAX_TIMER_MS} (about 24.8 days, Node's longest timer)`, value);
  }
  return value;
}

function priority(value: unknown): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new InvalidOptionError('priority', 'a finite number', value);
  return value;
}

function tags(value: unknown): readonly string[] {
  if (!Array.isArray(value) || value.some((t) => typeof t !== 'string')) {
    throw new InvalidOptionError('tags', 'a list of strings', value);
  }
  return Object.freeze([...value] as string[]);
}

/** The delay before retry number `retry` (1-based). */
export function retryDelay(options: ResolvedTaskOptions, retry: number): number {
  const delays = options.retryDelayMs;
  return delays[Math.min(retry - 1, delays.length - 1)] ?? 0;
}

/** Options of a flow, given to `flow(fn, options)` or `f.withOptions(options)`. */
export interface FlowOptions<R = unknown> {
  /** The flow's name; defaults to the function's name. */
  name?: string;
  /** Where its tasks run. A fresh copy (`duplicate()`) serves each flow run. @default new SequentialTaskRunner() */
  taskRunner?: TaskRunner;
  /** Called with the run record when the flow run Completed. */
  onCompletion?: (run: FlowRunRecord<R>) => void | Promise<void>;
  /** Called with the run record when the flow run Failed, Crashed or was Cancelled. */
  onFailure?: (run: FlowRunRecord<R>) => void | Promise<void>;
  /** Called with the run record when the flow run ends, whatever the state. */
  onTerminal?: (run: FlowRunRecord<R>) => void | Promise<void>;
  /**
   * A Standard Schema (zod, valibot, arktype, ...) for the flow's parameters, as one object keyed
   * by parameter name (`z.object({ pages: z.coerce.number().int(), date: z.string() })`). Every
   * call and `weft run --param` is validated and coerced through it before the run starts; a
   * failure is {@link FlowParametersError}. `null` in `withOptions` drops an inherited schema.
   * @default undefined (no validation)
   */
  parameters?: StandardSchemaV1 | null;
}

export interface ResolvedFlowOptions<R> {
  readonly name: string;
  readonly taskRunner: TaskRunner | undefined;
  readonly onCompletion: FlowOptions<R>['onCompletion'];
  readonly onFailure: FlowOptions<R>['onFailure'];
  readonly onTerminal: FlowOptions<R>['onTerminal'];
  readonly parameters: StandardSchemaV1 | undefined;
}

const FLOW_KEYS = ['name', 'taskRunner', 'onCompletion', 'onFailure', 'onTerminal', 'parameters'] as const;

export function resolveFlowOptions<R>(raw: FlowOptions<R> | undefined, base: ResolvedFlowOptions<R> | undefined, fallbackName: string): ResolvedFlowOptions<R> {
  const o = raw === undefined ? {} : v.plainObject('options', raw);
  v.knownKeys('options', o, FLOW_KEYS);
  const hook = (key: 'onCompletion' | 'onFailure' | 'onTerminal') =>
    o[key] !== undefined ? (v.func(key, o[key]) as FlowOptions<R>['onCompletion']) : base?.[key];
  let taskRunner = base?.taskRunner;
  if (o.taskRunner !== undefined) {
    const r = o.taskRunner as Partial<TaskRunner>;
    if (typeof r !== 'object' || r === null || typeof r.submit !== 'function' || typeof r.duplicate !== 'function') {
      throw new InvalidOptionError('taskRunner', 'a task runner such as new ParallelTaskRunner()', o.taskRunner);
    }
    taskRunner = o.taskRunner as TaskRunner;
  }
  let parameters = base?.parameters;
  if (o.parameters === null) parameters = undefined;
  else if (o.parameters !== undefined) {
    if (!isStandardSchema(o.parameters)) throw new InvalidOptionError('parameters', 'a Standard Schema (a zod, valibot or arktype schema), or null', o.parameters);
    parameters = o.parameters;
  }
  return {
    name: o.name !== undefined ? v.string('name', o.name) : (base?.name ?? fallbackName),
    taskRunner,
    parameters,
    onCompletion: hook('onCompletion'),
    onFailure: hook('onFailure'),
    onTerminal: hook('onTerminal'),
  };
}
