import { hostname } from 'node:os';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isAbsolute, relative } from 'node:path';
import { Queue, Worker, type Job, type Redis } from './libs.ts';

import { CancelledError, SerializationError, TaskNotFoundError } from '../errors.ts';
import { RunSignal } from '../core/run-signal.ts';
import type { AttemptHooks } from '../core/attempts.ts';
import type { TaskOutcome } from '../core/task-runner.ts';
import { executeTask, sendable } from '../entry/execute.ts';
import { markedClasses } from '../protocol/prototypes.ts';
import { deserialize, serialize } from '../protocol/serialize.ts';
import { toWireError } from '../protocol/wire-error.ts';
import { shortfall, type Resources } from '../schedule/resources.ts';
import { connect, parseAddress, type ClusterAddress } from './connection.ts';
import { ClusterConnectionError } from '../errors.ts';
import { Outbox } from './outbox.ts';
import { bounded } from './bounded.ts';
import { Slots } from './slots.ts';
import { enterWorker, type WorkerRuntime } from './runtime.ts';
import {
  HEARTBEAT_MS, keys, parseSignature, queueName, type BatchPayload, type ControlMessage, type JobData, type TaskWire, type WorkerInfo,
} from './protocol.ts';
import { ClockSync } from './clock.ts';
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
}

/**
 * A cluster worker: takes batches of task runs from the cluster's BullMQ queues (the plain queue,
 * and one per resource requirement it can meet), runs them through `executeTask` up to
 * `concurrency` at once while holding their resources, and sends events and results back to the
 * client that submitted them. It registers itself with heartbeats, and obeys cancel messages.
 */
export class ClusterWorker implements WorkerRuntime {
  readonly id: string;
  readonly address: ClusterAddress;
  readonly #options: ClusterWorkerOptions;
  readonly #slots: Slots;
  readonly #root: string;
  readonly #workers = new Map<string, Worker<JobData>>();
  readonly #queues = new Map<string, Queue>();
  readonly #running = new Map<string, { signal: RunSignal; flowRunId: string }>();
  /** Cancelled flow runs (and single task runs), by id, with when; forgotten after an hour. */
  readonly #cancelled = new Map<string, number>();
  /** Whether each task module may be imported here (undefined) or is refused (why). */
  readonly #verdicts = new Map<string, TaskNotFoundError | undefined>();
  #redis: Redis | undefined;
  #sub: Redis | undefined;
  #outbox: Outbox | undefined;
  /** This host's clock against the cluster's: events leave stamped on the cluster's clock. */
  readonly #clock = new ClockSync();
  #heartbeat: NodeJS.Timeout | undefined;
  #closing = false;
  #lastError = 0;
  /** Runs last in close(), after every connection is gone. */
  onClosed: (() => Promise<void>) | undefined;

  constructor(options: ClusterWorkerOptions) {
    this.#options = options;
    this.address = parseAddress('address', options.address);
    this.id = options.id ?? `${hostname()}-${process.pid}`;
    this.#slots = new Slots(options.concurrency, options.resources);
    this.#root = realpathSync(options.root);
  }

  get concurrency(): number {
    return this.#options.concurrency;
  }

  /** Connects, registers, and starts taking jobs. */
  async start(): Promise<void> {
    this.#redis = await connectPatiently(this.address, `weft-worker-${this.id}`, 10_000);
    this.#outbox = new Outbox(this.#redis, this.address.prefix, this.id);
    await this.#clock.measure(this.#redis, 5);
    this.#sub = this.#redis.duplicate();
    this.#sub.on('error', () => undefined);
    this.#sub.on('messageBuffer', (_channel: Buffer, message: Buffer) => this.#onControl(message));
    await this.#sub.subscribe(keys.control(this.address.prefix));
    enterWorker(this);
    await this.#ensureWorker('');
    await this.#beat();
    this.#heartbeat = setInterval(() => void this.#beat().catch((e: unknown) => this.#reportError(e)), HEARTBEAT_MS);
  }

  /**
   * Stops taking jobs, lets running ones finish for up to `graceMs` (after that they are handed
   * back: their locks lapse and other workers run them), and leaves the registry.
   */
  async close(graceMs = 10_000): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    clearInterval(this.#heartbeat);
    const workers = [...this.#workers.values()];
    let timer: NodeJS.Timeout | undefined;
    const graceful = Promise.all(workers.map((w) => w.close())).then(() => true);
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), graceMs)));
    const finished = await Promise.race([graceful, late]);
    clearTimeout(timer);
    if (!finished) await bounded(Promise.all(workers.map((w) => w.close(true))), 1000);
    await bounded(Promise.all([...this.#queues.values()].map((q) => q.close())), 1000);
    await bounded(this.#redis?.hdel(keys.workers(this.address.prefix), this.id), 1000);
    this.#sub?.disconnect();
    this.#redis?.disconnect();
    await bounded(this.onClosed?.(), 1000);
  }

  /** For `getClient()`: a task that waits on nested work gives its slot back meanwhile. */
  secede(): () => void {
    this.#slots.secede();
    // BullMQ counts the waiting task's job as busy too, and its fetch loop does not notice a raised
    // concurrency until a job ends: a helper worker takes one more job meanwhile, or a one-slot
    // worker would never take the nested jobs its task waits for.
    const helper = this.#closing ? undefined : this.#bullWorker('', 1);
    return () => {
      this.#slots.rejoin();
      void helper?.close().catch(() => undefined);
    };
  }

  async #beat(): Promise<void> {
    const redis = this.#redis as Redis;
    const info: WorkerInfo = {
      id: this.id, host: hostname(), pid: process.pid, concurrency: this.#options.concurrency, resources: this.#options.resources,
      root: this.#root, startedAt: Date.now() + this.#clock.offsetMs, beat: Date.now() + this.#clock.offsetMs,
    };
    await this.#clock.measure(redis);
    const [, signatures] = (await redis.multi().hset(keys.workers(this.address.prefix), this.id, JSON.stringify(info)).smembers(keys.requirements(this.address.prefix)).exec()) ?? [];
    for (const signature of (signatures?.[1] as string[] | undefined) ?? []) await this.#ensureWorker(signature);
    const hourAgo = Date.now() - 3600_000;
    for (const [id, at] of this.#cancelled) if (at < hourAgo) this.#cancelled.delete(id);
  }

  /** Starts a BullMQ worker on the queue of a requirement this worker can meet (once). */
  async #ensureWorker(signature: string): Promise<void> {
    if (this.#workers.has(signature) || this.#closing) return;
    const need = parseSignature(signature);
    if (shortfall(need, this.#options.resources)) return;
    // As many jobs at once as the resources allow, so this worker takes no job it must sit on.
    let concurrency = this.#options.concurrency;
    for (const [name, amount] of Object.entries(need)) concurrency = Math.min(concurrency, Math.floor((this.#options.resources[name] ?? 0) / amount));
    // No prefetching beyond what can run: a job held here while it waits would die with this
    // worker and count against its tasks' allowedFailures without ever having run.
    const worker = this.#bullWorker(signature, Math.max(1, concurrency));
    this.#workers.set(signature, worker);
    await worker.waitUntilReady();
  }

  #bullWorker(signature: string, concurrency: number): Worker<JobData> {
    const lockMs = this.#options.lockMs ?? 30_000;
    const worker = new Worker<JobData>(queueName(signature), (job) => this.#process(job, signature), {
      connection: this.#redis as Redis, prefix: this.address.prefix, concurrency,
      lockDuration: lockMs, stalledInterval: Math.max(500, lockMs / 2), maxStalledCount: 1_000_000,
      removeOnComplete: { count: 0 }, removeOnFail: { count: 100 }, drainDelay: 5,
    });
    worker.on('error', (error) => this.#reportError(error));
    return worker;
  }

  async #process(job: Job<JobData>, signature: string): Promise<void> {
    const payload = deserialize<BatchPayload>(Buffer.from(job.data.p, 'base64'));
    const { channel } = payload;
    let tasks = payload.tasks;
    const stalls = job.stalledCounter ?? 0;
    if (stalls > 0 || payload.crashes > 0) {
      // A re-run after a worker died: skip what was delivered, crash what died too often, split the rest.
      const done = await (this.#redis as Redis).smismember(keys.done(this.address.prefix, channel), ...tasks.map((t) => t.taskRunId));
      tasks = tasks.filter((_, i) => !done[i]);
      const crashes = payload.crashes + stalls;
      if (tasks.length === 0) return;
      if (crashes > payload.allowedFailures) {
        await Promise.all(tasks.map((t) => this.#send(channel, { type: 'crashed', id: t.taskRunId, crashes })));
        return;
      }
      if (tasks.length > 1 && stalls > 0) {
        // One task may be what kills workers: from now on each goes alone, so the others are not blamed.
        const queue = this.#queueFor(signature);
        await queue.addBulk(tasks.map((t) => ({
          name: t.options.name,
          data: { p: serialize({ ...payload, tasks: [t], crashes } satisfies BatchPayload, 'job').toString('base64') },
          opts: { priority: job.opts.priority, removeOnComplete: true, removeOnFail: 100 },
        })));
        return;
      }
    }
    const hooks = this.#hooks(channel);
    await Promise.all(tasks.map((t) => this.#runOne(channel, t, hooks)));
  }

  async #runOne(channel: string, t: TaskWire, hooks: AttemptHooks): Promise<void> {
    if (this.#cancelled.has(t.flowRunId) || this.#cancelled.has(t.taskRunId)) return; // its client settled it already
    const refusal = this.#refusal(t);
    if (refusal) {
      console.error(`weft worker ${this.id}: refused task '${t.ref.name}': ${refusal instanceof SerializationError ? refusal.message : refusal.reason}`);
      return this.#send(channel, { type: 'done', id: t.taskRunId, serviceMs: 0, state: 'Failed', error: toWireError(refusal) });
    }
    const need = t.options.resources;
    const wait = this.#slots.acquire(need);
    if (wait) {
      await wait;
      // Cancelled while it waited for a slot: give the slot back untouched.
      if (this.#cancelled.has(t.flowRunId) || this.#cancelled.has(t.taskRunId)) return this.#slots.release(need);
    }
    const signal = new RunSignal();
    this.#running.set(t.taskRunId, { signal, flowRunId: t.flowRunId });
    let outcome: TaskOutcome;
    try {
      outcome = sendable(await executeTask({ taskRunId: t.taskRunId, flowRunId: t.flowRunId, ref: t.ref, args: t.args as unknown[], options: t.options }, this.id, signal, hooks));
    } catch (error) {
      outcome = { state: 'Failed', error: error as Error };
    } finally {
      this.#running.delete(t.taskRunId);
      this.#slots.release(need);
    }
    return this.#send(channel, this.#messageOf(t.taskRunId, outcome));
  }

  #messageOf(taskRunId: string, outcome: TaskOutcome): AttemptEvent<string> {
    const serviceMs = outcome.serviceMs ?? 0;
    if (outcome.state === 'Completed') return { type: 'done', id: taskRunId, serviceMs, state: 'Completed', value: outcome.value };
    const state = outcome.state === 'Cancelled' ? 'Cancelled' : 'Failed';
    return { type: 'done', id: taskRunId, serviceMs, state, error: toWireError(outcome.error) };
  }

  /** Why a job may not run here: only modules under the worker's project root are ever imported (task modules and marked classes' modules alike). */
  #refusal(t: TaskWire): TaskNotFoundError | SerializationError | undefined {
    for (const ref of markedClasses(t.args)) {
      const verdict = this.#verdict(t, ref.module as string);
      if (verdict) return new SerializationError('args', ref.name, undefined, undefined, 'class-not-found', verdict.reason);
    }
    const module = t.ref.module;
    if (module === undefined) return undefined; // executeTask reports the unknown module itself
    return this.#verdict(t, module);
  }

  #verdict(t: TaskWire, module: string): TaskNotFoundError | undefined {
    // realpath per task was a third of a worker's time on no-op tasks: decide once per module.
    if (!this.#verdicts.has(module)) this.#verdicts.set(module, this.#judge(t, module));
    return this.#verdicts.get(module);
  }

  #judge(t: TaskWire, module: string): TaskNotFoundError | undefined {
    let path: string;
    try {
      path = realpathSync(fileURLToPath(module));
    } catch {
      return new TaskNotFoundError(t.ref.name, module, `the module does not exist on worker ${this.id}, or is not a local file; workers import task modules from their own checkout of the project (${this.#root})`);
    }
    const rel = relative(this.#root, path);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      return new TaskNotFoundError(t.ref.name, module, `worker ${this.id} refused it: the module is outside the worker's project root ${this.#root}, and workers import only modules under their root (start the worker with --root, or from the project's directory)`);
    }
    return undefined;
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
      void this.#ensureWorker(message.signature).catch((e: unknown) => this.#reportError(e));
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

  #queueFor(signature: string): Queue {
    let queue = this.#queues.get(signature);
    if (!queue) this.#queues.set(signature, (queue = new Queue(queueName(signature), { connection: this.#redis as Redis, prefix: this.address.prefix })));
    return queue;
  }

  #reportError(error: unknown): void {
    if (this.#closing || Date.now() - this.#lastError < 10_000) return;
    this.#lastError = Date.now();
    console.error(`weft worker ${this.id}: ${(error as Error)?.message ?? String(error)} (retrying)`);
  }
}

/**
 * Connects, trying again until `withinMs` has passed: a LocalCluster starts its workers while its
 * Redis is still starting, and a `weft worker` may come up before the cluster does.
 */
async function connectPatiently(address: ClusterAddress, name: string, withinMs: number): Promise<Redis> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await connect(address, { connectTimeoutMs: Math.max(100, deadline - Date.now()), name });
    } catch (error) {
      if (!(error instanceof ClusterConnectionError) || Date.now() >= deadline) throw error;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}
