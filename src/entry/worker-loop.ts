import { format } from 'node:util';
import type { AttemptHooks, AttemptRequest } from '../core/attempts.ts';
import { storage } from '../core/context.ts';
import { RunSignal } from '../core/run-signal.ts';
import type { TaskOutcome } from '../core/task-runner.ts';
import { now, type LogLevel } from '../events/events.ts';
import { AttemptBatch, checkResult, failedResult, type AttemptEvent, type DoneEvent } from '../protocol/attempt-events.ts';
import type { ToWorker, WireJob, WireTaskDef, WorkerPort } from '../protocol/messages.ts';
import { encodeBatch, takeTransferList } from '../protocol/serialize.ts';
import { toWireError } from '../protocol/wire-error.ts';
import { executeTask, sendable } from './execute.ts';
import { serveNestedSubmissions } from './nested.ts';

/**
 * The program inside every worker thread and child process of a local pool: it takes `run`
 * messages, runs their jobs one after another through {@link executeTask} (the same attempts,
 * retries and timeouts as everywhere), and reports what happened in batches.
 *
 * Jobs run one at a time, in the order they came: a worker is one CPU's worth of work. The pool may
 * send several short jobs ahead (pipelining), so the worker never waits for a round trip.
 */
export function runWorkerLoop(port: WorkerPort, workerId: string): void {
  const queue: (WireJob | undefined)[] = [];
  let head = 0;
  let running = false;
  let current: { id: number; signal: RunSignal } | undefined;
  /** Cancels that arrived for jobs not yet started. */
  const cancelled = new Map<number, string>();
  const batch = new AttemptBatch<number>();
  let transfers: Map<AttemptEvent<number>, ArrayBuffer[]> | undefined;
  let flushScheduled = false;
  let unreported = 0;

  const flush = (): void => {
    unreported = 0;
    if (batch.size === 0) return;
    const events = batch.take();
    const moving = transfers;
    transfers = undefined;
    // A result that cannot be cloned fails its own run, named; the rest go together.
    encodeBatch(events, {
      encode: (list) => port.post({ type: 'batch', events: list }, moving ? list.flatMap((e) => moving.get(e) ?? []) : undefined),
      check: checkResult,
      culprit: failedResult,
    });
  };
  const schedule = (): void => {
    if (flushScheduled) return;
    flushScheduled = true;
    setImmediate(() => {
      flushScheduled = false;
      flush();
    });
  };
  const push = (event: AttemptEvent<number>): void => {
    batch.push(event);
    schedule();
  };

  const hooks: AttemptHooks = {
    started: (r, attempt, time) => {
      push({ type: 'started', id: jobId(r), attempt, time });
      // Report the start now when the task may run long (the flow shows it Running) or is timed
      // (the pool's watchdog must know it started). Short tasks report in batches, the start
      // folded into the result: a message per task both ways is what would cap throughput.
      if (r.options.timeoutMs !== Infinity || !isShort(r.options)) flush();
    },
    retried: (r, attempt, error, delayMs) => push({ type: 'retried', id: jobId(r), attempt, delayMs, error: toWireError(error), time: now() }),
    log: (r, level, message) => push({ type: 'log', id: jobId(r), taskRunId: r.taskRunId, flowRunId: r.flowRunId, taskName: r.options.name, level, message, time: now() }),
  };

  const defs = new Map<number, WireTaskDef>();
  /** Mean run time (ms) of each task here, by its options object (one per task def). */
  const serviceMs = new WeakMap<object, number>();
  const isShort = (options: object): boolean => (serviceMs.get(options) ?? Infinity) < SHORT_MS;
  const drain = async (): Promise<void> => {
    running = true;
    while (head < queue.length) {
      const wire = queue[head] as WireJob;
      queue[head++] = undefined;
      const def = wire.task ?? (defs.get(wire.def) as WireTaskDef);
      if (wire.task && wire.def !== 0) defs.set(wire.def, wire.task);
      // `id` rides along in the request: the attempt hooks read it back (see jobId).
      const job = { id: wire.id, taskRunId: wire.taskRunId, flowRunId: wire.flowRunId, args: wire.args, ref: def.ref, options: def.options };
      const signal = new RunSignal();
      const reason = cancelled.get(job.id);
      if (reason !== undefined) {
        cancelled.delete(job.id);
        signal.abort(reason);
      }
      current = { id: job.id, signal };
      const t0 = performance.now();
      const outcome = sendable(await executeTask(job, workerId, signal, hooks));
      current = undefined;
      const ms = performance.now() - t0;
      const mean = serviceMs.get(def.options);
      serviceMs.set(def.options, mean === undefined ? ms : mean * 0.8 + ms * 0.2);
      const done = toDone(job.id, outcome, outcome.serviceMs ?? ms);
      if (outcome.state === 'Completed' && typeof outcome.value === 'object' && outcome.value !== null) {
        const list = takeTransferList([outcome.value]);
        if (list.length > 0) (transfers ??= new Map()).set(done, list);
      }
      push(done);
      // Report every few results even mid-burst: the pool refills this worker while it runs the
      // rest, instead of both sides taking turns to idle.
      if (++unreported >= REPORT_EVERY) flush();
    }
    queue.length = 0;
    head = 0;
    running = false;
    // Nothing left to run: report now rather than a turn later (latency of a lone task).
    flush();
  };

  const onSubmitted = serveNestedSubmissions(port);
  port.onMessage((message: ToWorker) => {
    switch (message.type) {
      case 'submitted':
        return onSubmitted(message);
      case 'run': {
        const { firstId, taskRunIds, args, defs, newDefs, flowRunId } = message;
        let next = 0;
        for (let i = 0; i < taskRunIds.length; i++) {
          const fresh = newDefs[next]?.[0] === i ? newDefs[next++] : undefined;
          queue.push({ id: firstId + i, taskRunId: taskRunIds[i] as string, flowRunId, args: args[i] as unknown[], def: fresh ? fresh[1] : (defs[i] as number), task: fresh?.[2] });
        }
        if (!running) void drain();
        return;
      }
      case 'cancel':
        if (current?.id === message.id) current.signal.abort(message.reason);
        else cancelled.set(message.id, message.reason);
        return;
      case 'close':
        flush();
        port.exit(0);
    }
  });
  forwardConsole();
}

/** The job id of an attempt: `executeTask` carries the request's `id` onto the attempt request. */
function jobId(request: AttemptRequest): number {
  return (request as AttemptRequest & { id: number }).id;
}

function toDone(id: number, outcome: TaskOutcome, serviceMs: number): DoneEvent<number> {
  return outcome.state === 'Completed'
    ? { type: 'done', id, serviceMs, state: 'Completed', value: outcome.value }
    : { type: 'done', id, serviceMs, state: outcome.state === 'Cancelled' ? 'Cancelled' : 'Failed', error: toWireError(outcome.error) };
}

/** A task whose runs take less than this (ms) is short: its start is not reported on its own. */
const SHORT_MS = 1;
/** How many finished jobs a worker reports at once at most, during a burst of short jobs. */
const REPORT_EVERY = 8;

const CONSOLE_LEVELS = [['log', 'info'], ['info', 'info'], ['debug', 'debug'], ['warn', 'warn'], ['error', 'error']] as const;

/**
 * `console.log` inside a task reaches the flow's process as a task log, labelled with the task
 * run; output from outside any task (a module's top level) goes to the worker's own stdout.
 */
function forwardConsole(): void {
  for (const [method, level] of CONSOLE_LEVELS) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      const task = storage.getStore()?.task;
      if (task) task.log(level satisfies LogLevel, format(...args));
      else original(...args);
    };
  }
}
