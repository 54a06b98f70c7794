import { submitThen, type DirectSubmit, type LifecycleState, type RunnerContext, type TaskJob, type TaskOutcome, type TaskRunner } from '../core/task-runner.ts';
import { Pool, type JobDone } from '../pool/pool.ts';
import type { Resources } from '../schedule/resources.ts';

/**
 * What every local runner shares: a {@link Pool} made when the flow run starts it, and the
 * TaskRunner methods that go to that pool. A runner says only how its pool is made.
 */
export abstract class PoolRunner implements TaskRunner, DirectSubmit {
  abstract readonly name: string;
  abstract readonly serializes: boolean;
  abstract readonly capacity: Resources;
  #pool: Pool | undefined;

  /** The pool for one flow run, made once, at `start()`. */
  protected abstract makePool(context: RunnerContext): Pool;

  abstract duplicate(): TaskRunner;

  get state(): LifecycleState {
    return this.#pool?.state ?? 'idle';
  }

  async start(context: RunnerContext): Promise<void> {
    this.#pool ??= this.makePool(context);
    await this.#pool.start();
  }

  /** Before `start()` this resolves Failed with an error saying to start the runner first. */
  submit(job: TaskJob): Promise<TaskOutcome> {
    return (this.#pool ?? notStarted).submit(job);
  }

  /** The engine's path (see {@link DirectSubmit}): the pool's callback, no promise per job. */
  [submitThen](job: TaskJob, done: JobDone): boolean {
    // A subclass that overrides submit() sees every job, as it would without this path.
    if (this.submit !== PoolRunner.prototype.submit) return false;
    (this.#pool ?? notStarted).enqueue(job, done);
    return true;
  }

  async shutdown(): Promise<void> {
    await this.#pool?.shutdown();
  }
}

const notStarted = new Pool({ size: 0, resources: {}, createHandle: () => { throw new Error('unreachable: a pool of size 0 makes no workers'); } });
