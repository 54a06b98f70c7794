import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { realpathSync } from 'node:fs';
import type { Job, Redis } from './libs.ts';

import { CancelledError, ClusterConnectionError, TaskNotFoundError } from '../errors.ts';
import { RunSignal } from '../core/run-signal.ts';
import type { AttemptHooks } from '../core/attempts.ts';
import type { TaskJob, TaskOutcome } from '../core/task-runner.ts';
import { executeTask, sendable } from '../entry/execute.ts';
import { Pool } from '../pool/pool.ts';
import type { WorkerHandle } from '../pool/worker-handle.ts';
import { deserialize } from '../protocol/serialize.ts';
import { toWireError } from '../protocol/wire-error.ts';
import type { Resources } from '../schedule/resources.ts';
import { bounded } from '../util/bounded.ts';
import { connect, duplicate, mayRetry, parseAddress, type ClusterAddress } from './connection.ts';
import { JobIntake } from './intake.ts';
import { ModuleGuard } from './module-guard.ts';
import { Outbox } from './outbox.ts';
import { Pulse } from './pulse.ts';
import { holderValue, holderWorker, reapDead } from './reaper.ts';
import { HEARTBEAT_MS, requirementSignature, type BatchPayload, type ControlMessage, type TaskWire, type WorkerInfo } from './protocol.ts';
import { ClusterQueues, keys, type JobData, type NewJob } from './queues.ts';
import { decodeJob, encodeJob } from './job-payload.ts';
import { mayHaveRun, rerunPlan } from './rerun-plan.ts';
import { JobSlice, SLICE_MS } from './slice.ts';
import { NestedRequests } from './nested.ts';
import { installNestedSubmitter } from '../core/nested.ts';
import type { WireTaskDef } from '../protocol/messages.ts';
import { portableRef } from '../protocol/task-ref.ts';
import { localArgs, portableValue } from '../protocol/portable-classes.ts';
import { ClockSync } from './clock.ts';
import { WorkerFeed } from '../dashboard/feed.ts';
import { openRing } from './ring.ts';
import { now } from '../events/events.ts';
import type { AttemptEvent } from '../protocol/attempt-events.ts';

/** Options of a cluster worker (`weft worker`, and each process of a LocalCluster). */
export interface ClusterWorkerOptions {
  readonly address: string;
  /** Tasks run at once. */
  readonly concurrency: number;
  /** What this worker has; a task needing `{ GPU: 1 }` runs only here if this declares it. */
  readonly resources: Resources;
  /** Only task modules under this directory are imported; jobs naming others are refused. */
  readonly root: string;
  /** The worker's id in events and task runs. @default `${hostname}-${pid}` */
  readonly id?: string;
  /**
   * How long a job's lock lasts without renewal: a worker that dies is noticed after about this
   * long, and its jobs run again elsewhere. A task that blocks the event loop longer than this is
   * taken for dead. @default 30000 (BullMQ's own default)
   */
  readonly lockMs?: number;
  /** How long a refused first connection is tried again (a Redis still starting). @default 10000 */
  readonly connectMs?: number;
}

/** The function of a job on a cluster worker: never called, since the task runs by its ref (`executeTask` imports it). */
const byRef = (): never => {
  throw new Error('a cluster worker runs tasks by their ref, not by a function');
};

/** The pool's outcome of a run handed back to the queue before it began (nothing is sent of it). */
const HANDED_BACK: TaskOutcome = { state: 'Cancelled', error: new CancelledError('handed back to the queue: another job carries it') };

/** Weight of the latest task in the recent mean run time the heartbeat reports (adaptive scaling reads it). */
const RECENT_WEIGHT = 0.2;
/** Distinct refusals a worker writes to its console (each at most once). */
const MAX_REFUSALS_LOGGED = 100;

/** How long a job's holder is remembered: long enough for its stall to be found (a few lock lapses). */
const HOLDER_TTL_MS = 10 * 60_000;

/**
 * A cluster worker: takes batches of task runs from the cluster's BullMQ queues (its
 * {@link JobIntake}), decides what a job that may have run before needs ({@link rerunPlan}), and
 * schedules the runs on the same {@link Pool} the local runners use (priority, resources, and slots
 * lent to tasks that wait on nested work), each through `executeTask`. It sends events and results
 * back to the client that submitted them, registers itself with heartbeats, and obeys cancel
 * messages.
 */
export class ClusterWorker {
  readonly id: string;
  readonly address: ClusterAddress;
  readonly #options: ClusterWorkerOptions;
  readonly #root: string;
  readonly #guard: ModuleGuard;
  readonly #pool: Pool;
  /** Runs taken in and not yet finished (queued in the pool or running), for cancel messages. */
  readonly #running = new Map<string, { signal: RunSignal; flowRunId: string; channel: string }>();
  /** Refusals already written to the console. */
  readonly #refusalsLogged = new Set<string>();
  #nested: NestedRequests | undefined;
  /** Helpers of the intake for slots lent out now, one per lent slot (see #slot). */
  readonly #widened: (() => void)[] = [];
  #slots = 0;
  /** Task runs executing in a slot now (the rest of #running wait for one). */
  #executing = 0;
  /** Recent mean run time of the tasks run here, ms, by requirement signature (a moving average). */
  readonly #taskMs: Record<string, number> = {};
  /** Cancelled flow runs (and single task runs), by id, with when; forgotten after an hour. */
  readonly #cancelled = new Map<string, number>();
  #intake: JobIntake | undefined;
  /** Set when close() handed running jobs back: their runs go to other workers, and nothing more is said of them here. */
  #handedBack = false;
  #redis: Redis | undefined;
  #queues: ClusterQueues | undefined;
  #sub: Redis | undefined;
  #outbox: Outbox | undefined;
  /** This host's clock against the cluster's: events leave stamped on the cluster's clock. */
  readonly #clock = new ClockSync();
  /** What this worker tells the cluster's dashboards (written with the outbox's flushes). */
  readonly #feed = new WorkerFeed(() => now() + this.#clock.offsetMs);
  #heartbeat: NodeJS.Timeout | undefined;
  #pulse: Pulse | undefined;
  #closing = false;
  #lastError = 0;
  /** Runs last in close(), after every connection is gone. */
  onClosed: (() => Promise<void>) | undefined;

  constructor(options: ClusterWorkerOptions) {
    this.#options = options;
    this.address = parseAddress('address', options.address);
    // Random too: containers often share a hostname and a pid (1), and ids must stay unique.
    this.id = options.id ?? `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
    this.#root = realpathSync(options.root);
    this.#guard = new ModuleGuard(this.#root, this.id);
    this.#pool = new Pool({
      size: options.concurrency,
      resources: options.resources,
      createHandle: () => this.#slot(),
    });
  }

  get concurrency(): number {
    return this.#options.concurrency;
  }

  /** Task runs executing here now. */
  get runningTasks(): number {
    return this.#running.size;
  }

  /** Whether its main Redis connection is up (`weft worker`'s --death-timeout watches it). */
  get connected(): boolean {
    return this.#redis?.status === 'ready';
  }

  /** Connects, registers, and starts taking jobs. */
  async start(): Promise<void> {
    const redis = (this.#redis = await connectPatiently(this.address, `weft-worker-${this.id}`, this.#options.connectMs ?? 10_000));
    this.#outbox = new Outbox(redis, this.address.prefix, this.id, this.#feed);
    this.#sub = duplicate(redis);
    this.#sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.#onControl(message));
    // Independent of one another, so together; control messages are heard before any job is taken.
    const [ring] = await Promise.all([
      openRing(redis, this.address.prefix, this.address.shards),
      this.#clock.measure(redis, 5),
      this.#sub.subscribe(keys.control(this.address.prefix)),
      this.#pool.start(),
    ]);
    this.#queues = new ClusterQueues(redis, this.address.prefix, ring);
    this.#intake = new JobIntake({
      redis, ring, concurrency: this.#options.concurrency, resources: this.#options.resources,
      lockMs: this.#options.lockMs ?? 30_000, process: (job, signature, shard, token) => this.#process(job, signature, shard, token), onError: (e) => this.#reportError(e),
    });
    this.#nested = new NestedRequests(redis, this.address.prefix, this.id, this.address.display, this.#root);
    installNestedSubmitter((parent, task, args) => this.#submitNested(parent, task, args));
    await this.#intake.ensure('');
    await this.#beat();
    // Its thread boots once this worker is registered, not before: booting a thread is 20-50 ms of
    // CPU that would compete with this worker's (and its siblings') start on a small machine. Not
    // awaited: a worker counts as dead only when its pulse is missing and its heartbeat stale too,
    // and the heartbeat just written is fresh.
    if (!this.#closing) this.#pulse = new Pulse(this.address, keys.pulse(this.address.prefix, this.id));
    this.#heartbeat = setInterval(() => void this.#beat().catch((e: unknown) => this.#reportError(e)), HEARTBEAT_MS);
  }

  /**
   * Stops taking jobs, lets running ones finish for up to `graceMs` (after that they are handed
   * back: their locks lapse and other workers run them), and leaves the registry. Aborting
   * `hurry` ends the grace period at once.
   */
  async close(graceMs = 10_000, hurry?: AbortSignal): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#heartbeat);
    const finished = (await this.#intake?.close(graceMs, hurry)) ?? true;
    this.#handedBack = !finished;
    await this.#pool.shutdown();
    // Independent of one another: together, so a stop costs one round trip, not four.
    await Promise.all([
      bounded(this.#nested?.close(), 1000),
      bounded(this.#queues?.close(), 1000),
      bounded(this.#redis?.hdel(keys.workers(this.address.prefix), this.id), 1000),
      this.#pulse?.stop(),
    ]);
    this.#sub?.disconnect();
    this.#redis?.disconnect();
    await bounded(this.onClosed?.(), 1000);
  }

  /**
   * `getClient()` in a task here: the task's flow run records and runs the nested run (see
   * nested.ts). While the task waits its slot is lent out (the pool's ref-counted lend, per task run).
   */
  #submitNested(parentTaskRunId: string, task: WireTaskDef, args: unknown[]): Promise<unknown> {
    const parent = this.#running.get(parentTaskRunId);
    if (!parent || !this.#nested) return Promise.reject(new Error(`unreachable: task run '${parentTaskRunId}' submitted work but does not run on worker ${this.id}`));
    const release = this.#pool.lend(parentTaskRunId);
    // Named from this worker's root, as the flow names its tasks: the worker that runs it may live elsewhere.
    const portable = { ...task, ref: portableRef(task.ref, this.#root) };
    return this.#nested.submit(parent.channel, parentTaskRunId, portable, args, parent.signal).finally(release);
  }

  /**
   * A slot of the pool, on this event loop: a job runs in it through `executeTask`. The pool makes
   * one more slot while one is lent out, and closes one when it is given back; while there are
   * more slots than `concurrency`, the intake takes that many more jobs (see JobIntake.widen).
   */
  #slot(): WorkerHandle {
    if (++this.#slots > this.#options.concurrency) this.#widened.push(this.#intake?.widen() ?? (() => undefined));
    return {
      id: this.id, alive: true,
      run: (job) => job.runHere(this.id),
      close: async () => {
        if (this.#slots-- > this.#options.concurrency) this.#widened.pop()?.();
      },
    };
  }

  async #beat(): Promise<void> {
    const redis = this.#redis as Redis;
    const info: WorkerInfo = {
      id: this.id, host: hostname(), pid: process.pid, concurrency: this.#options.concurrency, resources: this.#options.resources,
      root: this.#root, startedAt: Date.now() + this.#clock.offsetMs, beat: Date.now() + this.#clock.offsetMs, running: this.#executing, held: this.#running.size, taskMs: this.#taskMs,
    };
    await this.#clock.measure(redis);
    const [, signatures] = (await redis.multi().hset(keys.workers(this.address.prefix), this.id, JSON.stringify(info)).smembers(keys.requirements(this.address.prefix)).exec()) ?? [];
    for (const signature of (signatures?.[1] as string[] | undefined) ?? []) await this.#intake?.ensure(signature);
    // Jobs of workers that died or were cut off run elsewhere now, not when their locks lapse.
    await reapDead(redis, this.address.prefix, (this.#queues as ClusterQueues).ring, this.id, Date.now() + this.#clock.offsetMs);
    const hourAgo = Date.now() - 3600_000;
    for (const [id, at] of this.#cancelled) if (at < hourAgo) this.#cancelled.delete(id);
  }

  async #process(job: Job<JobData>, signature: string, shard: number, token: string | undefined): Promise<void> {
    const payload = decodeJob(job.data.p);
    const { channel } = payload;
    const state = { tasks: payload.tasks, crashes: payload.crashes, stalls: job.stalledCounter ?? 0, allowedFailures: payload.allowedFailures };
    let delivered = new Set<string>();
    if (mayHaveRun(state)) {
      const done = await (this.#redis as Redis).smismember(keys.done(this.address.prefix, channel), ...payload.tasks.map((t) => t.taskRunId));
      delivered = new Set(payload.tasks.filter((_, i) => done[i]).map((t) => t.taskRunId));
    }
    const plan = rerunPlan(state, delivered);
    this.#feed.taken(signature, payload.tasks.length - (plan.action === 'split' ? plan.tasks.length : 0));
    switch (plan.action) {
      case 'skip':
        return;
      case 'crash': {
        const holder = await (this.#redis as Redis).get(this.#holderKey(signature, shard, job));
        const died = holder === null ? undefined : holderWorker(holder);
        await Promise.all(plan.tasks.map((t) => this.#send(channel, died === undefined ? { type: 'crashed', id: t.taskRunId, crashes: plan.crashes } : { type: 'crashed', id: t.taskRunId, crashes: plan.crashes, workerId: died })));
        return;
      }
      case 'split':
        await (this.#queues as ClusterQueues).add(signature, plan.tasks.map((t) => requeued({ ...payload, crashes: plan.crashes }, [t])));
        return;
      case 'run': {
        // Who holds this job, for a crash report should this worker die with it: written before any
        // of its tasks runs (not awaited: the command is on the socket before the task's code runs).
        // With the lock's token: the reaper frees this job's lock only while this take holds it.
        void (this.#redis as Redis).set(this.#holderKey(signature, shard, job), holderValue(this.id, token ?? ''), 'PX', HOLDER_TTL_MS).catch(() => undefined);
        const hooks = this.#hooks(channel);
        const slice = new JobSlice(plan.tasks);
        if (plan.tasks.length > 1) {
          const queues = this.#queues as ClusterQueues;
          slice.watch(SLICE_MS, async () => !(await queues.idle(signature, shard)), (rest) => queues.add(signature, [{ ...requeued(payload, rest), bullPriority: job.opts.priority }], shard).then(() => this.#feed.taken(signature, -rest.length)), (e) => this.#reportError(e));
        }
        try {
          await Promise.all(plan.tasks.map((t) => this.#runOne(channel, t, hooks, signature, slice)));
        } finally {
          slice.stop();
        }
      }
    }
  }

  /** The holder of a job, under its shard's prefix (its slot on a Redis Cluster): the shared slot would carry a write per job. */
  #holderKey(signature: string, shard: number, job: Job<JobData>): string {
    return keys.holder((this.#queues as ClusterQueues).ring[shard] ?? this.address.prefix, signature, String(job.id));
  }

  async #runOne(channel: string, t: TaskWire, hooks: AttemptHooks, signature: string, slice: JobSlice<TaskWire>): Promise<void> {
    if (this.#cancelled.has(t.flowRunId) || this.#cancelled.has(t.taskRunId)) return; // its client settled it already
    this.#feed.track(t.taskRunId, t.options.name, t.flowRunId, signature);
    // Marked classes in its arguments come named from the flow's root: found here under this worker's.
    const args = localArgs(t.args, this.#root);
    const ref = this.#guard.admit(t.ref, args);
    if (ref instanceof Error) {
      // Once per refusal, not per run: a map of 10,000 runs of a refused task is one line on the worker's console.
      const line = `weft worker ${this.id}: refused task '${t.ref.name}': ${ref instanceof TaskNotFoundError ? ref.reason : ref.message}`;
      if (!this.#refusalsLogged.has(line) && this.#refusalsLogged.size < MAX_REFUSALS_LOGGED) {
        this.#refusalsLogged.add(line);
        console.error(`${line} (each of its runs fails with this error; said once)`);
      }
      return this.#send(channel, { type: 'done', id: t.taskRunId, serviceMs: 0, state: 'Failed', error: toWireError(ref) });
    }
    const signal = new RunSignal();
    const request = { taskRunId: t.taskRunId, flowRunId: t.flowRunId, ref, args, options: t.options };
    // Written out, not `{ ...request, ... }`: V8's object spread with more properties is a slow path (execute.ts).
    const job: TaskJob = {
      taskRunId: request.taskRunId, flowRunId: request.flowRunId, ref, args, options: request.options, fn: byRef, cancellation: signal, readyTime: now(),
      // Its slot is on this event loop: a task here submits through getClient() (see #submitNested).
      submitNested: () => Promise.reject(new Error('a cluster worker\'s tasks submit nested runs through getClient(), to their flow run')),
      runHere: (workerId): Promise<TaskOutcome> => {
        const begins = slice.begin(t.taskRunId);
        if (begins === true) return this.#execute(request, workerId, signal, hooks);
        if (begins === false) return Promise.resolve(HANDED_BACK);
        return begins.then((ok) => ok ? this.#execute(request, workerId, signal, hooks) : HANDED_BACK);
      },
    };
    this.#running.set(t.taskRunId, { signal, flowRunId: t.flowRunId, channel });
    let outcome: TaskOutcome;
    try {
      outcome = await this.#pool.submit(job);
    } finally {
      this.#running.delete(t.taskRunId);
    }
    if (outcome.serviceMs !== undefined && outcome.state !== 'Cancelled') {
      const signature = requirementSignature(t.options.resources);
      const before = this.#taskMs[signature];
      this.#taskMs[signature] = before === undefined ? outcome.serviceMs : before + RECENT_WEIGHT * (outcome.serviceMs - before);
    }
    // Cancelled by its client (which settled it already), or handed back to the cluster (by close(), or a slice that ended): nothing to say.
    const handedBack = this.#handedBack || slice.handedBack(t.taskRunId);
    if (handedBack || (outcome.state === 'Cancelled' && signal.aborted)) return this.#feed.forget(t.taskRunId, !handedBack);
    return this.#send(channel, this.#messageOf(t.taskRunId, outcome));
  }

  /** Runs a task run in a slot here, counted as executing meanwhile. */
  #execute(request: Parameters<typeof executeTask>[0], workerId: string, signal: RunSignal, hooks: AttemptHooks): Promise<TaskOutcome> {
    this.#executing++;
    return executeTask(request, workerId, signal, hooks).then(this.#executed, this.#executeFailed);
  }

  readonly #executed = (outcome: TaskOutcome): TaskOutcome => {
    this.#executing--;
    return sendable(outcome);
  };

  readonly #executeFailed = (error: unknown): TaskOutcome => {
    this.#executing--;
    return { state: 'Failed', error: error as Error };
  };

  #messageOf(taskRunId: string, outcome: TaskOutcome): AttemptEvent<string> {
    const serviceMs = outcome.serviceMs ?? 0;
    if (outcome.state === 'Completed') return { type: 'done', id: taskRunId, serviceMs, state: 'Completed', value: portableValue(outcome.value, this.#root) };
    const state = outcome.state === 'Cancelled' ? 'Cancelled' : 'Failed';
    return { type: 'done', id: taskRunId, serviceMs, state, error: toWireError(outcome.error) };
  }

  #hooks(channel: string): AttemptHooks {
    // Times go out on the cluster's clock; the client moves them onto the flow process's.
    const clock = this.#clock;
    const send = (event: AttemptEvent<string>) => void this.#send(channel, event).catch(() => undefined);
    return {
      started: (r, attempt, time) => send({ type: 'started', id: r.taskRunId, attempt, time: time + clock.offsetMs }),
      retried: (r, attempt, error, delayMs) => send({ type: 'retried', id: r.taskRunId, attempt, delayMs, error: toWireError(error), time: now() + clock.offsetMs }),
      log: (r, level, message) => send({ type: 'log', id: r.taskRunId, taskRunId: r.taskRunId, flowRunId: r.flowRunId, taskName: r.options.name, level, message, time: now() + clock.offsetMs }),
    };
  }

  #send(channel: string, event: AttemptEvent<string>): Promise<void> {
    return (this.#outbox as Outbox).send(channel, event);
  }

  #onControl(raw: Buffer): void {
    let message: ControlMessage;
    try {
      message = deserialize<ControlMessage>(raw);
    } catch {
      return;
    }
    if (message.type === 'requirement') {
      void this.#intake?.ensure(message.signature).catch((e: unknown) => this.#reportError(e));
      return;
    }
    const error = new CancelledError(message.reason);
    const ids = message.taskRunIds;
    if (ids === undefined) {
      this.#cancelled.set(message.flowRunId, Date.now());
      for (const run of this.#running.values()) if (run.flowRunId === message.flowRunId) run.signal.abort(error);
    } else {
      for (const id of ids) {
        this.#cancelled.set(id, Date.now());
        this.#running.get(id)?.signal.abort(error);
      }
    }
  }

  #reportError(error: unknown): void {
    if (this.#closing || Date.now() - this.#lastError < 10_000) return;
    this.#lastError = Date.now();
    console.error(`weft worker ${this.id}: ${(error as Error)?.message ?? String(error)} (retrying)`);
  }
}

/** A job again for some of a batch's runs (all of one priority), with the batch's payload otherwise as it was. */
function requeued(payload: BatchPayload, tasks: readonly TaskWire[]): NewJob {
  const first = tasks[0] as TaskWire;
  return {
    name: first.options.name, runs: tasks.length, priority: first.options.priority,
    payload: encodeJob(payload, tasks),
  };
}

/**
 * Connects, trying a refused connection again until `withinMs` has passed: a LocalCluster starts
 * its workers while its Redis is still starting. A host that does not resolve or a wrong password
 * fails at once.
 */
async function connectPatiently(address: ClusterAddress, name: string, withinMs: number): Promise<Redis> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await connect(address, { connectTimeoutMs: Math.max(100, deadline - Date.now()), name });
    } catch (error) {
      if (!(error instanceof ClusterConnectionError) || !mayRetry(error) || Date.now() >= deadline) throw error;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
