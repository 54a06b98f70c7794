import { runAttempts } from '../core/attempts.ts';
import type { RunnerContext, TaskJob, TaskOutcome } from '../core/task-runner.ts';
import { attemptEvents } from '../events/attempt-events.ts';
import type { WorkerHandle } from './worker-handle.ts';

/** A slot on this event loop: tasks run here, sharing memory with the flow. */
export class InlineHandle implements WorkerHandle {
  readonly alive = true;

  constructor(
    readonly id: string,
    readonly context: RunnerContext,
  ) {}

  run(job: TaskJob): Promise<TaskOutcome> {
    const { context } = this;
    return runAttempts(
      { ...job, workerId: this.id },
      attemptEvents(context.events, job.flowRunId, job.taskRunId, job.options.name, this.id),
      context.flowRun,
    );
  }

  async close(): Promise<void> {}
}
