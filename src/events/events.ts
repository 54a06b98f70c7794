import type { Resources } from '../schedule/resources.ts';
import type { FinalTaskRunState, FlowRunState } from '../core/states.ts';

/**
 * The one event stream every runner emits and every consumer reads (the run record, the
 * performance report, the dashboard, the progress bar, tests). Times are epoch milliseconds with
 * sub-millisecond precision (`performance.timeOrigin + performance.now()`).
 */
export interface WeftEvents {
  'flow-run:started': { flowRunId: string; flowName: string; parentFlowRunId?: string; runner: string; time: number };
  'flow-run:finished': { flowRunId: string; flowName: string; state: FlowRunState; time: number; error?: Error };
  'task-run:submitted': { flowRunId: string; taskRunId: string; taskName: string; priority: number; time: number };
  'task-run:started': { flowRunId: string; taskRunId: string; taskName: string; attempt: number; workerId: string; time: number };
  'task-run:retried': { flowRunId: string; taskRunId: string; taskName: string; attempt: number; delayMs: number; error: Error; workerId: string; time: number };
  'task-run:finished': { flowRunId: string; taskRunId: string; taskName: string; state: FinalTaskRunState; workerId?: string; time: number; error?: Error };
  'task-run:log': { flowRunId: string; taskRunId: string; taskName: string; level: LogLevel; message: string; workerId: string; time: number };
  'worker:joined': { workerId: string; resources: Resources; time: number };
  'worker:left': { workerId: string; reason: string; time: number };
  'scale:up': { from: number; to: number; time: number };
  'scale:down': { from: number; to: number; time: number };
  'runner:warning': { message: string; time: number };
}

export type WeftEventName = keyof WeftEvents;
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The time stamp all events use. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}
