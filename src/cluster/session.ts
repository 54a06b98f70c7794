import { hostname } from 'node:os';
import * as v8 from 'node:v8';
import type { Redis, RedisOptions } from './libs.ts';
import { CancelledError, ClusterConnectionError, WeftError, WorkerCrashedError } from '../errors.ts';
import { now, type EventSink } from '../events/events.ts';
import { emitAttempt, outcomeOf } from '../events/attempt-events.ts';
import { encodeArgs, withDecoded } from '../protocol/prototypes.ts';
import { localValue, portableArgs } from '../protocol/portable-classes.ts';
import { portableRef } from '../protocol/task-ref.ts';
import { isEnvelope } from '../protocol/envelope.ts';
import type { AttemptEvent } from '../protocol/attempt-events.ts';
import { ClockSync } from './clock.ts';
import { ClientFeed } from '../dashboard/feed.ts';
import type { TaskOutcome } from '../core/task-runner.ts';
import type { Cancellation } from '../core/run-signal.ts';
import { bounded } from '../util/bounded.ts';
import { connect, type ClusterAddress } from './connection.ts';
import { projectRoot } from './cluster.ts';
import { PendingRuns, type ClientTask, type PendingRun, type RunDone } from './pending-runs.ts';
import { answerNested } from './nested.ts';
import { unpackEvents, type ControlMessage, type WorkerBatch } from './protocol.ts';
import { ClusterQueues, keys } from './queues.ts';
import { KEY_TTL_S } from './outbox.ts';
import type { SessionInfo } from './status.ts';
import { ResultReader } from './result-reader.ts';
import { openRing } from './ring.ts';
import { Submitter } from './submitter.ts';

export type { ClientTask } from './pending-runs.ts';

/** Connection settings of a session, from the runner's `clientOptions`. */
export interface ClientSettings {
  /** A first connection taking longer fails with ClusterConnectionError. */
  readonly connectTimeoutMs: number;
  /** A lost connection not restored within this fails every pending task run with ClusterConnectionError. */
  readonly reconnectTimeoutMs: number;
  /** Re-runs of a task whose worker died, before it crashes with WorkerCrashedError. */
  readonly allowedFailures: number;
  /** Extra ioredis settings (TLS certificates, ...). */
  readonly redis: RedisOptions | undefined;
  /**
   * The project root task modules are named from: workers find them under their own root (`weft
   * worker --root`), wherever their checkout lives. @default the nearest package.json's directory above the current one
   */
  readonly root?: string;
}

/**
 * One session with a cluster (a flow run's runner, or `getClient()` in a task), on its own result
 * channel. Its parts: a {@link Submitter} sends task runs through BullMQ in batches, a
 * {@link ResultReader} pops the workers' events from the channel's list, and {@link PendingRuns}
 * holds what is not settled yet. The session turns events into weft events and outcomes, tells
 * workers about cancels, and fails every pending run when its connection is lost for good: no
 * submission is ever left unresolved.
 */
export class ClusterSession {
  readonly #pending: PendingRuns;
  readonly #queues: ClusterQueues;
  readonly #submitter: Submitter;
  /** The project root: task modules and marked classes are named from it across hosts. */
  readonly #root: string;
  readonly #reader: ResultReader;
  #closed = false;
  #failure: ClusterConnectionError | undefined;
  #lostTimer: NodeJS.Timeout | undefined;
  /** This process's clock against the cluster's, on which workers stamp their events. */
  readonly #clock = new ClockSync();
  /** What this session tells the cluster's dashboards. */
  readonly feed: ClientFeed;

  private constructor(
    readonly address: ClusterAddress,
    readonly channel: string,
    readonly settings: ClientSettings,
    readonly events: EventSink,
    readonly redis: Redis,
    readonly reader: Redis,
    ring: readonly string[],
  ) {
    const prefix = address.prefix;
    const stopped = () => this.#closed || this.#failure !== undefined;
    this.#pending = new PendingRuns((group) => void this.#publishCancel({ type: 'cancel', flowRunId: group.flowRunId, taskRunIds: group.runs.map((r) => r.task.taskRunId), reason: group.reason }, group.runs));
    this.#queues = new ClusterQueues(redis, prefix, ring);
    this.feed = new ClientFeed(redis, keys.dashboard(prefix), channel, () => now() + this.#clock.offsetMs);
    this.#root = settings.root ?? projectRoot();
    this.#submitter = new Submitter({ redis, queues: this.#queues, prefix, channel, allowedFailures: settings.allowedFailures, display: address.display, stopped, feed: this.feed }, this.#pending);
    this.#reader = new ResultReader(reader, keys.results(prefix, channel), (element) => this.#onBatch(element as WorkerBatch | undefined), stopped, (ok) => this.#health(ok, true));
  }

  /**
   * Connects (failing fast with ClusterConnectionError naming the address), measures this
   * process's clock against the cluster's, and starts reading results. Task runs' events go to `events`.
   */
  static async connect(address: ClusterAddress, channel: string, settings: ClientSettings, events: EventSink, about: Pick<SessionInfo, 'flowName' | 'flowRunId'> = {}): Promise<ClusterSession> {
    const options = { connectTimeoutMs: settings.connectTimeoutMs, extra: settings.redis };
    const redis = await connect(address, { ...options, name: `weft-client-${channel}` });
    let reader: Redis;
    try {
      reader = await connect(address, { ...options, name: `weft-reader-${channel}` });
    } catch (error) {
      redis.disconnect();
      throw error;
    }
    let ring: readonly string[];
    try {
      ring = await openRing(redis, address.prefix, address.shards);
    } catch (error) {
      redis.disconnect();
      reader.disconnect();
      throw error instanceof WeftError ? error : new ClusterConnectionError(address.display, `reading the ring of task queues failed: ${(error as Error).message}`, error);
    }
    const session = new ClusterSession(address, channel, settings, events, redis, reader, ring);
    try {
      // Workers deliver results only while the channel is open (outbox.ts): close() deletes the key.
      // Its value says who it is, for `weft cluster status`.
      const info: SessionInfo = { ...about, host: hostname(), pid: process.pid, openedAt: Date.now() };
      await redis.set(keys.open(address.prefix, channel), JSON.stringify(info), 'EX', KEY_TTL_S);
      await session.#clock.measure(redis, 5);
    } catch (error) {
      redis.disconnect();
      reader.disconnect();
      throw new ClusterConnectionError(address.display, `opening the session's channel or reading the cluster's clock failed: ${(error as Error).message}`, error);
    }
    session.#watch(redis);
    session.#watch(reader);
    session.#reader.start();
    return session;
  }

  /** Pending task runs. */
  get size(): number {
    return this.#pending.size;
  }

  /** Sends a task run; resolves how it ended. Never rejects. */
  submit(task: ClientTask, cancellation: Cancellation | undefined): Promise<TaskOutcome> {
    return new Promise((resolve) => this.submitThen(task, cancellation, resolve));
  }

  /** {@link submit} with a callback: `done` hears how the run ended, once, never from inside this call. */
  submitThen<T extends ClientTask>(task: T, cancellation: Cancellation | undefined, done: (outcome: TaskOutcome, task: T) => void): void {
    if (this.#failure) return later(done, { state: 'Crashed', error: this.#failure }, task);
    if (this.#closed) return later(done, { state: 'Cancelled', error: new CancelledError('the cluster session was closed') }, task);
    // The prototype check, before anything is sent: a class instance would cross as a plain object.
    let args: readonly unknown[];
    try {
      args = encodeArgs(task.args);
    } catch (error) {
      return later(done, { state: 'Failed', error: error as Error }, task);
    }
    // Its module named from the project root (and its source's hash), its classes' too: workers find them in their own checkout.
    // `done` is called with this very task (PendingRuns keeps it as given).
    this.#submitter.push(this.#pending.add(task, portableRef(task.ref, this.#root), portableArgs(args, this.#root), cancellation, done as RunDone));
  }

  /** The resource requirements of pending runs, each with a task name that needs it (for the "no worker has it" warning). */
  waitingRequirements(): Map<string, string> {
    return this.#pending.waitingRequirements();
  }

  /**
   * Cancels a flow run's task runs: queued jobs are removed, workers abort the running ones
   * (their AbortSignals fire) and skip any they pick up later; every pending submission resolves Cancelled.
   */
  async cancelRun(flowRunId: string, reason: string): Promise<void> {
    const runs = this.#pending.ofFlowRun(flowRunId);
    this.#pending.cancelPending(runs.map((r) => r.task.taskRunId), reason);
    await this.#publishCancel({ type: 'cancel', flowRunId, taskRunIds: undefined, reason }, runs);
  }

  /** Stops reading, deletes this session's result keys, and disconnects. Pending runs resolve Cancelled, and their workers are told to stop them. */
  async close(): Promise<void> {
    if (this.#closed) return;
    await bounded(this.#submitter.flushed(), 1000);
    // Runs still pending are abandoned (cancelled through futures since the last sweep, say): their
    // workers are told to stop them, or they would hold their slots, on a shared cluster, for
    // flow runs that come after this one, with nobody left to hear their results.
    const abandoned = this.#pending.cancelAll('the cluster session was closed');
    await bounded(Promise.all(abandoned.map((g) => this.#publishCancel({ type: 'cancel', flowRunId: g.flowRunId, taskRunIds: g.runs.map((r) => r.task.taskRunId), reason: g.reason }, g.runs))), 1000);
    this.#closed = true;
    clearTimeout(this.#lostTimer);
    // Bounded: with Redis gone, commands would wait in ioredis's offline queue forever.
    if (!this.#failure && this.redis.status === 'ready') {
      await bounded(this.feed.flush(), 1000);
      const prefix = this.address.prefix;
      await bounded(this.redis.del(keys.open(prefix, this.channel), keys.results(prefix, this.channel), keys.done(prefix, this.channel)).catch(() => undefined), 1000);
    }
    await bounded(this.#queues.close(), 1000);
    this.reader.disconnect();
    this.redis.disconnect();
    await bounded(this.#reader.done, 1000);
  }

  #onBatch(batch: WorkerBatch | undefined): void {
    // Not a weft worker's batch (another program's, or another weft version's): nothing to read.
    if (!Array.isArray(batch?.events)) return;
    const workerId = batch.workerId;
    unpackEvents(batch.events, (event) => this.#onEvent(workerId, event));
    // Tasks of this session's runs submitting more (getClient()): recorded and run as this flow run's own.
    if (batch.submits) for (const s of batch.submits) answerNested(this.redis, this.address.prefix, s, this.#pending.get(s.parentTaskRunId)?.task, this.#root);
  }

  #onEvent(workerId: string, event: AttemptEvent<string>): void {
    const p = this.#pending.get(event.id);
    // Worker times are on the cluster's clock: take this process's offset to it off again.
    emitAttempt(this.events, event, p?.task, workerId, -this.#clock.offsetMs);
    if (!p) return; // settled already (cancelled), or a duplicate
    if (event.type === 'started' || (event.type === 'done' && event.attempt !== undefined)) p.lastWorker = workerId;
    // Marked class instances in a result get their prototypes back (after an import, if need be).
    // Their classes come named from the worker's root (portable-classes.ts): found here under this one.
    if (event.type === 'done') {
      const outcome = outcomeOf(event, workerId, -this.#clock.offsetMs);
      if (outcome.state !== 'Completed' || !isEnvelope(outcome.value)) return this.#pending.resolve(event.id, outcome);
      return withDecoded({ ...outcome, value: localValue(outcome.value, this.#root) }, (o) => this.#pending.resolve(event.id, o));
    }
    if (event.type === 'crashed') {
      const worker = event.workerId ?? p.lastWorker ?? 'unknown';
      const allowed = this.settings.allowedFailures;
      const reruns = event.crashes - 1;
      const reason = reruns > 0
        ? `died while running it, after ${reruns} re-run${reruns > 1 ? 's' : ''} on workers that died too (allowedFailures is ${allowed})`
        : `died while running it (allowedFailures is ${allowed}, so it was not run again)`;
      this.#pending.resolve(event.id, { state: 'Crashed', error: new WorkerCrashedError(p.task.options.name, worker, reason, event.crashes), workerId: worker });
    }
  }

  /** Tells every worker of a cancel, and removes the cancelled runs' jobs still queued. */
  async #publishCancel(message: ControlMessage, runs: readonly PendingRun[]): Promise<void> {
    if (this.#failure || this.#closed) return;
    try {
      await this.redis.publish(keys.control(this.address.prefix), v8.serialize(message));
      // Queued jobs go now; a job holding other runs too stays, and its worker skips the cancelled ones.
      const jobs = new Map<string, { signature: string; id: string; shard: number }>();
      for (const r of runs) if (r.job) jobs.set(`${r.job.shard}:${r.job.id}`, { signature: r.signature, ...r.job });
      await Promise.all([...jobs.values()].map((j) => this.#queues.remove(j.signature, j.id, j.shard)));
    } catch {
      // Redis unreachable: the lost-connection timer fails what is left.
    }
  }

  /**
   * A connection that drops and does not come back within `reconnectTimeoutMs` fails every pending
   * run; so does a result list that cannot be read for that long while the connections stay up (a
   * Redis Cluster whose shard of this session's keys is gone: each pop fails after its own tries
   * through a failover, connection.ts).
   */
  #watch(connection: Redis): void {
    connection.on('close', () => this.#health(false));
    connection.on('ready', () => this.#health(true));
  }

  #readerFailing = false;

  #health(ok: boolean, fromReader = false): void {
    if (fromReader) this.#readerFailing = !ok;
    if (!ok) {
      if (this.#closed || this.#failure || this.#lostTimer) return;
      this.#lostTimer = setTimeout(() => this.#lose(), this.settings.reconnectTimeoutMs);
    } else if (this.redis.status === 'ready' && this.reader.status === 'ready' && !this.#readerFailing) {
      clearTimeout(this.#lostTimer);
      this.#lostTimer = undefined;
    }
  }

  #lose(): void {
    if (this.#closed || this.#failure) return;
    const error = new ClusterConnectionError(this.address.display, `the connection was lost and not restored within ${this.settings.reconnectTimeoutMs} ms`);
    this.#failure = error;
    this.#pending.settleAll({ state: 'Crashed', error });
    this.events.emit('runner:warning', { message: error.message, time: now() });
    // Stop reconnecting in the background: this session is done.
    this.reader.disconnect();
    this.redis.disconnect();
  }
}

/** Tells `done` how a run ended, a microtask from now (a submission never settles inside its call). */
function later<T extends ClientTask>(done: (outcome: TaskOutcome, task: T) => void, outcome: TaskOutcome, task: T): void {
  queueMicrotask(() => done(outcome, task));
}
