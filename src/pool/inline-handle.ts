import { runAttempts, type AttemptHooks } from '../core/attempts.ts';
import type { RunnerContext, TaskJob, TaskOutcome } from '../core/task-runner.ts';
import { attemptEvents } from '../events/attempt-events.ts';
import { now } from '../events/events.ts';
import { NO_RESOURCES } from '../schedule/resources.ts';
import type { WorkerHandle } from './worker-handle.ts';

/** A slot on this event loop: tasks run here, sharing memory with the flow. */
export class InlineHandle implements WorkerHandle {
  readonly alive = true;
  readonly #hooks: AttemptHooks;

  constructor(
    readonly id: string,
    readonly context: RunnerContext,
  ) {
    this.#hooks = attemptEvents(context.events);
    context.events.emit('worker:joined', { workerId: id, resources: NO_RESOURCES, time: now() });
  }

  run(job: TaskJob): Promise<TaskOutcome> {
    return runAttempts(
      { taskRunId: job.taskRunId, flowRunId: job.flowRunId, fn: job.fn, args: job.args, options: job.options, cancellation: job.cancellation, workerId: this.id, readyTime: job.readyTime },
      this.#hooks,
      this.context.flowRun,
    );
  }

  async close(): Promise<void> {
    this.context.events.emit('worker:left', { workerId: this.id, reason: 'the task runner shut down', time: now() });
  }
}
