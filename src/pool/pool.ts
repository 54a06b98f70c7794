import { CancelledError, UsageError, WorkerStartError } from '../errors.ts';
import type { LifecycleState, Lend, TaskJob, TaskOutcome } from '../core/task-runner.ts';
import { ReadyQueue } from '../schedule/ready-queue.ts';
import { isEmpty, ResourcePool, type Resources } from '../schedule/resources.ts';
import type { HandleOutcome, WorkerHandle } from './worker-handle.ts';

export interface PoolOptions {
  /** How many workers (slots) run tasks at once. */
  readonly size: number;
  /** What the pool's workers have in all; a running task holds its `resources` from it. */
  readonly resources: Resources;
  /**
   * How many short jobs a busy worker may hold ahead of the one it runs (threads and processes,
   * where a round trip costs more than a short task). 1 turns pipelining off. @default 1
   */
  readonly pipelineDepth?: number;
  /**
   * Start workers on demand, as work arrives, up to `size` (threads and processes, whose workers
   * take a while to start: a flow run that submits two tasks starts two). A start-up failure then
   * shows on the tasks that waited for the worker. @default false: `start()` starts them all.
   */
  readonly lazy?: boolean;
  /** Makes worker number `index` (0-based); called again with the same index to replace a dead one. */
  createHandle(index: number): WorkerHandle | Promise<WorkerHandle>;
}

/** How a pool reports a job's end: one function may serve every job (it is told which). */
export type JobDone = (outcome: TaskOutcome, job: TaskJob) => void;

interface Entry {
  readonly job: TaskJob;
  readonly done: JobDone;
  /**
   * `done` reacts at once (the engine's callback, not a promise's): once it has returned, the
   * run's end is announced, and its slot may take the next job without waiting a microtask.
   */
  readonly prompt: boolean;
  /** Workers that died with this job in them. */
  crashes: number;
}

interface Member {
  readonly handle: WorkerHandle;
  readonly index: number;
  inFlight: number;
  /** Running a suspect job alone: nothing is pipelined behind it. */
  isolated: boolean;
  replaced: boolean;
}

interface Loan {
  count: number;
  readonly giveBack: () => void;
}

const noop = (): void => {};

/** A task whose runs take less than this (ms, in the worker) may be pipelined to busy workers. */
const PIPELINE_BELOW_MS = 1;
/** Replacement workers that fail to start this many times in a row fail the pool. */
const MAX_START_FAILURES = 3;

/**
 * A local pool: queued jobs start by priority (FIFO within a priority) on idle workers, holding
 * their resources while they run. Workers that die are replaced; a worker that keeps dying at
 * start-up fails the pool instead of looping. The same pool serves the 'async', 'threads' and
 * 'processes' schedulers; only the {@link WorkerHandle} differs.
 *
 * Short tasks (measured) are pipelined: a busy worker gets up to `pipelineDepth` of them ahead, so
 * it never idles through a round trip. Long, timed or resource-holding tasks only go to idle
 * workers, so priority order and load balance hold where they matter.
 */
export class Pool {
  readonly #options: PoolOptions;
  readonly #queue = new ReadyQueue<Entry>();
  /** Suspects of a crash, each to run alone on an idle worker before anything else. */
  readonly #suspects: Entry[] = [];
  readonly #idle: Member[] = [];
  readonly #members: (Member | undefined)[] = [];
  readonly #resources: ResourcePool;
  readonly #usesResources: boolean;
  readonly #depth: number;
  /** Mean run time (ms, in the worker) of each task name, for the pipelining decision. */
  readonly #serviceMs = new Map<string, number>();
  readonly #starting = new Set<Promise<unknown>>();
  /** Slots (indexes) whose worker is starting. */
  readonly #spawning = new Set<number>();
  /** Slots lent out to tasks that wait on other tasks, still to be retired when a worker frees. */
  #toRetire = 0;
  /** Slots lent out now, by the task run that waits. */
  readonly #loans = new Map<string, Loan>();
  #startFailures = 0;
  #lastStartError: unknown;
  #state: LifecycleState = 'idle';

  constructor(options: PoolOptions) {
    this.#options = options;
    this.#resources = new ResourcePool(options.resources);
    this.#usesResources = !isEmpty(options.resources);
    this.#depth = this.#usesResources ? 1 : Math.max(1, options.pipelineDepth ?? 1);
  }

  get state(): LifecycleState {
    return this.#state;
  }

  /** Jobs waiting for a worker. */
  get queued(): number {
    return this.#queue.size + this.#suspects.length;
  }

  async start(): Promise<void> {
    if (this.#state !== 'idle') return;
    if (this.#options.lazy) {
      this.#state = 'running';
      return;
    }
    this.#state = 'starting';
    const made = await Promise.allSettled(Array.from({ length: this.#options.size }, (_, i) => new Promise<WorkerHandle>((resolve) => resolve(this.#options.createHandle(i)))));
    const failed = made.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.#state = 'failed';
      await Promise.all(made.map((r) => (r.status === 'fulfilled' ? r.value.close() : undefined)));
      throw failed.reason;
    }
    made.forEach((r, i) => this.#adopt((r as PromiseFulfilledResult<WorkerHandle>).value, i));
    this.#state = 'running';
    this.#pump();
  }

  submit(job: TaskJob): Promise<TaskOutcome> {
    return new Promise<TaskOutcome>((resolve) => this.enqueue(job, resolve, false));
  }

  /**
   * {@link submit} with a callback: `done(outcome, job)` is called once, never synchronously from
   * this call. The engine's path: no promise per job, and one `done` for all its jobs.
   */
  enqueue(job: TaskJob, done: JobDone, prompt = true): void {
    if (this.#state !== 'running') {
      const outcome: TaskOutcome = this.#state === 'failed' && this.#lastStartError instanceof Error
        ? { state: 'Crashed', error: this.#lastStartError }
        : { state: 'Failed', error: new UsageError(`The task runner is ${this.#state}, not running: start() it before submitting work.`) };
      queueMicrotask(() => done(outcome, job));
      return;
    }
    this.#queue.push({ job, done, prompt, crashes: 0 }, job.options.priority);
    this.#pump();
  }

  /**
   * The task run `holder`, running on this pool, is about to wait for other task runs: the pool
   * grows by one worker until the returned function is called, then retires one as soon as one is
   * idle (Dask's secede/rejoin). Overlapping waits of one holder (asCompleted waits on many
   * futures) lend one slot, given back when the last wait ends. Pools whose tasks run in the
   * flow's process ('async', sequential) pass it to their tasks; a cluster worker's pool can
   * pass it to tasks that wait on nested `getClient()` runs. The one implementation of a
   * {@link Lend}.
   */
  readonly lend: Lend = (holder) => {
    if (this.#state !== 'running') return noop;
    let loan = this.#loans.get(holder);
    if (loan) loan.count++;
    else this.#loans.set(holder, (loan = { count: 1, giveBack: this.#lendOne() }));
    let returned = false;
    return () => {
      if (returned) return;
      returned = true;
      if (--(loan as Loan).count > 0) return;
      this.#loans.delete(holder);
      (loan as Loan).giveBack();
    };
  };

  #lendOne(): () => void {
    let index = this.#options.size;
    while (this.#members[index] !== undefined || this.#spawning.has(index)) index++;
    this.#spawn(index);
    return () => {
      this.#toRetire++;
      this.#retireIdle();
    };
  }

  /** Closes idle workers while lent slots are owed back. */
  #retireIdle(): void {
    while (this.#toRetire > 0) {
      const member = this.#takeIdle();
      if (!member) return;
      this.#toRetire--;
      this.#members[member.index] = undefined;
      void member.handle.close();
    }
  }

  /** Resolves every queued job as Cancelled. */
  cancelQueued(reason: string): void {
    const error = new CancelledError(reason);
    for (const entry of this.#queue.drain()) entry.done({ state: 'Cancelled', error }, entry.job);
    for (const entry of this.#suspects.splice(0)) entry.done({ state: 'Cancelled', error }, entry.job);
  }

  /** Drops queued work and stops every worker, those still starting included. */
  async shutdown(): Promise<void> {
    if (this.#state === 'closed') return;
    this.#state = 'draining';
    this.cancelQueued('the task runner shut down');
    const handles = this.#members.filter((m): m is Member => m !== undefined).map((m) => m.handle);
    this.#members.length = 0;
    this.#idle.length = 0;
    await Promise.all([...handles.map((h) => h.close()), ...this.#starting]);
    this.#state = 'closed';
  }

  #pump(): void {
    // While a batch queues behind busy workers nothing can start (no idle worker, no pipelining,
    // none to start): a worker's release pumps again.
    if (this.#idle.length === 0 && this.#depth === 1 && !this.#options.lazy) return;
    this.#dispatchReady();
    if (this.#options.lazy && this.#state === 'running') this.#grow();
  }

  #dispatchReady(): void {
    while (this.#state === 'running' && this.#suspects.length > 0) {
      const member = this.#takeIdle();
      if (!member) return;
      const entry = this.#suspects.shift() as Entry;
      if (this.#settleIfAborted(entry)) {
        this.#idle.push(member);
        continue;
      }
      member.isolated = true;
      this.#dispatch(entry, member);
    }
    while (this.#queue.size > 0 && this.#state === 'running') {
      let member = this.#takeIdle();
      if (!member) {
        member = this.#depth > 1 ? this.#spare() : undefined;
        const head = this.#queue.peek();
        if (!member || !head || !this.#pipelinable(head.job)) return;
      }
      const entry = this.#usesResources ? this.#queue.popFirst((e) => e.job.cancellation.aborted || this.#resources.fits(e.job.options.resources)) : this.#queue.pop();
      if (!entry || this.#settleIfAborted(entry)) {
        if (member.inFlight === 0) this.#idle.push(member);
        if (!entry) return;
        continue;
      }
      this.#dispatch(entry, member);
    }
  }

  #dispatch(entry: Entry, member: Member): void {
    const { job } = entry;
    const need = job.options.resources;
    if (this.#usesResources) this.#resources.acquire(need);
    member.inFlight++;
    const { handle } = member;
    // Anonymous arrows: one closure per job (a named one would also be wrapped by tsx's keepNames).
    if (handle.runThen) handle.runThen(job, entry.crashes, this.lend, (outcome) => this.#ended(entry, member, need, outcome));
    else void handle.run(job, entry.crashes, this.lend).then((outcome) => this.#ended(entry, member, need, outcome));
  }

  #ended(entry: Entry, member: Member, need: Resources, outcome: HandleOutcome): void {
    if (this.#usesResources) this.#resources.release(need);
    this.#settle(entry, outcome);
    // The run's 'task-run:finished' is emitted before the 'task-run:started' of the job that
    // follows it on this slot: a prompt `done` (the engine's) has emitted it already, so the slot
    // goes on now (a job never ends synchronously, so this does not nest); a submit() caller
    // reacts on its promise, so the slot starts its next job a microtask later, after that reaction.
    // (Node's queueMicrotask costs an AsyncResource and a bound function: the engine's runs skip it.)
    if (entry.prompt && outcome.state !== 'Requeue') this.#release(member);
    else queueMicrotask(() => this.#release(member));
  }

  #settle(entry: Entry, outcome: HandleOutcome): void {
    if (outcome.state !== 'Requeue') {
      // Run times only decide pipelining: a pool that never pipelines (depth 1) keeps none.
      if (outcome.serviceMs !== undefined && this.#depth > 1) this.#learn(entry.job.options.name, outcome.serviceMs);
      entry.done(outcome, entry.job);
      return;
    }
    if (this.#state !== 'running') {
      entry.done({ state: 'Cancelled', error: new CancelledError('the task runner shut down') }, entry.job);
    } else if (outcome.suspect) {
      entry.crashes++;
      this.#suspects.push(entry);
    } else {
      this.#queue.push(entry, entry.job.options.priority);
    }
  }

  #settleIfAborted(entry: Entry): boolean {
    const { cancellation } = entry.job;
    if (!cancellation.aborted) return false;
    const reason = cancellation.reason;
    entry.done({ state: 'Cancelled', error: reason instanceof Error ? reason : new CancelledError('the task run was cancelled') }, entry.job);
    return true;
  }

  #release(member: Member): void {
    member.inFlight--;
    if (member.inFlight === 0) member.isolated = false;
    if (this.#state !== 'running') return;
    if (!member.handle.alive) {
      this.#buried(member);
      return;
    }
    if (member.inFlight === 0) {
      this.#idle.push(member);
      this.#retireIdle();
    }
    this.#pump();
  }

  /** A worker died: free its slot and start another (at once, or on demand when lazy). */
  #buried(member: Member): void {
    if (member.replaced) return;
    member.replaced = true;
    if (this.#members[member.index] === member) this.#members[member.index] = undefined;
    if (this.#options.lazy) this.#pump();
    else this.#spawn(member.index);
  }

  #takeIdle(): Member | undefined {
    for (;;) {
      const member = this.#idle.pop();
      if (!member || (member.handle.alive && this.#members[member.index] === member)) return member;
      // A worker that died while idle (killed from outside) leaves its slot here.
      if (!member.handle.alive && member.inFlight === 0 && this.#state === 'running') queueMicrotask(() => this.#buried(member));
    }
  }

  /** Lazy pools: starts workers for the work waiting, one per waiting job, up to `size`. */
  #grow(): void {
    const waiting = this.#queue.size + this.#suspects.length;
    if (waiting <= this.#spawning.size) return;
    for (let i = 0; i < this.#options.size && waiting > this.#spawning.size; i++) {
      if (this.#members[i] === undefined && !this.#spawning.has(i)) this.#spawn(i);
    }
  }

  /** The busy worker with the fewest jobs in hand, if one has room for a pipelined job. */
  #spare(): Member | undefined {
    let best: Member | undefined;
    for (const m of this.#members) {
      if (m && m.handle.alive && !m.isolated && !m.handle.waiting && m.inFlight < this.#depth && (!best || m.inFlight < best.inFlight)) best = m;
    }
    return best;
  }

  #pipelinable(job: TaskJob): boolean {
    if (job.options.timeoutMs !== Infinity) return false;
    const ms = this.#serviceMs.get(job.options.name);
    return ms !== undefined && ms < PIPELINE_BELOW_MS;
  }

  #learn(name: string, ms: number): void {
    const mean = this.#serviceMs.get(name);
    this.#serviceMs.set(name, mean === undefined ? ms : mean * 0.8 + ms * 0.2);
  }

  /** Starts a worker for slot `index`; workers that keep failing to start fail the pool. */
  #spawn(index: number): void {
    this.#spawning.add(index);
    const attempt = Promise.resolve()
      .then(() => this.#options.createHandle(index))
      .then(
        (fresh) => {
          this.#spawning.delete(index);
          this.#startFailures = 0;
          if (this.#state !== 'running') return fresh.close();
          this.#adopt(fresh, index);
          this.#pump();
        },
        (error: unknown) => {
          this.#spawning.delete(index);
          if (this.#state !== 'running') return;
          this.#lastStartError = error;
          if (++this.#startFailures < MAX_START_FAILURES) return this.#spawn(index);
          this.#fail(error, index);
        },
      )
      .finally(() => this.#starting.delete(attempt));
    this.#starting.add(attempt);
  }

  /** Replacement workers keep dying at start-up: stop trying and fail what waits. */
  #fail(error: unknown, index: number): void {
    this.#state = 'failed';
    const last = error instanceof WorkerStartError ? error : undefined;
    const failure = new WorkerStartError(last?.workerId ?? `number ${index} of the pool`, MAX_START_FAILURES, last?.reason ?? (error instanceof Error ? error.message : String(error)), error);
    this.#lastStartError = failure;
    const crash = (entry: Entry) => entry.done({ state: 'Crashed', error: failure }, entry.job);
    for (const entry of this.#queue.drain()) crash(entry);
    for (const entry of this.#suspects.splice(0)) crash(entry);
  }

  #adopt(handle: WorkerHandle, index: number): void {
    const member: Member = { handle, index, inFlight: 0, isolated: false, replaced: false };
    this.#members[index] = member;
    this.#idle.push(member);
  }
}
