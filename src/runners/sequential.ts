import type { RunnerContext } from '../core/task-runner.ts';
import { InlineHandle } from '../pool/inline-handle.ts';
import { Pool } from '../pool/pool.ts';
import { resolveResources, type Resources } from '../schedule/resources.ts';
import * as v from '../util/validate.ts';
import { PoolRunner } from './pool-runner.ts';
import { checkReportPath } from '../report/report-path.ts';

export interface SequentialTaskRunnerOptions {
  /** What this runner has, for tasks that declare `resources`. @default {} */
  resources?: Resources;
  /** Write the run's HTML performance report here when it ends (its directory must exist and be writable). */
  performanceReport?: string;
}

/**
 * Runs one task at a time, in the flow's process, in priority order (Prefect 1's
 * `LocalExecutor`). The default runner of a flow.
 *
 * @example
 * const f = myFlow.withOptions({ taskRunner: new SequentialTaskRunner() });
 */
export class SequentialTaskRunner extends PoolRunner {
  readonly name = 'sequential';
  readonly serializes = false;
  readonly capacity: Resources;
  readonly performanceReport: string | undefined;
  readonly #options: SequentialTaskRunnerOptions;

  constructor(options: SequentialTaskRunnerOptions = {}) {
    super();
    const o = v.plainObject('options', options);
    v.knownKeys('options', o, ['resources', 'performanceReport']);
    this.capacity = resolveResources('resources', o.resources);
    this.performanceReport = o.performanceReport === undefined ? undefined : checkReportPath('performanceReport', o.performanceReport);
    this.#options = options;
  }

  protected makePool(context: RunnerContext): Pool {
    return new Pool({ size: 1, resources: this.capacity, createHandle: () => new InlineHandle('main', context) });
  }

  duplicate(): SequentialTaskRunner {
    return new SequentialTaskRunner(this.#options);
  }
}
