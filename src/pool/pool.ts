import { CancelledError, UsageError } from '../errors.ts';
import type { LifecycleState, TaskJob, TaskOutcome } from '../core/task-runner.ts';
import { ReadyQueue } from '../schedule/ready-queue.ts';
import { isEmpty, ResourcePool, type Resources } from '../schedule/resources.ts';
import type { WorkerHandle } from './worker-handle.ts';

export interface PoolOptions {
  /** How many workers (slots) run tasks at once. */
  readonly size: number;
  /** What the pool's workers have in all; a running task holds its `resources` from it. */
  readonly resources: Resources;
  /** Makes worker number `index` (0-based); called again with the same index to replace a dead one. */
  createHandle(index: number): WorkerHandle | Promise<WorkerHandle>;
}

interface Entry {
  readonly job: TaskJob;
  readonly resolve: (outcome: TaskOutcome) => void;
}

/**
 * A local pool: queued jobs start by priority (FIFO within a priority) on idle workers, holding
 * their resources while they run. Workers that die are replaced. The same pool serves the 'async',
 * 'threads' and 'processes' schedulers; only the {@link WorkerHandle} differs.
 */
export class Pool {
  readonly #options: PoolOptions;
  readonly #queue = new ReadyQueue<Entry>();
  readonly #idle: WorkerHandle[] = [];
  readonly #handles = new Map<number, WorkerHandle>();
  readonly #indexOf = new Map<WorkerHandle, number>();
  readonly #resources: ResourcePool;
  readonly #usesResources: boolean;
  #state: LifecycleState = 'idle';

  constructor(options: PoolOptions) {
    this.#options = options;
    this.#resources = new ResourcePool(options.resources);
    this.#usesResources = !isEmpty(options.resources);
  }

  get state(): LifecycleState {
    return this.#state;
  }

  /** Jobs waiting for a worker. */
  get queued(): number {
    return this.#queue.size;
  }

  async start(): Promise<void> {
    if (this.#state !== 'idle') return;
    this.#state = 'starting';
    try {
      const handles = await Promise.all(Array.from({ length: this.#options.size }, (_, i) => this.#options.createHandle(i)));
      handles.forEach((h, i) => this.#adopt(h, i));
      this.#state = 'running';
    } catch (error) {
      this.#state = 'failed';
      await this.#closeAll();
      throw error;
    }
    this.#pump();
  }

  submit(job: TaskJob): Promise<TaskOutcome> {
    if (this.#state !== 'running') {
      return Promise.resolve({ state: 'Failed', error: new UsageError(`The task runner is ${this.#state}, not running: start() it before submitting work.`) });
    }
    return new Promise<TaskOutcome>((resolve) => {
      this.#queue.push({ job, resolve }, job.options.priority);
      this.#pump();
    });
  }

  /** Resolves every queued job as Cancelled. */
  cancelQueued(reason: string): void {
    const error = new CancelledError(reason);
    for (const entry of this.#queue.drain()) entry.resolve({ state: 'Cancelled', error });
  }

  /** Drops queued work and stops every worker. */
  async shutdown(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'draining';
    this.cancelQueued('the task runner shut down');
    await this.#closeAll();
    this.#state = 'closed';
  }

  #pump(): void {
    while (this.#idle.length > 0 && this.#queue.size > 0 && this.#state === 'running') {
      const entry = this.#usesResources ? this.#queue.popFirst((e) => e.job.cancellation.aborted || this.#resources.fits(e.job.options.resources)) : this.#queue.pop();
      if (!entry) return;
      const { job } = entry;
      if (job.cancellation.aborted) {
        const reason = job.cancellation.reason;
        entry.resolve({ state: 'Cancelled', error: reason instanceof Error ? reason : new CancelledError('the task run was cancelled') });
        continue;
      }
      const handle = this.#idle.pop() as WorkerHandle;
      const need = job.options.resources;
      if (this.#usesResources) this.#resources.acquire(need);
      handle.run(job).then((outcome) => {
        if (this.#usesResources) this.#resources.release(need);
        entry.resolve(outcome);
        this.#release(handle);
      });
    }
  }

  #release(handle: WorkerHandle): void {
    if (this.#state !== 'running') return;
    if (handle.alive) {
      this.#idle.push(handle);
      this.#pump();
      return;
    }
    const index = this.#indexOf.get(handle) as number;
    this.#indexOf.delete(handle);
    void Promise.resolve()
      .then(() => this.#options.createHandle(index))
      .then(
        (fresh) => {
          if (this.#state !== 'running') return void fresh.close();
          this.#adopt(fresh, index);
          this.#pump();
        },
        (error: unknown) => {
          this.#state = 'failed';
          const reason = `a replacement worker could not start: ${error instanceof Error ? error.message : String(error)}`;
          for (const entry of this.#queue.drain()) entry.resolve({ state: 'Crashed', error: new CancelledError(reason) });
        },
      );
  }

  #adopt(handle: WorkerHandle, index: number): void {
    this.#handles.set(index, handle);
    this.#indexOf.set(handle, index);
    this.#idle.push(handle);
  }

  async #closeAll(): Promise<void> {
    const handles = [...this.#handles.values()];
    this.#handles.clear();
    this.#idle.length = 0;
    await Promise.all(handles.map((h) => h.close()));
  }
}
