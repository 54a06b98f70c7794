import type { AttemptHooks } from '../core/attempts.ts';
import type { EventBus } from './bus.ts';
import { now } from './events.ts';

/** Attempt hooks that turn task runs' progress into events on a flow run's bus; one per worker. */
export function attemptEvents(events: EventBus): AttemptHooks {
  return {
    started: (r, attempt) => events.emit('task-run:started', { flowRunId: r.flowRunId, taskRunId: r.taskRunId, taskName: r.options.name, attempt, workerId: r.workerId, time: now() }),
    retried: (r, attempt, error, delayMs) =>
      events.emit('task-run:retried', { flowRunId: r.flowRunId, taskRunId: r.taskRunId, taskName: r.options.name, attempt, delayMs, error: error as Error, workerId: r.workerId, time: now() }),
    log: (r, level, message) => events.emit('task-run:log', { flowRunId: r.flowRunId, taskRunId: r.taskRunId, taskName: r.options.name, level, message, workerId: r.workerId, time: now() }),
  };
}
