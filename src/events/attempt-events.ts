import type { AttemptRequest } from '../core/attempts.ts';
import type { TaskOutcome } from '../core/task-runner.ts';
import type { AttemptEvent, DoneEvent } from '../protocol/attempt-events.ts';
import { fromWireError } from '../protocol/wire-error.ts';
import { now, type EventSink, type LogLevel } from './events.ts';

/**
 * The one translator from attempt facts to the public {@link WeftEvents}: every runner's events
 * about attempts are built here, whether the attempt ran in this process (the engine's hooks, with `emitStarted`, `emitRetried`, `emitLog`) or
 * came back over a transport as {@link AttemptEvent}s (`emitAttempt`).
 *
 * @module
 */

/** The run an attempt is about, as the receiving side knows it (a `TaskJob` or an `AttemptRequest` fits). */
export interface AttemptRun {
  readonly flowRunId: string;
  readonly taskRunId: string;
  readonly options: { readonly name: string };
  /** When it was handed to the runner; events of a run without one use the start as its ready time. */
  readonly readyTime?: number;
}

/** Emits an attempt's start (also for the engine, when a start reached it with its run's end). */
export function emitStarted(sink: EventSink, run: AttemptRun, attempt: number, workerId: string, time: number): void {
  sink.emit('task-run:started', { flowRunId: run.flowRunId, taskRunId: run.taskRunId, taskName: run.options.name, attempt, workerId, readyTime: run.readyTime ?? time, time });
}

/** Emits an attempt's failure, with the delay before the next attempt. */
export function emitRetried(sink: EventSink, run: AttemptRun, attempt: number, delayMs: number, error: Error, workerId: string, time: number): void {
  sink.emit('task-run:retried', { flowRunId: run.flowRunId, taskRunId: run.taskRunId, taskName: run.options.name, attempt, delayMs, error, workerId, time });
}

/**
 * Emits what an {@link AttemptEvent} from a worker says. `run` is the live run it names (undefined
 * once the run was settled here, e.g. cancelled: then only its log lines still go out);
 * `offsetMs` moves the worker's times onto this process's clock. A 'done' emits the start it
 * carries; its outcome is the caller's to settle ({@link outcomeOf}).
 */
export function emitAttempt(sink: EventSink, event: AttemptEvent<unknown>, run: AttemptRun | undefined, workerId: string, offsetMs = 0): void {
  switch (event.type) {
    case 'log':
      sink.emit('task-run:log', {
        flowRunId: event.flowRunId, taskRunId: event.taskRunId, taskName: event.taskName, level: event.level, message: event.message, workerId, time: event.time + offsetMs,
      });
      return;
    case 'started':
      if (run) emitStarted(sink, run, event.attempt, workerId, event.time + offsetMs);
      return;
    case 'retried':
      if (run) emitRetried(sink, run, event.attempt, event.delayMs, fromWireError(event.error), workerId, event.time + offsetMs);
      return;
    case 'done':
      // A start that travelled with its end goes with the outcome ({@link outcomeOf}): the engine
      // announces it after the end of what ran before it, which may be in the same batch but
      // reaches the engine later (through the pool), so the stream never shows them overlap.
      return;
    case 'crashed':
      return;
  }
}

/** The outcome a 'done' event reports, its error rebuilt, with the start it carries (times moved by `offsetMs`). */
export function outcomeOf(event: DoneEvent<unknown>, workerId: string, offsetMs = 0): TaskOutcome {
  const started = event.attempt === undefined ? undefined : { attempt: event.attempt, time: (event.startTime as number) + offsetMs };
  return event.state === 'Completed'
    ? { state: 'Completed', value: event.value, workerId, serviceMs: event.serviceMs, started }
    : { state: event.state, error: fromWireError(event.error), workerId, serviceMs: event.serviceMs, started };
}

/** A log line of an attempt that runs in this process, now. */
export function emitLog(sink: EventSink, r: AttemptRequest, level: LogLevel, message: string): void {
  sink.emit('task-run:log', { flowRunId: r.flowRunId, taskRunId: r.taskRunId, taskName: r.options.name, level, message, workerId: r.workerId, time: now() });
}
