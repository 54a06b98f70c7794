/**
 * The one module that knows BullMQ and the Redis key layout of a cluster: queue names, the key
 * prefix (optionally a `{hash tag}`, so that a Redis Cluster keeps a queue's keys in one slot),
 * job options, the Queue and Worker factories, weft's own key names, and the backlog.
 *
 * Layout, all under one key prefix (`weft` unless the address says otherwise; `{weft}` tagged):
 * - BullMQ queues `tasks` (no resources) and `tasks~GPU=1` (one per resource requirement), whose
 *   jobs are batches of task runs (their run count in the job data, for the backlog);
 * - `{prefix}:results:{channel}`: a list per client (a flow run, a `getClient()`), drained with
 *   blocking pops in batches: each element is a v8 `WorkerBatch` (protocol.ts);
 * - `{prefix}:done:{channel}`: a set of delivered task run ids, so a job re-run after a worker
 *   died never recomputes a result already delivered;
 * - `{prefix}:workers`: a hash of live workers (id → JSON `WorkerInfo`), refreshed by heartbeats;
 * - `{prefix}:requirements`: the set of resource requirements tasks have asked for;
 * - `{prefix}:control`: pub/sub channel for `ControlMessage`s (cancel, new requirement);
 * - `{prefix}:dashboard`: a capped stream of what workers and clients do, for dashboards (dashboard/feed.ts).
 *
 * @module
 */
import { Queue, Worker, type Job, type Redis } from './libs.ts';

export const DEFAULT_PREFIX = 'weft';
export const TASK_QUEUE = 'tasks';

/**
 * The prefix of every key of a cluster. `hashTag` wraps it in braces (`{weft}`): Redis Cluster
 * then hashes only the tag, so a queue's keys (and weft's own) share a slot, which BullMQ's
 * multi-key scripts require there. Off by default, which keeps today's key names.
 */
export function keyPrefix(prefix: string, hashTag = false): string {
  return hashTag ? `{${prefix}}` : prefix;
}

/** weft's own keys (besides BullMQ's), under a key prefix from {@link keyPrefix}. */
export const keys = {
  results: (prefix: string, channel: string) => `${prefix}:results:${channel}`,
  done: (prefix: string, channel: string) => `${prefix}:done:${channel}`,
  workers: (prefix: string) => `${prefix}:workers`,
  requirements: (prefix: string) => `${prefix}:requirements`,
  control: (prefix: string) => `${prefix}:control`,
  /** The capped stream dashboards read (dashboard/feed.ts). */
  dashboard: (prefix: string) => `${prefix}:dashboard`,
  /** The worker that last took a job (a batch), so the worker that finds it stalled can name the one that died. */
  holder: (prefix: string, signature: string, jobId: string) => `${prefix}:holder:${signature}:${jobId}`,
};

/** The BullMQ queue for tasks with this requirement signature. */
export function queueName(signature: string): string {
  return signature === '' ? TASK_QUEUE : `${TASK_QUEUE}~${signature}`;
}

/**
 * weft priorities (any finite number, higher sooner) onto BullMQ's (1 = highest … 2^21, lower
 * sooner). Every job gets a priority ≥ 1 so all jobs share BullMQ's prioritized set, which keeps
 * FIFO order within a priority; priority 0 would put a job on a separate FIFO list.
 */
export function bullPriority(priority: number): number {
  const mid = 1 << 20;
  return Math.min((1 << 21) - 1, Math.max(1, Math.round(mid - priority)));
}

/** The BullMQ job data: the v8 batch payload as base64 (BullMQ stores job data as JSON), and how many task runs it holds. */
export interface JobData {
  readonly p: string;
  /** Task runs in the batch, so the backlog counts runs, not jobs. Absent in jobs of older clients: one. */
  readonly n?: number;
}

/** One job to add: a batch of task runs, encoded. */
export interface NewJob {
  /** A name for people reading the queue (the first task's name). */
  readonly name: string;
  /** The encoded batch payload. */
  readonly payload: string;
  /** Task runs in the batch. */
  readonly runs: number;
  /** The weft priority of its tasks (all the same in one job). */
  readonly priority: number;
}

/** Completed jobs go at once (their results went to the client's list); the last 100 failed stay, for inspection. */
const JOB_OPTIONS = { removeOnComplete: true, removeOnFail: 100 } as const;

/** Settings of a BullMQ worker on one queue. */
export interface WorkerSettings {
  /** Jobs held at once. */
  readonly concurrency: number;
  /** How long a job's lock lasts without renewal (a dead worker's jobs move after about this long). */
  readonly lockMs: number;
}

/** Task runs waiting or running on a cluster, by requirement signature ('' for tasks needing no resources). */
export interface Backlog {
  readonly total: number;
  readonly bySignature: ReadonlyMap<string, number>;
}

/** Job states that count as backlog: queued (plain or prioritized) and running. */
const BACKLOG_STATES = ['wait', 'prioritized', 'active'] as const;
/** Jobs read per page while counting runs. */
const PAGE = 50;

/**
 * A cluster's queues on one Redis connection: one BullMQ `Queue` per requirement signature, made
 * on first use and closed together.
 */
export class ClusterQueues {
  readonly #queues = new Map<string, Queue>();

  constructor(
    readonly redis: Redis,
    /** The key prefix, from {@link keyPrefix}. */
    readonly prefix: string,
  ) {}

  /** The queue of a requirement signature. */
  queue(signature: string): Queue {
    let queue = this.#queues.get(signature);
    if (!queue) {
      queue = new Queue(queueName(signature), { connection: this.redis, prefix: this.prefix });
      // Errors surface through the commands; without a listener they would be printed.
      queue.on('error', () => undefined);
      this.#queues.set(signature, queue);
    }
    return queue;
  }

  /** Adds jobs to the queue of `signature` in one call; resolves their job ids, in order. */
  async add(signature: string, jobs: readonly NewJob[]): Promise<(string | undefined)[]> {
    const added = await this.queue(signature).addBulk(jobs.map((job) => ({
      name: job.name,
      data: { p: job.payload, n: job.runs } satisfies JobData,
      opts: { ...JOB_OPTIONS, priority: bullPriority(job.priority) },
    })));
    return added.map((job) => job.id);
  }

  /** Removes a queued job (a job already taken by a worker stays). */
  async remove(signature: string, jobId: string): Promise<void> {
    await this.queue(signature).remove(jobId).catch(() => 0);
  }

  /**
   * Task runs waiting or running, over the plain queue and every resource queue tasks have asked
   * for, counted in runs (a job is a batch). Reads BullMQ's public API: job counts, then the jobs
   * themselves, page by page, stopping once `limit` runs are counted (more than a cluster can
   * scale to makes no difference). `accept` picks the requirement signatures to count.
   */
  async backlog(limit = Infinity, accept: (signature: string) => boolean = () => true): Promise<Backlog> {
    const signatures = ['', ...(await this.redis.smembers(keys.requirements(this.prefix)))].filter(accept);
    const bySignature = new Map<string, number>();
    let total = 0;
    for (const signature of signatures) {
      if (total >= limit) break;
      const runs = await this.#runs(this.queue(signature), limit - total);
      if (runs > 0) bySignature.set(signature, runs);
      total += runs;
    }
    return { total, bySignature };
  }

  /** Whether no job waits in the queue of `signature` (queued plain or prioritized; running ones aside). */
  async idle(signature: string): Promise<boolean> {
    const counts = await this.queue(signature).getJobCounts('wait', 'prioritized');
    return (counts.wait ?? 0) + (counts.prioritized ?? 0) === 0;
  }

  async #runs(queue: Queue, limit: number): Promise<number> {
    const counts = await queue.getJobCounts(...BACKLOG_STATES);
    const jobs = BACKLOG_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
    let runs = 0;
    for (let start = 0; start < jobs && runs < limit; start += PAGE) {
      const page = await queue.getJobs([...BACKLOG_STATES], start, start + PAGE - 1);
      if (page.length === 0) break;
      for (const job of page) runs += (job.data as JobData | undefined)?.n ?? 1;
    }
    return runs;
  }

  /** Closes every queue made here (the connection stays its owner's). */
  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close().catch(() => undefined)));
    this.#queues.clear();
  }
}

/**
 * A BullMQ worker taking jobs from the queue of `signature`. No prefetching beyond `concurrency`:
 * a job held while it waits would die with its worker and count against its tasks' allowed
 * failures without ever having run.
 */
export function queueWorker(
  redis: Redis,
  prefix: string,
  signature: string,
  processor: (job: Job<JobData>) => Promise<void>,
  settings: WorkerSettings,
): Worker<JobData> {
  return new Worker<JobData>(queueName(signature), processor, {
    connection: redis, prefix, concurrency: settings.concurrency,
    lockDuration: settings.lockMs, stalledInterval: Math.max(500, settings.lockMs / 2), maxStalledCount: 1_000_000,
    removeOnComplete: { count: 0 }, removeOnFail: { count: 100 }, drainDelay: 5,
  });
}
