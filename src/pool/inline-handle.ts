import type { Lend, RunnerContext, TaskJob, TaskOutcome } from '../core/task-runner.ts';
import { LiveRun } from '../core/live-run.ts';
import { now } from '../events/events.ts';
import { NO_RESOURCES } from '../schedule/resources.ts';
import type { WorkerHandle } from './worker-handle.ts';

/** A slot on this event loop: tasks run here, sharing memory with the flow. */
export class InlineHandle implements WorkerHandle {
  readonly alive = true;

  constructor(
    readonly id: string,
    readonly context: RunnerContext,
  ) {
    context.events.emit('worker:joined', { workerId: id, resources: NO_RESOURCES, time: now() });
  }

  run(job: TaskJob, _crashes?: number, lend?: Lend): Promise<TaskOutcome> {
    return job.runHere(this.id, lend);
  }

  runThen(job: TaskJob, _crashes: number, lend: Lend, done: (outcome: TaskOutcome) => void): void {
    // The engine's own runs report their end by callback; any other job through its promise.
    if (job instanceof LiveRun) job.runHereThen(this.id, lend, done);
    else void job.runHere(this.id, lend).then(done);
  }

  async close(): Promise<void> {
    this.context.events.emit('worker:left', { workerId: this.id, reason: 'the task runner shut down', time: now() });
  }
}
