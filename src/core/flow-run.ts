import { randomUUID } from 'node:crypto';
import { CancelledError, InvalidOptionError, UpstreamFailedError, UsageError } from '../errors.ts';
import { EventBus } from '../events/bus.ts';
import { now, type EventSink, type LogLevel, type WeftEventName, type WeftEvents } from '../events/events.ts';
import { RunFold } from '../events/fold.ts';
import { attemptEvents } from '../events/attempt-events.ts';
import { shortfall } from '../schedule/resources.ts';
import { runAttempts, type AttemptHooks } from './attempts.ts';
import { RunSignal } from './run-signal.ts';
import { currentStore, type FlowRunScope, type TaskScope } from './context.ts';
import { isObserved, isTaskFuture, markObserved, outcomeOf, settleFuture, TaskFuture, whenSettled } from './future.ts';
import { resolveTaskOptions, type ResolvedTaskOptions } from './options.ts';
import type { TaskRunRecord } from './states.ts';
import type { Lend, TaskDef, TaskJob, TaskOutcome, TaskRunner } from './task-runner.ts';
import type { TaskRef } from '../protocol/task-ref.ts';
import type { Cancellation } from './run-signal.ts';

/** Task options with annotations applied, per annotations object and per task's options. */
const annotated = new WeakMap<object, WeakMap<ResolvedTaskOptions, ResolvedTaskOptions>>();

/** What the engine keeps of a task run while it is live; dropped when it ends. */
interface LiveRun {
  readonly future: TaskFuture<unknown>;
  readonly record: TaskRunRecord;
  readonly cancellation: RunSignal;
}

/**
 * The engine of one flow run: it records task runs, resolves their upstream futures, hands them
 * to the runner (or runs them inline), settles their futures and knows when everything is done.
 * It keeps only live runs; a finished run leaves its small record and nothing else.
 */
export class FlowRunEngine implements FlowRunScope {
  readonly id = randomUUID();
  /** Where listeners subscribe (`FlowRun.on`); a subflow's bus forwards to its parent's. */
  readonly bus = new EventBus();
  /**
   * Where this run's events are emitted, by the engine and by its runner: each event is folded
   * into the run's records first (the fold is their only writer), then goes to the bus.
   */
  readonly events: EventSink;
  readonly #fold: RunFold;
  readonly taskRuns: TaskRunRecord[];
  /** The ids of subflow runs started from this run, in order. */
  readonly subflowRunIds: string[] = [];
  readonly controller = new AbortController();
  /** Live task runs by id. */
  readonly #live = new Map<string, LiveRun>();
  /** Failed or crashed futures: the flow run fails if any was never observed. */
  readonly #failed: TaskFuture<unknown>[] = [];
  readonly #children = new Set<FlowRunEngine>();
  readonly #counters = new Map<string, number>();
  #onIdle: (() => void) | undefined;
  #hooks: AttemptHooks | undefined;
  #accepting = true;
  #cancelReason: CancelledError | undefined;

  constructor(
    readonly flowName: string,
    readonly runner: TaskRunner,
    readonly parent: FlowRunEngine | undefined,
  ) {
    if (parent) {
      parent.#children.add(this);
      parent.subflowRunIds.push(this.id);
      this.bus.forwardTo(parent.bus);
    }
    const fold = (this.#fold = new RunFold({ flowRunId: this.id }));
    this.taskRuns = fold.records;
    const bus = this.bus;
    this.events = {
      emit<E extends WeftEventName>(name: E, event: WeftEvents[E]): void {
        fold.apply(name, event);
        bus.emit(name, event);
      },
      has: (name) => bus.has(name),
    };
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get cancelReason(): CancelledError | undefined {
    return this.#cancelReason;
  }

  /** Submits a task run; `inline` runs it here, in this process, instead of on the runner. */
  submit<T>(task: TaskDef, args: readonly unknown[], waitFor: readonly PromiseLike<unknown>[] | undefined, inline: boolean): TaskFuture<T> {
    if (!this.#accepting && !this.#cancelReason) {
      throw new UsageError(`Task '${task.taskName}' was submitted after flow run '${this.id}' (${this.flowName}) ended: submit tasks while the flow function runs.`);
    }
    const options = this.#optionsFor(task);
    if (!inline) this.#checkResources(options);
    const upstream = this.#upstreamOf(task.taskName, args, waitFor);

    const n = (this.#counters.get(options.name) ?? 0) + 1;
    this.#counters.set(options.name, n);
    const taskRunId = `${options.name}-${n}`;
    const time = now();
    if (!this.#accepting) {
      // The run has ended, cancelled, while its function went on: the future is Cancelled, and the
      // run's final record and its event stream stay as they ended.
      const error = this.#cancelReason as CancelledError;
      const record: TaskRunRecord = { id: taskRunId, taskName: options.name, state: 'Cancelled', submittedAt: time, endedAt: time, attempts: 0, tags: options.tags, error };
      const late = new TaskFuture<T>(record, this.id, () => false);
      settleFuture(late, { state: 'Cancelled', error });
      return late;
    }
    this.events.emit('task-run:submitted', { flowRunId: this.id, taskRunId, taskName: options.name, priority: options.priority, tags: options.tags, time });
    const record = this.#fold.record(this.id, taskRunId) as TaskRunRecord;
    const future = new TaskFuture<T>(record, this.id, (f, reason) => this.#cancelOne(f, reason));
    const run: LiveRun = { future: future as TaskFuture<unknown>, record, cancellation: new RunSignal() };
    this.#live.set(taskRunId, run);
    if (this.#cancelReason) {
      this.#finish(run, { state: 'Cancelled', error: this.#cancelReason });
    } else if (upstream === undefined) {
      this.#dispatch(run, task, args, options, inline);
    } else {
      void this.#afterUpstream(run, task, args, options, inline, upstream);
    }
    return future;
  }

  /** Cancels the flow run: nothing new starts, every live task run and subflow run is cancelled. */
  cancel(reason = 'the flow run was cancelled'): void {
    if (this.#cancelReason) return;
    this.#cancelReason = new CancelledError(reason);
    this.controller.abort(this.#cancelReason);
    for (const child of this.#children) child.cancel(reason);
    for (const run of [...this.#live.values()]) this.#abort(run, this.#cancelReason);
  }

  /** Cancels every live task run, for a flow function that threw: nobody can consume them now. */
  cancelLive(reason: string): void {
    const error = new CancelledError(reason);
    for (const child of this.#children) child.cancel(reason);
    for (const run of [...this.#live.values()]) this.#abort(run, error);
  }

  /**
   * Resolves once no task run and no subflow run is live (a flow run never ends before a subflow
   * run it started, awaited or not), and stops accepting new task runs from then on.
   */
  async drain(): Promise<void> {
    while (this.#live.size > 0 || this.#children.size > 0) await new Promise<void>((resolve) => (this.#onIdle = resolve));
    this.#accepting = false;
  }

  /** The first failed or crashed future that nobody observed, which makes the flow run fail. */
  unobservedFailure(): TaskFuture<unknown> | undefined {
    return this.#failed.find((f) => !isObserved(f));
  }

  /** The error of a future, for the flow run's error when that future fails it. */
  errorOf(future: TaskFuture<unknown>): Error | undefined {
    const outcome = outcomeOf(future);
    return outcome && outcome.state !== 'Completed' ? outcome.error : undefined;
  }

  removeChild(child: FlowRunEngine): void {
    this.#children.delete(child);
    this.#wakeIfIdle();
  }

  /** Task logs from wherever the task runs arrive here as events. */
  log(taskRun: TaskScope | undefined, level: LogLevel, message: string): void {
    this.events.emit('task-run:log', {
      flowRunId: this.id, taskRunId: taskRun?.taskRunId ?? '', taskName: taskRun?.taskName ?? this.flowName,
      level, message, workerId: taskRun?.workerId ?? 'main', time: now(),
    });
  }

  #optionsFor(task: TaskDef): ResolvedTaskOptions {
    const annotations = currentStore()?.annotations;
    if (annotations === undefined) return task.options;
    // Every submit inside one annotate() sees the same annotations object: resolve each
    // (annotations, task options) pair once, not once per submit.
    let byTask = annotated.get(annotations);
    if (!byTask) annotated.set(annotations, (byTask = new WeakMap()));
    let options = byTask.get(task.options);
    if (!options) byTask.set(task.options, (options = resolveTaskOptions(annotations, task.options, task.options.name)));
    return options;
  }

  #checkResources(options: ResolvedTaskOptions): void {
    const capacity = this.runner.capacity;
    if (capacity === undefined) return;
    const missing = shortfall(options.resources, capacity);
    if (missing) {
      throw new InvalidOptionError(
        `resources.${missing.name}`,
        `at most ${missing.have}, what the task runner ${this.runner.name} has in all (declare more with its resources option, e.g. resources: { ${missing.name}: ${missing.need} }); task '${options.name}' could never run`,
        missing.need,
      );
    }
  }

  /** The futures a run waits for, or undefined when it waits for none (the fast path). */
  #upstreamOf(taskName: string, args: readonly unknown[], waitFor: readonly PromiseLike<unknown>[] | undefined): TaskFuture<unknown>[] | undefined {
    let found: TaskFuture<unknown>[] | undefined;
    const take = (value: unknown) => {
      if (!isTaskFuture(value)) return;
      if (!this.#owns(value.flowRunId)) {
        throw new UsageError(`Task '${taskName}' was given a future (${value.taskRunId}) from another flow run: futures belong to the flow run that made them; pass its value (await it there) instead.`);
      }
      (found ??= []).push(value);
    };
    for (const arg of args) {
      take(arg);
      if (Array.isArray(arg)) for (const item of arg) take(item);
    }
    if (waitFor) for (const w of waitFor) {
      if (!isTaskFuture(w)) throw new InvalidOptionError('waitFor', 'a list of TaskFutures from this flow run', w);
      take(w);
    }
    return found;
  }

  /** Whether `flowRunId` is this run or one of its ancestors (whose futures a subflow may use). */
  #owns(flowRunId: string): boolean {
    return this.id === flowRunId || (this.parent !== undefined && this.parent.#owns(flowRunId));
  }

  async #afterUpstream(run: LiveRun, task: TaskDef, args: readonly unknown[], options: ResolvedTaskOptions, inline: boolean, upstream: TaskFuture<unknown>[]): Promise<void> {
    for (const f of upstream) markObserved(f);
    await Promise.all(upstream.map(whenSettled));
    if (outcomeOf(run.future)) return; // cancelled while it waited
    const failed = upstream.find((f) => outcomeOf(f)?.state !== 'Completed');
    if (failed) {
      const outcome = outcomeOf(failed) as Exclude<TaskOutcome, { state: 'Completed' }>;
      this.#finish(run, { state: 'Failed', error: new UpstreamFailedError(options.name, failed.taskName, failed.taskRunId, failed.state, outcome.error) });
      return;
    }
    const value = (v: unknown) => (isTaskFuture(v) ? (outcomeOf(v) as { value: unknown }).value : v);
    const resolved = args.map((arg) => (isTaskFuture(arg) ? value(arg) : Array.isArray(arg) ? arg.map(value) : arg));
    this.#dispatch(run, task, resolved, options, inline);
  }

  #dispatch(run: LiveRun, task: TaskDef, args: readonly unknown[], options: ResolvedTaskOptions, inline: boolean): void {
    const job = new Job(run.record.id, this.id, task.ref, task.fn, args as unknown[], options, run.cancellation, now(), this);
    let outcome: Promise<TaskOutcome>;
    try {
      outcome = inline ? this.#runInline(job) : this.runner.submit(job);
    } catch (error) {
      // A runner's submit must not throw; if it does (a serialization check, say), the run fails here.
      outcome = Promise.resolve({ state: 'Failed', error: error as Error });
    }
    outcome.then((o) => this.#finish(run, o), (error: unknown) => this.#finish(run, { state: 'Crashed', error: error as Error }));
  }

  #runInline(job: TaskJob): Promise<TaskOutcome> {
    // Called from inside a task (in this process), it waits in that task's slot: lend that one.
    const outer = currentStore()?.task;
    const lend: Lend | undefined = outer?.secede ? () => (outer.secede as () => () => void)() : undefined;
    return this.runHere(job, 'main', lend);
  }

  /** Runs a job's attempts in this process: what {@link TaskJob.runHere} does. */
  runHere(job: TaskJob, workerId: string, lend: Lend | undefined): Promise<TaskOutcome> {
    return runAttempts(
      { taskRunId: job.taskRunId, flowRunId: job.flowRunId, fn: job.fn, args: job.args, options: job.options, cancellation: job.cancellation, workerId, readyTime: job.readyTime, lend },
      (this.#hooks ??= attemptEvents(this.events)),
      this,
    );
  }

  #cancelOne<T>(future: TaskFuture<T>, reason: string): boolean {
    const run = this.#live.get(future.taskRunId);
    if (!run) return false;
    this.#abort(run, new CancelledError(reason));
    return true;
  }

  /** Aborts a live run's signal (the runner stops it) and settles its future as Cancelled now. */
  #abort(run: LiveRun, error: CancelledError): void {
    run.cancellation.abort(error);
    this.#finish(run, { state: 'Cancelled', error });
  }

  /** Settles the run's future and emits its end; the fold writes the record from that event. */
  #finish(run: LiveRun, outcome: TaskOutcome): void {
    if (!settleFuture(run.future, outcome)) return;
    const { record } = run;
    if (outcome.state === 'Failed' || outcome.state === 'Crashed') this.#failed.push(run.future);
    this.#live.delete(record.id);
    const { attempt, startTime } = this.#fold.current(this.id, record.id);
    const event: WeftEvents['task-run:finished'] = {
      flowRunId: this.id, taskRunId: record.id, taskName: record.taskName, state: outcome.state,
      workerId: outcome.workerId ?? record.workerId, time: now(), error: outcome.state === 'Completed' ? undefined : outcome.error, attempt,
    };
    if (startTime !== undefined) event.startTime = startTime;
    if (outcome.serviceMs !== undefined) event.serviceMs = outcome.serviceMs;
    this.events.emit('task-run:finished', event);
    this.#wakeIfIdle();
  }

  #wakeIfIdle(): void {
    if (this.#live.size === 0 && this.#children.size === 0 && this.#onIdle) {
      const wake = this.#onIdle;
      this.#onIdle = undefined;
      wake();
    }
  }
}

/** A task run as the engine hands it to its runner. */
class Job implements TaskJob {
  readonly #engine: FlowRunEngine;

  constructor(
    readonly taskRunId: string,
    readonly flowRunId: string,
    readonly ref: TaskRef,
    readonly fn: (...args: never[]) => unknown,
    readonly args: unknown[],
    readonly options: ResolvedTaskOptions,
    readonly cancellation: Cancellation,
    readonly readyTime: number,
    engine: FlowRunEngine,
  ) {
    this.#engine = engine;
  }

  runHere(workerId: string, lend?: Lend): Promise<TaskOutcome> {
    return this.#engine.runHere(this, workerId, lend);
  }
}
