/**
 * Where a dashboard's model hears what happens. A cluster: its capped stream (every worker's and
 * client's rows, dashboard/feed.ts), its worker registry and its queues. One flow run (`weft run
 * --dashboard`, any runner): the run's own event bus.
 *
 * @module
 */
import { connect, parseAddress, type ClusterAddress } from '../cluster/connection.ts';
import { ClockSync } from '../cluster/clock.ts';
import type { Redis } from '../cluster/libs.ts';
import { ClusterQueues, keys } from '../cluster/queues.ts';
import { liveWorkers } from '../cluster/registry.ts';
import type { EventBus } from '../events/bus.ts';
import { now } from '../events/events.ts';
import { bounded } from '../util/bounded.ts';
import { applyEntry } from './feed.ts';
import { DashboardModel, type DashboardModelOptions } from './model.ts';

/** A model kept up to date from somewhere, with the clock its times are on. */
export interface DashboardSource {
  readonly model: DashboardModel;
  /** What the page says it shows (a cluster's address, a flow run). */
  readonly title: string;
  /** The time now on the clock of the model's events. */
  now(): number;
  close(): Promise<void>;
}

/** How often the registry and the queues are read. */
const POLL_MS = 1000;
/** Entries read per XREAD, and how long one blocks. */
const READ_COUNT = 1000;
const BLOCK_MS = 100;

/** A cluster's dashboard source: reads back the stream's last window, then follows it. */
export class ClusterSource implements DashboardSource {
  readonly model: DashboardModel;
  readonly title: string;
  readonly #clock = new ClockSync();
  readonly #queues: ClusterQueues;
  #closed = false;
  #reading: Promise<void> | undefined;
  #poll: NodeJS.Timeout | undefined;

  private constructor(
    readonly address: ClusterAddress,
    readonly redis: Redis,
    readonly reader: Redis,
    options: DashboardModelOptions,
  ) {
    this.model = new DashboardModel(options);
    this.title = `cluster ${address.display}`;
    this.#queues = new ClusterQueues(redis, address.prefix);
  }

  static async open(address: string, options: DashboardModelOptions = {}): Promise<ClusterSource> {
    const parsed = parseAddress('address', address);
    const redis = await connect(parsed, { connectTimeoutMs: 10_000, name: 'weft-dashboard' });
    let reader: Redis;
    try {
      reader = await connect(parsed, { connectTimeoutMs: 10_000, name: 'weft-dashboard-reader' });
    } catch (error) {
      redis.disconnect();
      throw error;
    }
    const source = new ClusterSource(parsed, redis, reader, options);
    await source.#clock.measure(redis, 3);
    await source.#refresh();
    source.#reading = source.#follow();
    source.#poll = setInterval(() => void source.#refresh(), POLL_MS);
    return source;
  }

  now(): number {
    return now() + this.#clock.offsetMs;
  }

  async #refresh(): Promise<void> {
    try {
      const time = this.now();
      const workers = await liveWorkers(this.redis, this.address.prefix);
      this.model.syncWorkers(workers.map((w) => ({ id: w.id, host: w.host, resources: w.resources, slots: w.concurrency })), time);
      const signatures = ['', ...(await this.redis.smembers(keys.requirements(this.address.prefix)))];
      for (const signature of signatures) if (await this.#queues.idle(signature)) this.model.queueEmpty(signature);
      await this.#clock.measure(this.redis);
    } catch {
      // Redis unreachable for now: the page shows the last state, and the next poll tries again.
    }
  }

  /** Applies the stream's entries of the last window, then every new one as it comes. */
  async #follow(): Promise<void> {
    const key = keys.dashboard(this.address.prefix);
    let last = `${Math.max(0, Math.floor(this.now() - this.model.windowMs))}-0`;
    while (!this.#closed) {
      try {
        const reply = (await this.reader.xread('COUNT', READ_COUNT, 'BLOCK', BLOCK_MS, 'STREAMS', key, last)) as [string, [string, string[]][]][] | null;
        for (const [, entries] of reply ?? []) {
          for (const [id, fields] of entries) {
            applyEntry(this.model, fields);
            last = id;
          }
        }
      } catch {
        if (!this.#closed) await new Promise((r) => setTimeout(r, 500));
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#poll);
    this.reader.disconnect();
    await bounded(this.#reading, 1000);
    await bounded(this.#queues.close(), 1000);
    this.redis.disconnect();
  }
}

/** One flow run's dashboard source: its bus's events, on any runner. */
export class BusSource implements DashboardSource {
  readonly model: DashboardModel;
  readonly #off: (() => void)[];

  constructor(bus: Pick<EventBus, 'on'>, readonly title: string, options: DashboardModelOptions = {}) {
    const model = (this.model = new DashboardModel(options));
    const QUEUE = '';
    this.#off = [
      bus.on('flow-run:started', (e) => model.flowStarted(e.flowRunId, e.flowName, e.time)),
      bus.on('flow-run:finished', (e) => model.flowFinished(e.flowRunId, e.state, e.time)),
      bus.on('task-run:submitted', (e) => model.submitted(e.flowRunId, QUEUE, 1, e.time)),
      bus.on('task-run:started', (e) => {
        if (e.attempt <= 1) model.taken(QUEUE, 1);
        model.started({ taskRunId: e.taskRunId, taskName: e.taskName, flowRunId: e.flowRunId, workerId: e.workerId, queue: QUEUE, time: e.time });
      }),
      bus.on('task-run:retried', (e) => model.retried(e.taskRunId, e.time)),
      bus.on('task-run:finished', (e) => {
        if (e.attempt === 0) model.taken(QUEUE, 1); // it never started: no longer queued either
        const startTime = e.startTime === undefined ? undefined : e.startTime;
        const time = e.startTime !== undefined && e.serviceMs !== undefined ? e.startTime + e.serviceMs : e.time;
        model.finished({ taskRunId: e.taskRunId, taskName: e.taskName, flowRunId: e.flowRunId, workerId: e.workerId, state: e.state, startTime, time });
      }),
      bus.on('worker:joined', (e) => model.workerSeen({ id: e.workerId, resources: e.resources })),
      bus.on('worker:left', (e) => model.workerLeft(e.workerId, e.time)),
    ];
  }

  now(): number {
    return now();
  }

  close(): Promise<void> {
    for (const off of this.#off) off();
    return Promise.resolve();
  }
}
