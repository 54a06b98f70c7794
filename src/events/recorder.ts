import type { TaskRunRecord } from '../core/states.ts';
import type { EventBus } from './bus.ts';

/**
 * Keeps task run records up to date from the attempt events that runners emit, wherever the
 * attempt ran. Events of other flow runs on the same bus (subflows forward theirs) are ignored.
 */
export function recordAttempts(events: EventBus, flowRunId: string, find: (taskRunId: string) => TaskRunRecord | undefined): void {
  events.on('task-run:started', (e) => {
    if (e.flowRunId !== flowRunId) return;
    const record = find(e.taskRunId);
    if (!record) return;
    record.state = 'Running';
    record.startedAt ??= e.time;
    record.attempts = e.attempt;
    record.workerId = e.workerId;
  });
  events.on('task-run:retried', (e) => {
    if (e.flowRunId !== flowRunId) return;
    const record = find(e.taskRunId);
    if (record) record.state = 'Retrying';
  });
}
