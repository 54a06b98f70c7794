import * as v8 from 'node:v8';
import { Queue } from './libs.ts';
import type { Redis, RedisOptions } from './libs.ts';
import { CancelledError, ClusterConnectionError, WorkerCrashedError } from '../errors.ts';
import { now, type EventSink } from '../events/events.ts';
import { emitAttempt, outcomeOf } from '../events/attempt-events.ts';
import type { AttemptEvent } from '../protocol/attempt-events.ts';
import { ClockSync } from './clock.ts';
import type { TaskOutcome } from '../core/task-runner.ts';
import type { Cancellation } from '../core/run-signal.ts';
import { encodeArgs, withDecoded } from '../protocol/prototypes.ts';
import { serialize } from '../protocol/serialize.ts';
import { planJobs, type PlannedJob } from './batch.ts';
import { bounded } from './bounded.ts';
import { connect, type ClusterAddress } from './connection.ts';
import { bullPriority, keys, queueName, requirementSignature, type BatchPayload, type ControlMessage, type JobData, type TaskWire, type WorkerBatch } from './protocol.ts';

/** Connection settings of a client, from the runner's `clientOptions`. */
export interface ClientSettings {
  /** A first connection taking longer fails with ClusterConnectionError. */
  readonly connectTimeoutMs: number;
  /** A lost connection not restored within this fails every pending task run with ClusterConnectionError. */
  readonly reconnectTimeoutMs: number;
  /** Re-runs of a task whose worker died, before it crashes with WorkerCrashedError. */
  readonly allowedFailures: number;
  /** Extra ioredis settings (TLS certificates, ...). */
  readonly redis: RedisOptions | undefined;
}

/** A task run to send; `readyTime` (when it was handed to the runner) goes on its 'started' events. */
export type ClientTask = TaskWire & { readonly readyTime?: number };

interface Pending {
  /** The run as sent: what its attempt events are about. */
  readonly task: ClientTask;
  readonly cancellation: Cancellation | undefined;
  readonly resolve: (outcome: TaskOutcome) => void;
  lastWorker: string | undefined;
  jobId: string | undefined;
  signature: string;
}

const READ_BATCH = 1000;
/** Jobs per addBulk call. */
const ADD_CHUNK = 4;
const SWEEP_MS = 200;

/**
 * One client of a cluster (a flow run's runner, or `getClient()` in a task): sends task runs to the
 * workers through BullMQ in batches, and reads their events and results from its own Redis list
 * (its channel) with blocking pops in batches. Never leaves a submission unresolved: results,
 * cancellation, or a lost connection settle each one.
 */
export class ClusterClient {
  readonly #pending = new Map<string, Pending>();
  readonly #queues = new Map<string, Queue>();
  readonly #announced = new Set<string>();
  #outgoing: TaskWire[] = [];
  #flushing: Promise<void> | undefined;
  #flushQueued = false;
  #closed = false;
  #failure: ClusterConnectionError | undefined;
  #lostTimer: NodeJS.Timeout | undefined;
  #sweep: NodeJS.Timeout | undefined;
  #reading: Promise<void> = Promise.resolve();
  /** This process's clock against the cluster's, on which workers stamp their events. */
  readonly #clock = new ClockSync();

  private constructor(
    readonly address: ClusterAddress,
    readonly channel: string,
    readonly settings: ClientSettings,
    readonly events: EventSink,
    readonly redis: Redis,
    readonly reader: Redis,
  ) {}

  /**
   * Connects (failing fast with ClusterConnectionError naming the address), measures this
   * process's clock against the cluster's, and starts reading results. Task runs' events go to `events`.
   */
  static async connect(address: ClusterAddress, channel: string, settings: ClientSettings, events: EventSink): Promise<ClusterClient> {
    const options = { connectTimeoutMs: settings.connectTimeoutMs, extra: settings.redis };
    const redis = await connect(address, { ...options, name: `weft-client-${channel}` });
    let reader: Redis;
    try {
      reader = await connect(address, { ...options, name: `weft-reader-${channel}` });
    } catch (error) {
      redis.disconnect();
      throw error;
    }
    const client = new ClusterClient(address, channel, settings, events, redis, reader);
    try {
      await client.#clock.measure(redis, 5);
    } catch (error) {
      redis.disconnect();
      reader.disconnect();
      throw new ClusterConnectionError(address.display, `reading the cluster's clock failed: ${(error as Error).message}`, error);
    }
    client.#watch(redis);
    client.#watch(reader);
    client.#reading = client.#read();
    return client;
  }

  /** Pending task runs. */
  get size(): number {
    return this.#pending.size;
  }

  /** Sends a task run; resolves how it ended. Never rejects. */
  submit(task: ClientTask, cancellation: Cancellation | undefined): Promise<TaskOutcome> {
    if (this.#failure) return Promise.resolve({ state: 'Crashed', error: this.#failure });
    if (this.#closed) return Promise.resolve({ state: 'Cancelled', error: new CancelledError('the cluster client was closed') });
    // The prototype check, before anything is sent: a class instance would cross as a plain object.
    let args: readonly unknown[];
    try {
      args = encodeArgs(task.args);
    } catch (error) {
      return Promise.resolve({ state: 'Failed', error: error as Error });
    }
    return new Promise<TaskOutcome>((resolve) => {
      this.#pending.set(task.taskRunId, {
        task, cancellation, resolve, lastWorker: undefined, jobId: undefined, signature: requirementSignature(task.options.resources),
      });
      this.#outgoing.push({ taskRunId: task.taskRunId, flowRunId: task.flowRunId, ref: task.ref, options: task.options, args });
      this.#scheduleFlush();
      this.#sweep ??= setInterval(() => this.#sweepCancelled(), SWEEP_MS);
    });
  }

  /** The resource requirements of pending runs, each with a task name that needs it (for the "no worker has it" warning). */
  waitingRequirements(): Map<string, string> {
    const out = new Map<string, string>();
    for (const p of this.#pending.values()) if (p.signature !== '' && !out.has(p.signature)) out.set(p.signature, p.task.options.name);
    return out;
  }

  /**
   * Cancels a flow run's task runs: queued jobs are removed, workers abort the running ones
   * (their AbortSignals fire) and skip any they pick up later; every pending submission resolves Cancelled.
   */
  async cancelRun(flowRunId: string, reason: string): Promise<void> {
    const entries = [...this.#pending].filter(([, p]) => p.task.flowRunId === flowRunId);
    this.#settle(entries.map(([id]) => id), reason);
    await this.#publishCancel({ type: 'cancel', flowRunId, taskRunIds: undefined, reason }, entries.map(([, p]) => p));
  }

  /** Stops reading, deletes this client's result keys, and disconnects. Pending runs resolve Cancelled. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await bounded(this.#flushing?.catch(() => undefined), 1000);
    this.#closed = true;
    clearInterval(this.#sweep);
    clearTimeout(this.#lostTimer);
    this.#settle([...this.#pending.keys()], 'the cluster client was closed');
    // Bounded: with Redis gone, commands would wait in ioredis's offline queue forever.
    if (!this.#failure && this.redis.status === 'ready') {
      await bounded(this.redis.del(keys.results(this.address.prefix, this.channel), keys.done(this.address.prefix, this.channel)).catch(() => undefined), 1000);
    }
    await bounded(Promise.all([...this.#queues.values()].map((q) => q.close().catch(() => undefined))), 1000);
    this.reader.disconnect();
    this.redis.disconnect();
    await bounded(this.#reading, 1000);
  }

  #scheduleFlush(): void {
    if (this.#flushQueued) return;
    this.#flushQueued = true;
    // Everything submitted in this turn goes out together; while one flush is in flight, the next gathers.
    queueMicrotask(() => {
      const previous = this.#flushing ?? Promise.resolve();
      this.#flushing = previous.then(() => {
        this.#flushQueued = false;
        const batch = this.#outgoing;
        this.#outgoing = [];
        return this.#send(batch);
      });
    });
  }

  async #send(tasks: TaskWire[]): Promise<void> {
    const live = tasks.filter((t) => this.#pending.has(t.taskRunId));
    if (live.length === 0 || this.#failure || this.#closed) return;
    const jobs = planJobs(live);
    const sent = new Set<string>();
    try {
      // A few jobs per addBulk, each encoded just before it goes: workers start on the first jobs
      // while the rest are still being encoded and sent (one addBulk of everything is one MULTI
      // that workers can take nothing from until it has run).
      for (let i = 0; i < jobs.length; ) {
        const signature = (jobs[i] as PlannedJob).signature;
        const chunk: PlannedJob[] = [];
        while (i < jobs.length && chunk.length < ADD_CHUNK && (jobs[i] as PlannedJob).signature === signature) chunk.push(jobs[i++] as PlannedJob);
        await this.#announce(signature);
        const bulk: { name: string; data: JobData; opts: object; ids: string[] }[] = [];
        for (const job of chunk) {
          const encoded = this.#encode(job.tasks);
          if (encoded === undefined) continue;
          bulk.push({
            name: job.tasks[0]?.options.name ?? 'task', data: { p: encoded },
            opts: { priority: bullPriority(job.priority), removeOnComplete: true, removeOnFail: 100 }, ids: job.tasks.map((t) => t.taskRunId),
          });
        }
        if (bulk.length === 0) continue;
        const added = await this.#queue(signature).addBulk(bulk.map(({ name, data, opts }) => ({ name, data, opts })));
        added.forEach((job, k) => {
          for (const id of bulk[k]?.ids ?? []) {
            sent.add(id);
            const p = this.#pending.get(id);
            if (p) p.jobId = job.id;
          }
        });
      }
    } catch (error) {
      const failure = new ClusterConnectionError(this.address.display, `sending task runs failed: ${(error as Error).message}`, error);
      for (const t of live) if (!sent.has(t.taskRunId)) this.#resolve(t.taskRunId, { state: 'Crashed', error: failure });
    }
  }

  /** Tells workers (once) that tasks need this resource requirement, so the ones that meet it listen on its queue. */
  async #announce(signature: string): Promise<void> {
    if (signature === '' || this.#announced.has(signature)) return;
    this.#announced.add(signature);
    const requirement: ControlMessage = { type: 'requirement', signature };
    await this.redis.multi().sadd(keys.requirements(this.address.prefix), signature).publish(keys.control(this.address.prefix), v8.serialize(requirement)).exec();
  }

  /**
   * The job data for a batch: v8 (structured clone) as base64. If the batch cannot be cloned, the
   * tasks whose arguments cannot are failed with SerializationError naming the path, and the rest go.
   */
  #encode(tasks: TaskWire[]): string | undefined {
    const payload = (list: TaskWire[]): BatchPayload => ({ channel: this.channel, tasks: list, crashes: 0, allowedFailures: this.settings.allowedFailures });
    try {
      return v8.serialize(payload(tasks)).toString('base64');
    } catch {
      const good = tasks.filter((t) => {
        try {
          serialize(t.args, 'args');
          return true;
        } catch (error) {
          this.#resolve(t.taskRunId, { state: 'Failed', error: error as Error });
          return false;
        }
      });
      if (good.length === 0) return undefined;
      try {
        return v8.serialize(payload(good)).toString('base64');
      } catch (error) {
        for (const t of good) this.#resolve(t.taskRunId, { state: 'Failed', error: error as Error });
        return undefined;
      }
    }
  }

  #queue(signature: string): Queue {
    let queue = this.#queues.get(signature);
    if (!queue) {
      queue = new Queue(queueName(signature), { connection: this.redis, prefix: this.address.prefix });
      queue.on('error', () => undefined);
      this.#queues.set(signature, queue);
    }
    return queue;
  }

  async #read(): Promise<void> {
    const key = keys.results(this.address.prefix, this.channel);
    while (!this.#closed && !this.#failure) {
      let reply: [Buffer, Buffer[]] | null;
      try {
        reply = await this.reader.blmpopBuffer(1, 1, key, 'LEFT', 'COUNT', READ_BATCH);
      } catch {
        if (this.#closed || this.#failure) return;
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (!reply) continue;
      for (const element of reply[1]) {
        let batch: WorkerBatch;
        try {
          batch = v8.deserialize(element) as WorkerBatch;
        } catch {
          continue;
        }
        // Not a weft worker's batch (another program's, or another weft version's): nothing to read.
        if (!Array.isArray(batch?.events)) continue;
        for (const event of batch.events) this.#onEvent(batch.workerId, event);
      }
    }
  }

  #onEvent(workerId: string, event: AttemptEvent<string>): void {
    const p = this.#pending.get(event.id);
    // Worker times are on the cluster's clock: take this process's offset to it off again.
    emitAttempt(this.events, event, p?.task, workerId, -this.#clock.offsetMs);
    if (!p) return; // settled already (cancelled), or a duplicate
    if (event.type === 'started' || (event.type === 'done' && event.attempt !== undefined)) p.lastWorker = workerId;
    // Marked class instances in a result get their prototypes back (after an import, if need be).
    if (event.type === 'done') return withDecoded(outcomeOf(event, workerId), (outcome) => this.#resolve(event.id, outcome));
    if (event.type === 'crashed') {
      const worker = p.lastWorker ?? 'unknown';
      const reason = `died while running it, and so did the workers it ran on after that (${event.crashes} worker deaths; allowedFailures is ${this.settings.allowedFailures})`;
      this.#resolve(event.id, { state: 'Crashed', error: new WorkerCrashedError(p.task.options.name, worker, reason, event.crashes), workerId: worker });
    }
  }

  #resolve(taskRunId: string, outcome: TaskOutcome): void {
    const p = this.#pending.get(taskRunId);
    if (!p) return;
    this.#pending.delete(taskRunId);
    p.resolve(outcome);
    if (this.#pending.size === 0 && this.#sweep) {
      clearInterval(this.#sweep);
      this.#sweep = undefined;
    }
  }

  #settle(ids: readonly string[], reason: string): void {
    const error = new CancelledError(reason);
    for (const id of ids) this.#resolve(id, { state: 'Cancelled', error });
  }

  /** Single task runs cancelled through their futures: found by polling, so no AbortSignal is made per run. */
  #sweepCancelled(): void {
    const byRun = new Map<string, { ids: string[]; entries: Pending[]; reason: string }>();
    for (const [id, p] of this.#pending) {
      if (!p.cancellation?.aborted) continue;
      const reason = p.cancellation.reason instanceof Error ? p.cancellation.reason.message : 'the task run was cancelled';
      const group = byRun.get(p.task.flowRunId) ?? { ids: [], entries: [], reason };
      group.ids.push(id);
      group.entries.push(p);
      byRun.set(p.task.flowRunId, group);
    }
    for (const [flowRunId, group] of byRun) {
      this.#settle(group.ids, group.reason);
      void this.#publishCancel({ type: 'cancel', flowRunId, taskRunIds: group.ids, reason: group.reason }, group.entries);
    }
  }

  async #publishCancel(message: ControlMessage, entries: readonly Pending[]): Promise<void> {
    if (this.#failure || this.#closed) return;
    try {
      await this.redis.publish(keys.control(this.address.prefix), v8.serialize(message));
      // Queued jobs go now; a job holding other runs too stays, and its worker skips the cancelled ones.
      const jobs = new Map<string, string>();
      for (const p of entries) if (p.jobId) jobs.set(p.jobId, p.signature);
      await Promise.all([...jobs].map(([id, signature]) => this.#queue(signature).remove(id).catch(() => 0)));
    } catch {
      // Redis unreachable: the lost-connection timer fails what is left.
    }
  }

  /** A connection that drops and does not come back within `reconnectTimeoutMs` fails every pending run. */
  #watch(connection: Redis): void {
    connection.on('close', () => {
      if (this.#closed || this.#failure || this.#lostTimer) return;
      this.#lostTimer = setTimeout(() => this.#lose(), this.settings.reconnectTimeoutMs);
    });
    connection.on('ready', () => {
      if (this.redis.status === 'ready' && this.reader.status === 'ready') {
        clearTimeout(this.#lostTimer);
        this.#lostTimer = undefined;
      }
    });
  }

  #lose(): void {
    if (this.#closed || this.#failure) return;
    const error = new ClusterConnectionError(this.address.display, `the connection was lost and not restored within ${this.settings.reconnectTimeoutMs} ms`);
    this.#failure = error;
    clearInterval(this.#sweep);
    for (const id of [...this.#pending.keys()]) this.#resolve(id, { state: 'Crashed', error });
    this.events.emit('runner:warning', { message: error.message, time: now() });
    // Stop reconnecting in the background: this client is done.
    this.reader.disconnect();
    this.redis.disconnect();
  }
}

