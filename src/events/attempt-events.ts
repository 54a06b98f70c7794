import type { AttemptHooks } from '../core/attempts.ts';
import type { EventBus } from './bus.ts';
import { now } from './events.ts';

/** Attempt hooks that turn a task run's progress into events on a flow run's bus. */
export function attemptEvents(events: EventBus, flowRunId: string, taskRunId: string, taskName: string, workerId: string): AttemptHooks {
  return {
    started: (attempt) => events.emit('task-run:started', { flowRunId, taskRunId, taskName, attempt, workerId, time: now() }),
    retried: (attempt, error, delayMs) => events.emit('task-run:retried', { flowRunId, taskRunId, taskName, attempt, delayMs, error: error as Error, workerId, time: now() }),
    log: (level, message) => events.emit('task-run:log', { flowRunId, taskRunId, taskName, level, message, workerId, time: now() }),
  };
}
