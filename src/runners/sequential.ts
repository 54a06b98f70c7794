import type { LifecycleState, RunnerContext, TaskJob, TaskOutcome, TaskRunner } from '../core/task-runner.ts';
import { InlineHandle } from '../pool/inline-handle.ts';
import { Pool } from '../pool/pool.ts';
import { resolveResources, type Resources } from '../schedule/resources.ts';
import * as v from '../util/validate.ts';

export interface SequentialTaskRunnerOptions {
  /** What this runner has, for tasks that declare `resources`. @default {} */
  resources?: Resources;
}

/**
 * Runs one task at a time, in the flow's process, in priority order (Prefect 1's
 * `LocalExecutor`). The default runner of a flow.
 *
 * @example
 * const f = myFlow.withOptions({ taskRunner: new SequentialTaskRunner() });
 */
export class SequentialTaskRunner implements TaskRunner {
  readonly name = 'sequential';
  readonly serializes = false;
  readonly capacity: Resources;
  readonly #options: SequentialTaskRunnerOptions;
  #pool: Pool | undefined;

  constructor(options: SequentialTaskRunnerOptions = {}) {
    const o = v.plainObject('options', options);
    v.knownKeys('options', o, ['resources']);
    this.capacity = resolveResources('resources', o.resources);
    this.#options = options;
  }

  get state(): LifecycleState {
    return this.#pool?.state ?? 'idle';
  }

  async start(context: RunnerContext): Promise<void> {
    this.#pool ??= new Pool({ size: 1, resources: this.capacity, createHandle: () => new InlineHandle('main', context) });
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

  secede(): () => void {
    return this.#pool?.lend() ?? (() => {});
  }

  duplicate(): SequentialTaskRunner {
    return new SequentialTaskRunner(this.#options);
  }
}

/** The pool of a started runner; `submit` before `start` resolves Failed with a clear error. */
export function poolOf(pool: Pool | undefined): Pool {
  return pool ?? notStarted;
}

const notStarted = new Pool({ size: 0, resources: {}, createHandle: () => { throw new Error('unreachable'); } });
