import { UsageError, WorkerStartError } from '../errors.ts';
import type { LifecycleState } from '../core/task-runner.ts';
import type { Resources } from '../schedule/resources.ts';
import { bounded } from '../util/bounded.ts';
import * as v from '../util/validate.ts';
import type { AdaptOptions, Cluster } from './cluster.ts';
import { connect, parseAddress } from './connection.ts';
import type { Redis } from './libs.ts';
import { ClusterQueues } from './queues.ts';
import { RedisServer, freePort, type RedisServerOptions } from './redis-server.ts';
import { liveWorkers } from './registry.ts';
import { Scaler, taskDurations } from './scaler.ts';

/** How a worker process ended. */
export interface WorkerExit {
  /** It exited by itself with success: a worker told to stop (Ctrl-C reaches the whole process group). Not replaced. */
  readonly clean: boolean;
  /** What happened, for messages: `exited with code 1: ...`, `was killed by SIGKILL`. */
  readonly reason: string;
}

/** A worker a {@link WorkerLauncher} started: something that ends, and can be told to. */
export interface WorkerProcess {
  /** Resolves once the worker has gone, however it went. */
  readonly exited: Promise<WorkerExit>;
  /**
   * Stops it: asks it to finish its running tasks within `graceMs` (0: at once, by force), then
   * ends it for sure. Resolves once it has gone.
   */
  stop(graceMs: number): Promise<void>;
  /** Its process id, when it runs on this machine (tests and tools check that nothing is left). */
  readonly pid?: number;
}

/**
 * Starts one cluster worker (dask's `ProcessInterface`): a child process here, a command on
 * another host (ssh), a container. The worker joins the cluster at `address` as `id`; it counts
 * as ready once its heartbeat appears in the cluster's registry, so the launcher needs no channel
 * back to the cluster.
 */
export interface WorkerLauncher {
  launch(id: string, address: string): WorkerProcess;
}

/** What a {@link SpecCluster} is built from. */
export interface ClusterSpec {
  readonly launcher: WorkerLauncher;
  /** Workers at start. */
  readonly workers: number;
  /** Tasks each worker runs at once (what adaptive scaling divides the backlog by). */
  readonly slotsPerWorker: number;
  /** What each worker declares. */
  readonly resources: Resources;
  /** Worker ids are `${name}-1`, `${name}-2`, ... */
  readonly name: string;
  /** The private Redis: port (0 picks a free one), interface, password. */
  readonly redis: Omit<RedisServerOptions, 'binary' | 'startTimeoutMs'>;
  /** A worker not in the registry this long after its launch failed to start. @default 60000 */
  readonly startTimeoutMs?: number;
  /** How long a worker retired by `scale()` may finish its tasks before it is stopped by force. @default 15000 */
  readonly retireGraceMs?: number;
}

interface Member {
  readonly id: string;
  readonly process: WorkerProcess;
  retiring: boolean;
}

/** How often start-up polls the registry for new workers' heartbeats. */
const READY_POLL_MS = 20;

/**
 * A cluster from a spec (dask's `SpecCluster`): it owns a private `redis-server`, launches
 * workers through a {@link WorkerLauncher}, counts a worker ready once its heartbeat is in the
 * registry, replaces a worker that dies while the cluster runs (Dask's nanny), and scales, by
 * hand (`scale(n)`) or by backlog (`adapt`). A cluster class is a spec plus a launcher:
 * `LocalCluster` launches node processes on this machine.
 */
export class SpecCluster implements Cluster {
  readonly spec: ClusterSpec;
  readonly #redis = new RedisServer();
  readonly #members = new Map<string, Member>();
  #state: LifecycleState = 'idle';
  #nextIndex = 0;
  #connection: Promise<Redis> | undefined;
  #queues: ClusterQueues | undefined;
  #scaler: Scaler | undefined;
  #stopping: Promise<void> | undefined;
  /** Settles once the private Redis answers (or failed to start): the readiness poll waits for it. */
  #serverUp: Promise<void> = Promise.resolve();

  constructor(spec: ClusterSpec) {
    this.spec = spec;
  }

  get state(): LifecycleState {
    return this.#state;
  }

  /** What each worker declares: a task needing more can never run on this cluster. */
  get workerResources(): Resources {
    return this.spec.resources;
  }

  get address(): string {
    if (this.#state === 'idle' || this.#state === 'starting') throw new UsageError(`${this.constructor.name}.address was read before start() finished: await cluster.start() first.`);
    return this.#redis.address;
  }

  /** The pids of the worker processes (those with one here) and the redis-server. */
  get pids(): { redis: number | undefined; workers: number[] } {
    return { redis: this.#redis.pid, workers: [...this.#members.values()].flatMap((m) => (m.process.pid === undefined ? [] : [m.process.pid])) };
  }

  /** Workers running now, those retiring by `scale()` left out. */
  get size(): number {
    let n = 0;
    for (const m of this.#members.values()) if (!m.retiring) n++;
    return n;
  }

  /** Tasks each worker runs at once. */
  get slotsPerWorker(): number {
    return this.spec.slotsPerWorker;
  }

  /** Starts Redis, then the workers in parallel; resolves when every worker is in the registry. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') return;
    this.#state = 'starting';
    try {
      // Workers take far longer to load than Redis to start: start them together (workers retry
      // connecting). Redis is spawned first, not after the workers (which would save its spawn on
      // the critical path): a process killed between a spawn and its watch would leave it, and
      // only a worker exits by itself when its parent is gone, Redis does not (cluster-orphans).
      const port = this.spec.redis.port || (await freePort());
      const redis = this.#redis.start({ ...this.spec.redis, port });
      this.#serverUp = redis.catch(() => undefined);
      await Promise.all([redis, ...Array.from({ length: this.spec.workers }, () => this.#launch())]);
      this.#state = 'running';
    } catch (error) {
      this.#state = 'failed';
      await this.kill();
      throw error;
    }
  }

  /** Sets the number of workers (adding, or retiring the newest; a retiring worker finishes its tasks first). */
  async scale(workers: number): Promise<void> {
    v.integer('workers', workers, 0);
    const active = [...this.#members.values()].filter((m) => !m.retiring);
    const adding = workers - active.length;
    if (adding > 0) await Promise.all(Array.from({ length: adding }, () => this.#launch()));
    else for (const member of active.slice(workers)) this.#retire(member);
  }

  /** Adds workers while tasks wait and retires them when fewer suffice, between the bounds (see {@link AdaptOptions}). */
  adapt(options: AdaptOptions, onScale?: (from: number, to: number, reason: string) => void): void {
    this.#scaler?.stop();
    this.#scaler = new Scaler(this, {
      backlog: async (limit, accept) => (await this.#backlogQueues()).backlog(limit, accept),
      durations: async () => taskDurations(await liveWorkers(await this.#redisConnection(), parseAddress('address', this.#redis.address).prefix)),
    }, options);
    this.#scaler.onScale = onScale;
    this.#scaler.start();
  }

  /** Stops the workers (letting running tasks finish for up to `graceMs`), then Redis. */
  close(graceMs = 2000): Promise<void> {
    return (this.#stopping ??= this.#stop(graceMs));
  }

  /** Stops everything at once: running tasks are abandoned. Escalates a close() in progress. */
  kill(): Promise<void> {
    if (this.#stopping) {
      for (const member of this.#members.values()) void member.process.stop(0);
      return this.#stopping;
    }
    return (this.#stopping = this.#stop(0));
  }

  async #stop(graceMs: number): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'idle') {
      this.#state = 'closed';
      return;
    }
    this.#state = 'draining';
    this.#scaler?.stop();
    // The cluster's own connection (readiness, backlog) is of no more use: it goes while the workers stop.
    await Promise.all([this.#disconnect(), ...[...this.#members.values()].map((m) => m.process.stop(graceMs))]);
    await this.#redis.stop(graceMs === 0 ? 0 : 1000);
    this.#state = 'closed';
  }

  async #launch(): Promise<void> {
    const id = `${this.spec.name}-${++this.#nextIndex}`;
    // Workers connect where the server listens for them: its bound address (loopback unless redis.bind says otherwise).
    const process = this.spec.launcher.launch(id, this.#redis.address);
    const member: Member = { id, process, retiring: false };
    this.#members.set(id, member);
    let ready = false;
    void process.exited.then((exit) => {
      this.#members.delete(id);
      // The nanny: a worker that died while the cluster runs is replaced; its jobs run again once their locks lapse.
      if (ready && this.#state === 'running' && !exit.clean && !member.retiring) {
        void this.#launch().catch((error: unknown) => {
          if (this.#state === 'running') console.error(`weft: ${this.constructor.name} could not replace a dead worker: ${(error as Error).message}`);
        });
      }
    });
    try {
      await this.#ready(id, process);
    } catch (error) {
      // Retired while it was starting (adaptive scaling changed its mind): not a failure.
      if (member.retiring) return;
      throw error;
    }
    ready = true;
  }

  /** Resolves once worker `id` is in the registry; rejects if it exits first or takes too long. */
  async #ready(id: string, process: WorkerProcess): Promise<void> {
    let exit: WorkerExit | undefined;
    void process.exited.then((e) => (exit = e));
    const deadline = Date.now() + (this.spec.startTimeoutMs ?? 60_000);
    const fail = (why: string) => new WorkerStartError(id, 1, why);
    // Not one poll before Redis answers. And an await before the first: the first connection loads
    // BullMQ and ioredis, synchronously (100-300 ms of CPU), which must not hold back the spawns of
    // the workers launched after this one (start() launches them all in one go).
    await this.#serverUp;
    for (;;) {
      if (exit) throw fail(`it exited before it was ready (${exit.reason})`);
      if (this.#stopping) throw fail('the cluster stopped while it was starting');
      if (Date.now() > deadline) {
        void process.stop(0);
        throw fail(`it did not join the cluster's registry within ${this.spec.startTimeoutMs ?? 60_000} ms`);
      }
      const redis = await this.#redisConnection().catch(() => undefined);
      if (redis && (await liveWorkers(redis, parseAddress('address', this.#redis.address).prefix).catch(() => [])).some((w) => w.id === id)) return;
      await new Promise((r) => setTimeout(r, READY_POLL_MS));
    }
  }

  #retire(member: Member): void {
    member.retiring = true;
    void member.process.stop(this.spec.retireGraceMs ?? 15_000);
  }

  /** The cluster's own connection (readiness, backlog), once its Redis answers. */
  #redisConnection(): Promise<Redis> {
    if (!this.#redis.pid) return Promise.reject(new Error('Redis is not up yet'));
    this.#connection ??= connect(parseAddress('address', this.#redis.address), { connectTimeoutMs: 2000, name: 'weft-cluster' }).catch((error: unknown) => {
      this.#connection = undefined;
      throw error;
    });
    return this.#connection;
  }

  async #backlogQueues(): Promise<ClusterQueues> {
    const redis = await this.#redisConnection();
    return (this.#queues ??= new ClusterQueues(redis, parseAddress('address', this.#redis.address).prefix));
  }

  async #disconnect(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    if (!connection) return;
    const redis = await connection.catch(() => undefined);
    await bounded(this.#queues?.close(), 1000);
    this.#queues = undefined;
    redis?.disconnect();
  }
}
