import { CancelledError, TaskTimeoutError, UsageError, WorkerCrashedError, WorkerStartError } from '../errors.ts';
import type { Lend, RunnerContext, TaskJob } from '../core/task-runner.ts';
import { now } from '../events/events.ts';
import { emitAttempt, emitStarted, outcomeOf } from '../events/attempt-events.ts';
import type { AttemptEvent } from '../protocol/attempt-events.ts';
import type { FromWorker, SubmittedResult, ToWorker, WireJobs, WireTaskDef } from '../protocol/messages.ts';
import { encodeArgs, withDecoded } from '../protocol/prototypes.ts';
import { encodeBatch, explain, serialize, takeTransferList } from '../protocol/serialize.ts';
import { toWireError } from '../protocol/wire-error.ts';
import type { HandleOutcome, WorkerHandle } from './worker-handle.ts';

/** The pool's end of one worker thread or child process. */
export interface WorkerLink {
  /** Sends a message; throws if something in it cannot be cloned (nothing is sent then). */
  send(message: ToWorker, transfer: readonly ArrayBuffer[]): void;
  onMessage(listener: (message: FromWorker) => void): void;
  /** Called once, when the worker is gone, with why (`exited with code 1`, `was killed by SIGKILL`). */
  onExit(listener: (reason: string) => void): void;
  /** Stops the worker now (terminate, SIGKILL); resolves once it is gone. */
  kill(): Promise<void>;
  /** Asks the worker to exit, killing it if it has not within `graceMs`; resolves once it is gone. */
  close(graceMs: number): Promise<void>;
}

/** How long a task that ignores its signal may run past `timeoutMs` before its worker is stopped. */
export const TIMEOUT_GRACE_MS = 500;
/** How often in-flight jobs are checked for cancellation (reading `.aborted` costs nothing per job). */
const CANCEL_POLL_MS = 20;
/** A worker that has not said it is ready within this long is stopped as failed. */
const READY_TIMEOUT_MS = 60_000;

/** Task defs a worker remembers at most. */
const MAX_DEFS = 1024;
const NO_TRANSFER: ArrayBuffer[] = [];

function emptyOutbox(): { -readonly [K in keyof WireJobs]: K extends 'firstId' ? number : WireJobs[K] extends readonly (infer E)[] ? E[] : never } {
  return { firstId: 0, taskRunIds: [], args: [], defs: [], newDefs: [] };
}

function hasObjects(args: readonly unknown[]): boolean {
  for (const a of args) if (typeof a === 'object' && a !== null) return true;
  return false;
}

interface InFlight {
  readonly job: TaskJob;
  readonly resolve: (outcome: HandleOutcome) => void;
  readonly crashes: number;
  watchdog?: NodeJS.Timeout;
  cancelSent?: boolean;
  /** The pool's lend, for a task here that waits on task runs it submitted. */
  readonly lend?: Lend;
  /** A start that came after another job's end in one batch, not announced yet (see #onMessage). */
  lateStart?: { attempt: number; time: number };
}

/**
 * A worker thread or child process as the pool sees it: it sends jobs in batches, turns the
 * worker's events into the flow run's events, and enforces what the worker cannot enforce on
 * itself: a hard stop on cancel, on a timeout the task ignores, and on a crash.
 */
export class RemoteHandle implements WorkerHandle {
  #alive = true;
  #nextId = 1;
  readonly #inFlight = new Map<number, InFlight>();
  #outbox = emptyOutbox();
  #outboxTransfer: ArrayBuffer[][] = [];
  #flushQueued = false;
  #poll: NodeJS.Timeout | undefined;
  #fatal: string | undefined;
  /** Why weft itself stopped the worker, for the 'worker:left' event. */
  #stoppedBecause: string | undefined;
  readonly #exited: Promise<void>;
  /** Task defs this worker already has, by the options object they came with. */
  readonly #defs = new Map<object, number>();
  readonly #defList: WireTaskDef[] = [];
  /** Task runs submitted from this worker (`getClient()`) not answered yet. */
  #nested = 0;
  /** Jobs holding a late start, announced on the next check phase unless their end comes first. */
  #lateStarts: InFlight[] = [];
  /** An end was reported and has not reached the flow run's events yet: starts are held back until it has. */
  #endPending = false;

  private constructor(
    readonly id: string,
    readonly link: WorkerLink,
    readonly context: RunnerContext,
  ) {
    this.#exited = new Promise<void>((resolve) => link.onExit((reason) => resolve(this.#onExit(reason))));
    link.onMessage((message) => this.#onMessage(message));
  }

  /** Wraps a freshly started worker and resolves once it is ready, or rejects if it dies first. */
  static start(id: string, link: WorkerLink, context: RunnerContext): Promise<RemoteHandle> {
    return new Promise<RemoteHandle>((resolve, reject) => {
      let ready = false;
      const fail = (reason: string) => {
        if (ready) return;
        ready = true;
        clearTimeout(timer);
        void link.kill();
        reject(new WorkerStartError(id, 1, `it ${reason} before it was ready`));
      };
      const timer = setTimeout(() => fail(`did not start within ${READY_TIMEOUT_MS} ms`), READY_TIMEOUT_MS);
      link.onExit((reason) => fail(reason));
      link.onMessage((message) => {
        if (message.type === 'start-failed') fail(`failed to start (${message.error.message})`);
        if (message.type !== 'ready' || ready) return;
        ready = true;
        clearTimeout(timer);
        const handle = new RemoteHandle(id, link, context);
        context.events.emit('worker:joined', { workerId: id, resources: {}, time: now() });
        resolve(handle);
      });
    });
  }

  get alive(): boolean {
    return this.#alive;
  }

  run(job: TaskJob, crashes = 0, lend?: Lend): Promise<HandleOutcome> {
    if (!this.#alive) return Promise.resolve({ state: 'Requeue', suspect: false });
    // The prototype check, before anything is sent: a class instance would cross as a plain object.
    let args: unknown[];
    try {
      args = hasObjects(job.args) ? encodeArgs(job.args) : job.args;
    } catch (error) {
      return Promise.resolve({ state: 'Failed', error: error as Error, workerId: this.id });
    }
    const id = this.#nextId++;
    return new Promise<HandleOutcome>((resolve) => {
      this.#inFlight.set(id, { job, resolve, crashes, lend });
      this.#enqueue(id, job, args);
      this.#outboxTransfer.push(hasObjects(job.args) ? takeTransferList(job.args) : NO_TRANSFER);
      if (!this.#flushQueued) {
        this.#flushQueued = true;
        queueMicrotask(() => this.#flush());
      }
      this.#poll ??= setInterval(() => this.#checkCancelled(), CANCEL_POLL_MS).unref();
    });
  }

  /** Adds the job to the next message: its task def by number once this worker has it, whole the first time. */
  #enqueue(id: number, job: TaskJob, args: unknown[]): void {
    const out = this.#outbox;
    if (out.taskRunIds.length === 0) out.firstId = id;
    const index = out.taskRunIds.length;
    out.taskRunIds.push(job.taskRunId);
    out.args.push(args);
    let def = this.#defs.get(job.options);
    if (def === undefined) {
      const task = { ref: job.ref, options: job.options };
      // Options made per submit (annotate) would grow the worker's table without end: send those whole.
      if (this.#defList.length < MAX_DEFS) {
        this.#defList.push(task);
        def = this.#defList.length;
        this.#defs.set(job.options, def);
      }
      out.newDefs.push([index, def ?? 0, task]);
    }
    out.defs.push(def ?? 0);
  }

  async close(): Promise<void> {
    this.#stoppedBecause ??= 'closed: the task runner shut down';
    this.#stop(() => ({ state: 'Cancelled', error: new CancelledError('the task runner shut down') }));
    await this.link.close(1000);
    await this.#exited;
  }

  /** Sends every job queued in this turn as one message; a job that cannot be cloned fails alone. */
  #flush(): void {
    this.#flushQueued = false;
    const jobs = this.#outbox;
    const transfers = this.#outboxTransfer;
    this.#outbox = emptyOutbox();
    this.#outboxTransfer = [];
    const flowRunId = this.context.flowRunId;
    if (!this.#alive || jobs.taskRunIds.length === 0) return;
    const all = jobs.taskRunIds.map((_, i) => i);
    encodeBatch(all, {
      encode: () => this.link.send({ type: 'run', flowRunId, ...jobs }, transfers.flat()),
      check: (i) => void serialize(jobs.args[i], 'args'),
      culprit: (i, error) => void this.#finish(jobs.firstId + i, { state: 'Failed', error, workerId: this.id }),
      // The rest go alone and whole, renumbered: the job that introduced a def may be the one that
      // failed, so every def travels with its job, and the worker's def table starts over.
      rest: (kept) => {
        const fresh = new Map(jobs.newDefs.map(([i, , task]) => [i, task]));
        const whole = jobs.taskRunIds.map((_, i) => fresh.get(i) ?? (this.#defList[(jobs.defs[i] as number) - 1] as WireTaskDef));
        this.#defs.clear();
        this.#defList.length = 0;
        for (const i of kept) {
          const args = jobs.args[i] as unknown[];
          try {
            this.link.send({ type: 'run', flowRunId, firstId: jobs.firstId + i, taskRunIds: [jobs.taskRunIds[i] as string], args: [args], defs: [0], newDefs: [[0, 0, whole[i] as WireTaskDef]] }, transfers[i] ?? []);
          } catch (error) {
            this.#finish(jobs.firstId + i, { state: 'Failed', error: explain(args, 'args', error), workerId: this.id });
          }
        }
      },
    });
  }

  #onMessage(message: FromWorker): void {
    if (message.type === 'fatal') this.#fatal = `threw an uncaught error outside its task's promise (${message.error.name}: ${message.error.message})`;
    else if (message.type === 'submit') this.#submitNested(message);
    else if (message.type === 'batch') {
      // The end of a job reaches the flow run's events a few microtasks after this loop (through
      // the pool and the engine): a start that follows an end is held back until then, so the
      // stream never shows the next job started before the one before it finished. Until a
      // macrotask later, not to the end of this batch: a child process's IPC delivers the messages
      // of one read back to back, before any microtask runs (a start in the next batch overtook
      // the end in this one).
      for (const event of message.events) {
        this.#onEvent(event);
        if (event.type === 'done' && !this.#endPending) {
          this.#endPending = true;
          setImmediate(this.#afterEnds);
        }
      }
    }
  }

  get waiting(): boolean {
    return this.#nested > 0;
  }

  /**
   * A task in this worker submits a task run (`getClient()`): the flow run records and runs it on
   * this runner, and the answer goes back to the worker. While the task waits, this worker's slot
   * is lent out (the pool starts another worker), so tasks waiting on their own cannot deadlock it.
   */
  #submitNested(message: FromWorker & { type: 'submit' }): void {
    const { requestId, parentTaskRunId } = message;
    const parent = [...this.#inFlight.values()].find((e) => e.job.taskRunId === parentTaskRunId);
    if (!parent) {
      // Its task ended (cancelled, say) while the message was on its way: nothing waits for the answer.
      this.#answer({ type: 'submitted', requestId, state: 'Failed', error: toWireError(new UsageError(`Task run '${parentTaskRunId}' submitted a task after it ended.`)) });
      return;
    }
    this.#nested++;
    const giveBack = parent.lend?.(parentTaskRunId);
    const settle = (answer: SubmittedResult) => {
      this.#nested--;
      giveBack?.();
      this.#answer(answer);
    };
    parent.job.submitNested(message.task, message.args).then(
      (value) => settle({ type: 'submitted', requestId, state: 'Completed', value }),
      (error: unknown) => settle({ type: 'submitted', requestId, state: 'Failed', error: toWireError(error) }),
    );
  }

  #answer(message: SubmittedResult): void {
    if (!this.#alive) return;
    try {
      this.link.send(message, message.state === 'Completed' ? takeTransferList([message.value]) : NO_TRANSFER);
    } catch (error) {
      if (message.state !== 'Completed') return;
      this.link.send({ type: 'submitted', requestId: message.requestId, state: 'Failed', error: toWireError(explain(message.value, 'result', error)) }, NO_TRANSFER);
    }
  }

  /** The ends reported have reached the flow run's events: the starts held back behind them go out. */
  readonly #afterEnds = (): void => {
    this.#endPending = false;
    const entries = this.#lateStarts;
    this.#lateStarts = [];
    for (const entry of entries) this.#announceLateStart(entry);
  };

  /** Emits a held-back start; a job whose end came first carried it on its outcome instead. */
  #announceLateStart(entry: InFlight): void {
    const start = entry.lateStart;
    if (!start) return;
    entry.lateStart = undefined;
    emitStarted(this.context.events, entry.job, start.attempt, this.id, start.time);
  }

  #onEvent(event: AttemptEvent<number>): void {
    const entry = this.#inFlight.get(event.id);
    if (entry && event.type === 'started' && this.#endPending) {
      entry.lateStart = { attempt: event.attempt, time: event.time };
      this.#lateStarts.push(entry);
    } else {
      if (entry && event.type === 'retried') this.#announceLateStart(entry);
      emitAttempt(this.context.events, event, entry?.job, this.id);
    }
    if (!entry) return;
    if (event.type === 'started') {
      if (entry.job.options.timeoutMs !== Infinity) this.#arm(event.id, entry);
    } else if (event.type === 'done') {
      // Marked class instances in a result get their prototypes back (after an import, if need be).
      withDecoded(outcomeOf(event, this.id), (outcome) => this.#finish(event.id, outcome));
    }
  }

  /** The worker enforces `timeoutMs` itself; this catches a task that blocks it or ignores its signal. */
  #arm(id: number, entry: InFlight): void {
    clearTimeout(entry.watchdog);
    const { name, timeoutMs } = entry.job.options;
    entry.watchdog = setTimeout(() => {
      if (!this.#inFlight.has(id)) return;
      this.#stoppedBecause = `stopped: task '${name}' ignored its signal ${TIMEOUT_GRACE_MS} ms past timeoutMs (${timeoutMs} ms)`;
      this.#stop((other) => (other === id ? { state: 'Failed', error: new TaskTimeoutError(name, timeoutMs), workerId: this.id } : { state: 'Requeue', suspect: false }));
      void this.link.kill();
    }, timeoutMs + TIMEOUT_GRACE_MS);
  }

  /**
   * Cancelled jobs: the one running is stopped hard, with its worker (the pool starts another);
   * one still waiting in the worker is told to cancel, which it does before starting it.
   */
  #checkCancelled(): void {
    let first = true;
    for (const [id, entry] of this.#inFlight) {
      if (entry.job.cancellation.aborted) {
        const reason = entry.job.cancellation.reason;
        const error = reason instanceof CancelledError ? reason : new CancelledError('the task run was cancelled');
        if (first) {
          this.#stoppedBecause = `stopped: task run '${entry.job.taskRunId}' was cancelled while it ran`;
          this.#stop((other) => (other === id ? { state: 'Cancelled', error, workerId: this.id } : { state: 'Requeue', suspect: false }));
          void this.link.kill();
          return;
        }
        if (!entry.cancelSent) {
          entry.cancelSent = true;
          this.link.send({ type: 'cancel', id, reason: error.reason }, []);
        }
      }
      first = false;
    }
  }

  #finish(id: number, reported: HandleOutcome): void {
    const entry = this.#inFlight.get(id);
    if (!entry) return;
    let outcome = reported;
    if (entry.lateStart) {
      if (outcome.state !== 'Requeue') outcome = { ...outcome, started: entry.lateStart };
      entry.lateStart = undefined;
    }
    this.#inFlight.delete(id);
    clearTimeout(entry.watchdog);
    if (this.#inFlight.size === 0 && this.#poll) {
      clearInterval(this.#poll);
      this.#poll = undefined;
    }
    entry.resolve(outcome);
  }

  /** Marks the worker dead and settles every job in it, each as `outcomeOf(id)` says. */
  #stop(outcomeOf: (id: number) => HandleOutcome): void {
    if (!this.#alive) return;
    this.#alive = false;
    clearInterval(this.#poll);
    this.#poll = undefined;
    for (const id of [...this.#inFlight.keys()]) this.#finish(id, outcomeOf(id));
  }

  /**
   * The worker died on its own. With one job in it, that job caused it: Crashed. With several,
   * the culprit is unknown (results travel in batches), so each is run again alone.
   */
  #onExit(code: string): void {
    const reason = this.#fatal ?? code;
    this.context.events.emit('worker:left', { workerId: this.id, reason: this.#stoppedBecause ?? reason, time: now() });
    const alone = this.#inFlight.size === 1;
    this.#stop((id) => {
      const entry = this.#inFlight.get(id) as InFlight;
      if (!alone) return { state: 'Requeue', suspect: true };
      return { state: 'Crashed', error: new WorkerCrashedError(entry.job.options.name, this.id, reason, entry.crashes + 1), workerId: this.id };
    });
  }
}
