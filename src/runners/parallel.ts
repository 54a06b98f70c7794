import { availableParallelism } from 'node:os';
import { InvalidOptionError } from '../errors.ts';
import type { LifecycleState, RunnerContext, TaskJob, TaskOutcome, TaskRunner } from '../core/task-runner.ts';
import { InlineHandle } from '../pool/inline-handle.ts';
import { Pool } from '../pool/pool.ts';
import type { WorkerHandle } from '../pool/worker-handle.ts';
import { resolveResources, type Resources } from '../schedule/resources.ts';
import * as v from '../util/validate.ts';
import { poolOf } from './sequential.ts';

/** Where a {@link ParallelTaskRunner} runs its tasks. */
export const Scheduler = {
  /** Concurrently on the flow's event loop: IO-bound work, shared memory, no copies. */
  async: 'async',
  /** On worker threads: CPU-bound work; ArrayBuffers can move without copies. */
  threads: 'threads',
  /** In child processes: isolation; a crash or a hard kill stays there. */
  processes: 'processes',
} as const;
export type Scheduler = (typeof Scheduler)[keyof typeof Scheduler];

export interface ParallelTaskRunnerOptions {
  /** Where tasks run. @default 'async' */
  scheduler?: Scheduler;
  /**
   * How many tasks run at once: tasks in flight for 'async', threads or processes otherwise.
   * Minimum 1. @default os.availableParallelism()
   */
  workers?: number;
  /** What the runner has in all, for tasks that declare `resources` (e.g. `{ GPU: 1 }`). @default {} */
  resources?: Resources;
}

export interface ResolvedParallelOptions {
  readonly scheduler: Scheduler;
  readonly workers: number;
  readonly resources: Resources;
}

export function resolveParallelOptions(raw: ParallelTaskRunnerOptions | undefined): ResolvedParallelOptions {
  const o = v.plainObject('options', raw ?? {});
  v.knownKeys('options', o, ['scheduler', 'workers', 'resources']);
  const scheduler = o.scheduler ?? 'async';
  if (!Object.values(Scheduler).includes(scheduler as Scheduler)) {
    throw new InvalidOptionError('scheduler', `one of ${Object.values(Scheduler).map((s) => `'${s}'`).join(', ')}`, scheduler);
  }
  return {
    scheduler: scheduler as Scheduler,
    workers: o.workers === undefined ? availableParallelism() : v.integer('workers', o.workers, 1),
    resources: resolveResources('resources', o.resources),
  };
}

/** Makes the worker handles of the 'threads' and 'processes' schedulers (set by their modules). */
export type HandleFactory = (index: number, context: RunnerContext, options: ResolvedParallelOptions) => WorkerHandle | Promise<WorkerHandle>;
const handleFactories = new Map<Scheduler, HandleFactory>();

/** @internal Registers how a scheduler makes its workers. */
export function registerScheduler(scheduler: Scheduler, factory: HandleFactory): void {
  handleFactories.set(scheduler, factory);
}
registerScheduler('async', (index, context) => new InlineHandle(`async-${index}`, context));

/**
 * Runs tasks concurrently: on the event loop ('async', Prefect's `ThreadPoolTaskRunner`), on
 * worker threads ('threads', Prefect 1's `LocalDaskExecutor()`), or in child processes
 * ('processes', `LocalDaskExecutor(scheduler="processes")`). Queued tasks start by priority.
 *
 * @example
 * const io = myFlow.withOptions({ taskRunner: new ParallelTaskRunner({ scheduler: 'async', workers: 12 }) });
 */
export class ParallelTaskRunner implements TaskRunner {
  readonly options: ResolvedParallelOptions;
  readonly #raw: ParallelTaskRunnerOptions | undefined;
  #pool: Pool | undefined;

  constructor(options?: ParallelTaskRunnerOptions) {
    this.options = resolveParallelOptions(options);
    this.#raw = options;
  }

  get name(): string {
    return `parallel(${this.options.scheduler}, ${this.options.workers})`;
  }

  get serializes(): boolean {
    return this.options.scheduler !== 'async';
  }

  get capacity(): Resources {
    return this.options.resources;
  }

  get state(): LifecycleState {
    return this.#pool?.state ?? 'idle';
  }

  async start(context: RunnerContext): Promise<void> {
    const factory = handleFactories.get(this.options.scheduler);
    if (!factory) throw new InvalidOptionError('scheduler', 'a scheduler this build of weft supports', this.options.scheduler);
    this.#pool ??= new Pool({
      size: this.options.workers,
      resources: this.options.resources,
      createHandle: (index) => factory(index, context, this.options),
    });
    await this.#pool.start();
  }

  submit(job: TaskJob): Promise<TaskOutcome> {
    return poolOf(this.#pool).submit(job);
  }

  async cancel(reason = 'the task runner was cancelled'): Promise<void> {
    this.#pool?.cancelQueued(reason);
  }

  async shutdown(): Promise<void> {
    await this.#pool?.shutdown();
  }

  duplicate(): ParallelTaskRunner {
    return new ParallelTaskRunner(this.#raw);
  }
}
