import { availableParallelism } from 'node:os';
import { InvalidOptionError } from '../errors.ts';
import type { RunnerContext } from '../core/task-runner.ts';
import { InlineHandle } from '../pool/inline-handle.ts';
import { startProcess } from '../pool/process-handle.ts';
import { startThread } from '../pool/thread-handle.ts';
import { Pool } from '../pool/pool.ts';
import type { WorkerHandle } from '../pool/worker-handle.ts';
import { resolveResources, type Resources } from '../schedule/resources.ts';
import * as v from '../util/validate.ts';
import { PoolRunner } from './pool-runner.ts';
import { checkReportPath } from '../report/report-path.ts';

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
  /**
   * 'threads' and 'processes' only: the heap limit of each worker, in MB (a thread's
   * `resourceLimits.maxOldGenerationSizeMb`, a process's `--max-old-space-size`). A task that needs
   * more crashes its worker alone (`WorkerCrashedError`); the worker is replaced. Minimum 16.
   * @default Node's own limit
   */
  maxHeapMb?: number;
  /** Write the run's HTML performance report here when it ends (its directory must exist and be writable). */
  performanceReport?: string;
}

export interface ResolvedParallelOptions {
  readonly scheduler: Scheduler;
  readonly workers: number;
  readonly resources: Resources;
  readonly maxHeapMb: number | undefined;
  readonly performanceReport: string | undefined;
}

export function resolveParallelOptions(raw: ParallelTaskRunnerOptions | undefined): ResolvedParallelOptions {
  const o = v.plainObject('options', raw ?? {});
  v.knownKeys('options', o, ['scheduler', 'workers', 'resources', 'maxHeapMb', 'performanceReport']);
  const scheduler = o.scheduler ?? 'async';
  if (!Object.values(Scheduler).includes(scheduler as Scheduler)) {
    throw new InvalidOptionError('scheduler', `one of ${Object.values(Scheduler).map((s) => `'${s}'`).join(', ')}`, scheduler);
  }
  return {
    scheduler: scheduler as Scheduler,
    workers: o.workers === undefined ? availableParallelism() : v.integer('workers', o.workers, 1),
    resources: resolveResources('resources', o.resources),
    maxHeapMb: resolveMaxHeap(scheduler as Scheduler, o.maxHeapMb),
    performanceReport: o.performanceReport === undefined ? undefined : checkReportPath('performanceReport', o.performanceReport),
  };
}

function resolveMaxHeap(scheduler: Scheduler, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  if (scheduler === 'async') {
    throw new InvalidOptionError('maxHeapMb', "left out with scheduler 'async' (tasks share the flow's heap); use 'threads' or 'processes' to limit a worker's heap", value);
  }
  return v.integer('maxHeapMb', value, 16);
}

/**
 * Makes the worker handles of a scheduler. `serial` numbers every worker a runner starts (a
 * replacement gets a new one), so worker ids in events are never reused.
 */
export type HandleFactory = (serial: number, context: RunnerContext, options: ResolvedParallelOptions) => WorkerHandle | Promise<WorkerHandle>;
const handleFactories = new Map<Scheduler, HandleFactory>();

/** @internal Registers how a scheduler makes its workers. */
export function registerScheduler(scheduler: Scheduler, factory: HandleFactory): void {
  handleFactories.set(scheduler, factory);
}
registerScheduler('async', (serial, context) => new InlineHandle(`async-${serial}`, context));
registerScheduler('threads', (serial, context, options) => startThread(`thread-${serial}`, context, options));
registerScheduler('processes', (serial, context, options) => startProcess(`process-${serial}`, context, options));

/**
 * How many short jobs a busy thread or process may hold ahead of the one it runs: enough to cover
 * a round trip at tens of microseconds per task (see Pool).
 */
const PIPELINE_DEPTH = 32;

/**
 * Runs tasks concurrently: on the event loop ('async', Prefect's `ThreadPoolTaskRunner`), on
 * worker threads ('threads', Prefect 1's `LocalDaskExecutor()`), or in child processes
 * ('processes', `LocalDaskExecutor(scheduler="processes")`). Queued tasks start by priority.
 *
 * @example
 * const io = myFlow.withOptions({ taskRunner: new ParallelTaskRunner({ scheduler: 'async', workers: 12 }) });
 */
export class ParallelTaskRunner extends PoolRunner {
  readonly options: ResolvedParallelOptions;
  readonly #raw: ParallelTaskRunnerOptions | undefined;

  constructor(options?: ParallelTaskRunnerOptions) {
    super();
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

  get performanceReport(): string | undefined {
    return this.options.performanceReport;
  }

  protected makePool(context: RunnerContext): Pool {
    const factory = handleFactories.get(this.options.scheduler);
    if (!factory) throw new InvalidOptionError('scheduler', 'a scheduler this build of weft supports', this.options.scheduler);
    let serial = 0;
    return new Pool({
      size: this.options.workers,
      resources: this.options.resources,
      pipelineDepth: this.options.scheduler === 'async' ? 1 : PIPELINE_DEPTH,
      // Threads and processes take a while to start: start them as work arrives.
      lazy: this.options.scheduler !== 'async',
      createHandle: () => factory(serial++, context, this.options),
    });
  }

  duplicate(): ParallelTaskRunner {
    return new ParallelTaskRunner(this.#raw);
  }
}
