import type { Resources } from '../schedule/resources.ts';
import type { FinalTaskRunState, FlowRunState } from '../core/states.ts';

/**
 * The one event stream every runner emits and every consumer reads (the run record, the
 * performance report, the dashboard, the progress bar, tests). Times are epoch milliseconds with
 * sub-millisecond precision (`performance.timeOrigin + performance.now()`), all on the flow
 * process's clock: a cluster worker's times are corrected by its clock's measured offset.
 */
export interface WeftEvents {
  'flow-run:started': { flowRunId: string; flowName: string; parentFlowRunId?: string; runner: string; time: number };
  'flow-run:finished': { flowRunId: string; flowName: string; state: FlowRunState; time: number; error?: Error };
  /** `tags`: the task's `tags` option. */
  'task-run:submitted': { flowRunId: string; taskRunId: string; taskName: string; priority: number; tags?: readonly string[]; time: number };
  /**
   * An attempt began. `readyTime`: when the run's upstream futures had resolved and it was handed
   * to the runner (the same on every attempt); `time - readyTime` is how long it queued.
   */
  'task-run:started': { flowRunId: string; taskRunId: string; taskName: string; attempt: number; workerId: string; readyTime: number; time: number };
  'task-run:retried': { flowRunId: string; taskRunId: string; taskName: string; attempt: number; delayMs: number; error: Error; workerId: string; time: number };
  /**
   * A run ended. `attempt`: its final attempt (0 if it never started); `startTime`: when that
   * attempt started; `serviceMs`: how long that attempt ran, measured where it ran (absent when
   * the runner could not say, e.g. a run cancelled while it ran).
   */
  'task-run:finished': {
    flowRunId: string; taskRunId: string; taskName: string; state: FinalTaskRunState; workerId?: string; time: number; error?: Error;
    attempt: number; startTime?: number; serviceMs?: number;
  };
  'task-run:log': { flowRunId: string; taskRunId: string; taskName: string; level: LogLevel; message: string; workerId: string; time: number };
  'worker:joined': { workerId: string; resources: Resources; time: number };
  'worker:left': { workerId: string; reason: string; time: number };
  'scale:up': { from: number; to: number; reason: string; time: number };
  'scale:down': { from: number; to: number; reason: string; time: number };
  'runner:warning': { message: string; time: number };
}

export type WeftEventName = keyof WeftEvents;

/**
 * Where a runner sends the events it produces (`worker:joined`, `task-run:started`, ...): the flow
 * run's event stream. `has` says whether anything listens, so an emitter may skip building an
 * event nobody reads.
 */
export interface EventSink {
  emit<E extends WeftEventName>(name: E, event: WeftEvents[E]): void;
  has(name: WeftEventName): boolean;
}
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** The time stamp all events use. */
const origin = performance.timeOrigin;
export function now(): number {
  return origin + performance.now();
}
