import { randomUUID } from 'node:crypto';
import { CancelledError, InvalidOptionError, UpstreamFailedError, UsageError } from '../errors.ts';
import { EventBus } from '../events/bus.ts';
import { now, type EventSink, type LogLevel, type WeftEventName, type WeftEvents } from '../events/events.ts';
import { bothRecorders, RunFold, type FoldRecorder } from '../events/fold.ts';
import { emitLog, emitRetried, emitStarted } from '../events/attempt-events.ts';
import { shortfall } from '../schedule/resources.ts';
import { runAttemptsThen, type AttemptHooks } from './attempts.ts';
import { LiveRun } from './live-run.ts';
import { currentStore, type Annotations, type FlowRunScope, type TaskScope } from './context.ts';
import { attachRun, failureOf, isObserved, isTaskFuture, markObserved, outcomeOf, settleFuture, TaskFuture, whenSettled } from './future.ts';
import { findFutures, holdsObjects, isAllowFailure, replaceFutures, type Upstream } from './arguments.ts';
import { resolveTaskOptions, type ResolvedTaskOptions } from './options.ts';
import type { TaskRunRecord } from './states.ts';
import { submitThen, type DirectSubmit, type Lend, type TaskDef, type TaskJob, type TaskOutcome, type TaskRunner } from './task-runner.ts';
import type { WireTaskDef } from '../protocol/messages.ts';

/** Task options with annotations applied, per annotations object and per task's options. */
const annotated = new WeakMap<object, WeakMap<ResolvedTaskOptions, ResolvedTaskOptions>>();

function notHere(): never {
  throw new Error('unreachable: a task submitted from a worker runs in a worker');
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
  /**
   * Live task runs: a list through the runs themselves, and a count. A map by id holds only the
   * runs a runner may emit events about (not those run in this process, whose attempts are folded
   * through their hooks): a map entry per run, added and deleted, cost more than the run itself.
   */
  #liveHead: LiveRun | undefined;
  #liveCount = 0;
  readonly #byId = new Map<string, LiveRun>();
  /** Failed or crashed futures: the flow run fails if any was never observed. */
  readonly #failed: TaskFuture<unknown>[] = [];
  readonly #children = new Set<FlowRunEngine>();
  readonly #counters = new Map<string, number>();
  #onIdle: (() => void) | undefined;
  #hooks: AttemptHooks | undefined;
  /** Runs submitted in this turn, handed to the runner once the caller's code yields (see #defer). */
  #deferred: LiveRun[] = [];
  /** Every future's cancel: one function for the run, not one per future. */
  readonly #cancelOne = (run: object, reason: string): boolean => {
    this.#abort(run as LiveRun, new CancelledError(reason));
    return true;
  };
  /** Every run's end on the callback path (weft's runners, runs here): one function, not a closure per run. */
  readonly #ended = (outcome: TaskOutcome, job: TaskJob): void => this.#finish(job as LiveRun, outcome, true);
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
    // A subflow's facts go where its parent's go (the parent's report).
    if (parent) fold.recorder = parent.#fold.recorder;
    this.taskRuns = fold.records;
    const bus = this.bus;
    const live = this.#byId;
    const id = this.id;
    this.events = {
      emit<E extends WeftEventName>(name: E, event: WeftEvents[E]): void {
        // The engine's runs are not in the fold's index (the engine finds them by id only where a
        // runner's events name them): a runner's events about them are folded through the run it holds.
        if (name === 'task-run:started' || name === 'task-run:retried') {
          const e = event as WeftEvents['task-run:started' | 'task-run:retried'];
          const run = e.flowRunId === id ? live.get(e.taskRunId) : undefined;
          if (run && name === 'task-run:started') {
            const s = e as WeftEvents['task-run:started'];
            fold.start(run, s.attempt, s.workerId, s.readyTime, s.time);
          } else if (run) fold.retry(run, e.time);
        } else fold.apply(name, event);
        bus.emit(name, event);
      },
      has: (name) => bus.has(name),
    };
  }

  /** Writes this run's and its later subflows' submits, starts and ends to `recorder` (a report's log), until the returned function is called. */
  recordTo(recorder: FoldRecorder): () => void {
    const fold = this.#fold;
    const previous = fold.recorder;
    fold.recorder = previous ? bothRecorders(previous, recorder) : recorder;
    return () => {
      fold.recorder = previous;
    };
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  get cancelReason(): CancelledError | undefined {
    return this.#cancelReason;
  }

  /**
   * Submits a task run; `inline` runs it here, in this process, instead of on the runner.
   * `annotations`: the caller's (it has read the run store already: one lookup per submit).
   */
  submit<T>(task: TaskDef, args: readonly unknown[], waitFor: readonly unknown[] | undefined, inline: boolean, annotations: Annotations | undefined): TaskFuture<T> {
    if (!this.#accepting && !this.#cancelReason) {
      throw new UsageError(`Task '${task.taskName}' was submitted after flow run '${this.id}' (${this.flowName}) ended: submit tasks while the flow function runs.`);
    }
    const options = this.#optionsFor(task, annotations);
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
    // The run's own record is folded directly; the event is built only for listeners.
    const record = this.#fold.track(this.id, taskRunId, options.name, options.tags, time);
    if (this.bus.has('task-run:submitted')) {
      this.bus.emit('task-run:submitted', { flowRunId: this.id, taskRunId, taskName: options.name, priority: options.priority, tags: options.tags, time });
    }
    const future = new TaskFuture<T>(record, this.id, this.#cancelOne);
    const waits = upstream !== undefined && upstream.required.length + upstream.tolerated.length > 0;
    // Nothing to wait for: at most quote() marks to unwrap.
    const ready = upstream === undefined || waits ? args : replaceFutures(args, () => undefined);
    const run = new LiveRun(taskRunId, this.id, task.ref, task.fn, ready, options, future as TaskFuture<unknown>, record, this);
    attachRun(future, run);
    this.#addLive(run);
    if (this.#cancelReason) {
      this.#finish(run, { state: 'Cancelled', error: this.#cancelReason }, false);
    } else if (!waits) {
      if (inline) this.#dispatch(run, true, now());
      else this.#defer(run);
    } else {
      void this.#afterUpstream(run, inline, upstream as Upstream);
    }
    return future;
  }

  /** Cancels the flow run: nothing new starts, every live task run and subflow run is cancelled. */
  cancel(reason = 'the flow run was cancelled'): void {
    if (this.#cancelReason) return;
    this.#cancelReason = new CancelledError(reason);
    this.controller.abort(this.#cancelReason);
    for (const child of this.#children) child.cancel(reason);
    for (const run of this.#liveRuns()) this.#abort(run, this.#cancelReason);
  }

  /** Cancels every live task run, for a flow function that threw: nobody can consume them now. */
  cancelLive(reason: string): void {
    const error = new CancelledError(reason);
    for (const child of this.#children) child.cancel(reason);
    for (const run of this.#liveRuns()) this.#abort(run, error);
  }

  /**
   * Resolves once no task run and no subflow run is live (a flow run never ends before a subflow
   * run it started, awaited or not), and stops accepting new task runs from then on.
   */
  async drain(): Promise<void> {
    while (this.#liveCount > 0 || this.#children.size > 0) await new Promise<void>((resolve) => (this.#onIdle = resolve));
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

  submitNested(def: WireTaskDef, args: unknown[]): Promise<unknown> {
    // Known by module and name, not by its function: it runs in a worker, never in this process.
    const known: TaskDef = { taskName: def.options.name, ref: def.ref, options: def.options, fn: notHere };
    try {
      return this.submit(known, args, undefined, false, currentStore()?.annotations).result();
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /** Task logs from wherever the task runs arrive here as events. */
  log(taskRun: TaskScope | undefined, level: LogLevel, message: string): void {
    this.events.emit('task-run:log', {
      flowRunId: this.id, taskRunId: taskRun?.taskRunId ?? '', taskName: taskRun?.taskName ?? this.flowName,
      level, message, workerId: taskRun?.workerId ?? 'main', time: now(),
    });
  }

  #optionsFor(task: TaskDef, annotations: Annotations | undefined): ResolvedTaskOptions {
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

  /**
   * The futures a run waits for (in its arguments, anywhere in plain data, and in `waitFor`), or
   * undefined when it waits for none and has no mark to unwrap (the fast path).
   */
  #upstreamOf(taskName: string, args: readonly unknown[], waitFor: readonly unknown[] | undefined): Upstream | undefined {
    if (!waitFor && !holdsObjects(args)) return undefined; // flat arguments: nothing to find, no closure made
    const check = (future: TaskFuture<unknown>) => {
      if (!this.#owns(future.flowRunId)) {
        throw new UsageError(`Task '${taskName}' was given a future (${future.taskRunId}) from another flow run: futures belong to the flow run that made them; pass its value (await it there) instead.`);
      }
    };
    const found = findFutures(args, check);
    if (!waitFor) return found;
    for (const w of waitFor) {
      if (!isTaskFuture(w) && !isAllowFailure(w)) throw new InvalidOptionError('waitFor', 'a list of TaskFutures from this flow run (or allowFailure(future))', w);
    }
    const ordering = findFutures(waitFor, check);
    if (!ordering) return found;
    // waitFor orders without passing values: its futures join the ones to wait for, not the arguments.
    const required = [...(found?.required ?? []), ...ordering.required];
    return { required, tolerated: [...(found?.tolerated ?? []), ...ordering.tolerated].filter((f) => !required.includes(f)), rewrite: found !== undefined };
  }

  /** Whether `flowRunId` is this run or one of its ancestors (whose futures a subflow may use). */
  #owns(flowRunId: string): boolean {
    return this.id === flowRunId || (this.parent !== undefined && this.parent.#owns(flowRunId));
  }

  async #afterUpstream(run: LiveRun, inline: boolean, upstream: Upstream): Promise<void> {
    const { args, options } = run;
    const { required, tolerated } = upstream;
    for (const f of required) markObserved(f);
    for (const f of tolerated) markObserved(f);
    await Promise.all([...required, ...tolerated].map(whenSettled));
    if (outcomeOf(run.future)) return; // cancelled while it waited
    const failed = required.find((f) => outcomeOf(f)?.state !== 'Completed');
    if (failed) {
      const outcome = outcomeOf(failed) as Exclude<TaskOutcome, { state: 'Completed' }>;
      this.#finish(run, { state: 'Failed', error: new UpstreamFailedError(options.name, failed.taskName, failed.taskRunId, failed.state, outcome.error) }, false);
      return;
    }
    if (upstream.rewrite !== false) {
      run.args = replaceFutures(args, (f) => {
        const outcome = outcomeOf(f) as TaskOutcome;
        return outcome.state === 'Completed' ? outcome.value : failureOf(f);
      });
    }
    this.#dispatch(run, inline, now());
  }

  /**
   * No task body runs inside `submit()` or `map()`: an in-process runner would otherwise run a
   * synchronous task to its end before the caller got its future back. The runs of one turn go
   * to the runner together, in submission order, as soon as the caller's code yields.
   */
  #defer(run: LiveRun): void {
    if (this.#deferred.push(run) === 1) queueMicrotask(this.#flushDeferred);
  }

  readonly #flushDeferred = (): void => {
    const runs = this.#deferred;
    this.#deferred = [];
    // The runs of one turn became ready together, when the caller's code yielded: one clock read.
    const readyTime = now();
    for (const run of runs) {
      if (!outcomeOf(run.future)) this.#dispatch(run, false, readyTime); // else cancelled meanwhile
    }
  };

  #dispatch(run: LiveRun, inline: boolean, readyTime: number): void {
    run.readyTime = readyTime;
    if (inline) return this.#runInline(run);
    const runner = this.runner as TaskRunner & Partial<DirectSubmit>;
    // A runner that runs tasks elsewhere emits their starts and retries as events, found by id.
    // (weft's in-process runners run them through runHere, whose hooks fold them directly.)
    const direct = runner[submitThen];
    if (direct && runner.serializes) this.#indexById(run);
    let outcome: Promise<TaskOutcome>;
    try {
      // weft's own runners take the callback path: no promise and no closures per run.
      if (direct?.call(runner, run, this.#ended)) return;
      this.#indexById(run); // a subclass's own submit: it may emit events too
      outcome = runner.submit(run);
    } catch (error) {
      // A runner's submit must not throw; if it does (a serialization check, say), the run fails here.
      outcome = Promise.resolve({ state: 'Failed', error: error as Error });
    }
    outcome.then((o) => this.#finish(run, o, false), (error: unknown) => this.#finish(run, { state: 'Crashed', error: error as Error }, false));
  }

  #indexById(run: LiveRun): void {
    if (run.byId) return;
    run.byId = true;
    this.#byId.set(run.taskRunId, run);
  }

  #runInline(job: LiveRun): void {
    // Called from inside a task (in this process), it waits in that task's slot: lend that one.
    const outer = currentStore()?.task;
    const lend: Lend | undefined = outer?.secede ? () => (outer.secede as () => () => void)() : undefined;
    this.runHereThen(job, 'main', lend, this.#ended);
  }

  /** Runs a job's attempts in this process: what {@link TaskJob.runHere} does. */
  runHere(run: LiveRun, workerId: string, lend: Lend | undefined): Promise<TaskOutcome> {
    return new Promise<TaskOutcome>((resolve) => this.runHereThen(run, workerId, lend, resolve));
  }

  /** {@link runHere} with a callback: `done` is called once, never synchronously. */
  runHereThen(run: LiveRun, workerId: string, lend: Lend | undefined, done: (outcome: TaskOutcome, run: LiveRun) => void): void {
    // The run is its own attempt request: the engine's hooks find its folded record on it.
    run.workerId = workerId;
    run.lend = lend;
    runAttemptsThen(run, (this.#hooks ??= this.#localHooks()), this, done);
  }

  /** Hooks of attempts in this process: a start is folded directly, its event built only for listeners. */
  #localHooks(): AttemptHooks {
    // The runs here are not found by id: their starts and retries are folded through the run, and
    // their events built only for listeners. Log lines are not folded: they go to the bus.
    const fold = this.#fold;
    const bus = this.bus;
    return {
      started: (request, attempt, time) => {
        fold.start(request as LiveRun, attempt, request.workerId, request.readyTime ?? time, time);
        if (bus.has('task-run:started')) emitStarted(bus, request, attempt, request.workerId, time);
      },
      retried: (request, attempt, error, delayMs) => {
        const time = now();
        fold.retry(request as LiveRun, time);
        if (bus.has('task-run:retried')) emitRetried(bus, request, attempt, delayMs, error as Error, request.workerId, time);
      },
      log: (request, level, message) => emitLog(bus, request, level, message),
    };
  }

  /** Aborts a live run's signal (the runner stops it) and settles its future as Cancelled now. */
  #abort(run: LiveRun, error: CancelledError): void {
    run.abort(error);
    this.#finish(run, { state: 'Cancelled', error }, false);
  }

  /**
   * Settles the run's future, folds its end into the record and emits it (for listeners).
   * `atEnd`: called back as the run ended (the callback path), so a run that ran here ended when
   * its attempt's clock read says, and that read serves as the end's time too.
   */
  #finish(run: LiveRun, outcome: TaskOutcome, atEnd: boolean): void {
    if (outcomeOf(run.future)) return;
    const { record } = run;
    if (outcome.started && outcome.workerId !== undefined) {
      // A start that reached the runner with this end: announced now, after whatever ended before it.
      emitStarted(this.events, run, outcome.started.attempt, outcome.workerId, outcome.started.time);
    }
    settleFuture(run.future, outcome);
    if (outcome.state === 'Failed' || outcome.state === 'Crashed') this.#failed.push(run.future);
    this.#removeLive(run);
    const attempt = run.openAttempt;
    const startTime = attempt > 0 ? run.openStartTime : undefined;
    const { state, serviceMs } = outcome;
    const workerId = outcome.workerId ?? record.workerId;
    const error = outcome.state === 'Completed' ? undefined : outcome.error;
    const ranHere = atEnd && startTime !== undefined && serviceMs !== undefined && run.workerId !== '' && outcome.workerId === run.workerId;
    const time = ranHere ? startTime + serviceMs : now();
    // Folded directly, as the run's submit was; the event is built only for listeners.
    this.#fold.finish(run, state, time, workerId, error, serviceMs, attempt);
    if (this.bus.has('task-run:finished')) {
      const event: WeftEvents['task-run:finished'] = { flowRunId: this.id, taskRunId: record.id, taskName: record.taskName, state, workerId, time, error, attempt };
      if (startTime !== undefined) event.startTime = startTime;
      if (serviceMs !== undefined) event.serviceMs = serviceMs;
      this.bus.emit('task-run:finished', event);
    }
    this.#wakeIfIdle();
  }

  #addLive(run: LiveRun): void {
    const head = this.#liveHead;
    run.nextLive = head;
    if (head) head.prevLive = run;
    this.#liveHead = run;
    this.#liveCount++;
  }

  #removeLive(run: LiveRun): void {
    const { prevLive, nextLive } = run;
    if (prevLive) prevLive.nextLive = nextLive;
    else this.#liveHead = nextLive;
    if (nextLive) nextLive.prevLive = prevLive;
    run.prevLive = run.nextLive = undefined;
    this.#liveCount--;
    if (run.byId) this.#byId.delete(run.taskRunId);
  }

  /** The live runs, oldest first, as a copy (cancelling them changes the list). */
  #liveRuns(): LiveRun[] {
    const runs: LiveRun[] = [];
    for (let run = this.#liveHead; run; run = run.nextLive) runs.push(run);
    return runs.reverse();
  }

  #wakeIfIdle(): void {
    if (this.#liveCount === 0 && this.#children.size === 0 && this.#onIdle) {
      const wake = this.#onIdle;
      this.#onIdle = undefined;
      wake();
    }
  }
}
