/**
 * The one module that knows BullMQ and the Redis key layout of a cluster: queue names, the key
 * prefix (a `{hash tag}` on a Redis Cluster, so that each multi-key command stays in one slot),
 * job options, the Queue and Worker factories, weft's own key names, and the backlog.
 *
 * Layout under one key prefix (`weft` unless the address says otherwise), on one Redis:
 * - BullMQ queues `tasks` (no resources) and `tasks~GPU=1` (one per resource requirement), whose
 *   jobs are batches of task runs (their run count in the job data, for the backlog);
 * - `weft:results:{channel}`: a list per client (a flow run, a `getClient()`), drained with
 *   blocking pops in batches: each element is a v8 `WorkerBatch` (protocol.ts);
 * - `weft:open:{channel}`: exists while the client's session is open; workers deliver to a
 *   channel only while it does (a cut-off worker's late results re-create nothing);
 * - `weft:pulse:{worker}`: exists while a worker's pulse thread reaches Redis; workers free
 *   the jobs of a registered worker without one (reaper.ts);
 * - `weft:done:{channel}`: a set of delivered task run ids, so a job re-run after a worker
 *   died never recomputes a result already delivered;
 * - `weft:workers`: a hash of live workers (id → JSON `WorkerInfo`), refreshed by heartbeats;
 * - `weft:requirements`: the set of resource requirements tasks have asked for;
 * - `weft:control`: pub/sub channel for `ControlMessage`s (cancel, new requirement);
 * - `weft:dashboard`: a capped stream of what workers and clients do, for dashboards (dashboard/feed.ts).
 *
 * On a Redis Cluster the prefix is `{weft}`: `{weft}:workers`, `{weft}:requirements`,
 * `{weft}:control`, `{weft}:ring` and the workers' pulse keys share its slot; each client's keys are
 * `{weft:<channel>}:results`, `:done` and `:open` (a slot per client); and the task queues
 * form a ring of shards (ring.ts), each under a prefix of its own (`{weft:q0}`, `{weft:q1}`, ...)
 * on a different master.
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

/** Whether a key prefix is hash-tagged (a Redis Cluster's layout). */
export function isTagged(prefix: string): boolean {
  return prefix.startsWith('{') && prefix.endsWith('}');
}

/**
 * A key of its own slot under `prefix`: on a tagged prefix `{weft}`, the owner's name joins the
 * tag (`{weft:owner}:what`), so one owner's keys share a slot, apart from the cluster's shared
 * keys; untagged, `weft:what:owner` as before.
 */
function owned(prefix: string, what: string, owner: string): string {
  return isTagged(prefix) ? `${prefix.slice(0, -1)}:${owner}}:${what}` : `${prefix}:${what}:${owner}`;
}

/**
 * weft's own keys (besides BullMQ's), under a key prefix from {@link keyPrefix}. On a Redis
 * Cluster (tagged prefix) the cluster's shared keys (`workers`, `requirements`, `control`, `ring`)
 * share the prefix's slot, so the heartbeat's MULTI and the requirement announcement stay in one
 * slot; each client's `results` and `done` share a slot of the client's own, so the DEL of both at
 * close is one slot, and clients spread over the shards.
 */
export const keys = {
  results: (prefix: string, channel: string) => owned(prefix, 'results', channel),
  done: (prefix: string, channel: string) => owned(prefix, 'done', channel),
  workers: (prefix: string) => `${prefix}:workers`,
  requirements: (prefix: string) => `${prefix}:requirements`,
  control: (prefix: string) => `${prefix}:control`,
  /** The capped stream dashboards read (dashboard/feed.ts). */
  dashboard: (prefix: string) => `${prefix}:dashboard`,
  /** A Redis Cluster's ring of task-queue shards (ring.ts): a JSON list of their prefixes. */
  ring: (prefix: string) => `${prefix}:ring`,
  /** The worker that last took a job (a batch), so the worker that finds it stalled can name the one that died. Under the job's shard prefix. */
  holder: (prefix: string, signature: string, jobId: string) => `${prefix}:holder:${signature}:${jobId}`,
  /** Exists while a worker's pulse thread reaches Redis (cluster/pulse.ts). */
  pulse: (prefix: string, workerId: string) => `${prefix}:pulse:${workerId}`,
  /** Exists while a session's channel is open: results for a channel without it are dropped (outbox.ts). */
  open: (prefix: string, channel: string) => owned(prefix, 'open', channel),
};

/** BullMQ's keys of a queue that weft's reaper reads (under a shard's prefix): the active list, and a job's key (its lock is `<job key>:lock`). */
export function jobKeys(prefix: string, signature: string): { active: string; job: (id: string) => string } {
  const base = `${prefix}:${queueName(signature)}`;
  return { active: `${base}:active`, job: (id) => `${base}:${id}` };
}

/** The BullMQ queue for tasks with this requirement signature. */
export function queueName(signature: string): string {
  return signature === '' ? TASK_QUEUE : `${TASK_QUEUE}~${signature}`;
}

/** Low bits of a BullMQ priority: the fair-share rank of a job's flow run within its weft priority. */
const SHARE_BITS = 10;
const SHARE_RANKS = 1 << SHARE_BITS;
/** Share ranks per doubling of a flow run's task runs sent (about 1.5 % apart; the last rank is reached at ~2.6 million). */
const RANKS_PER_DOUBLING = 48;
/** weft priorities a cluster keeps apart: -1023 … 1023 (beyond, a priority counts as the nearest end). */
export const PRIORITY_SPAN = 1023;

/**
 * Fair share between flow runs: the rank of a job whose flow run had sent `sent` task runs before
 * it (its virtual start). Monotone and logarithmic, so it fits BullMQ's priority bits however many
 * runs are sent: the i-th task run of every flow run gets about the same rank, so runs that wait
 * are taken in turn, and a run that has sent little (a small run started behind a big one) goes
 * ahead of the big one's remaining backlog.
 */
export function shareRank(sent: number): number {
  return Math.min(SHARE_RANKS - 1, Math.floor(RANKS_PER_DOUBLING * Math.log2(1 + Math.max(0, sent))));
}

/**
 * A job's BullMQ priority (1 = highest … 2^21 - 1, lower sooner) from its weft priority (any finite
 * number, higher sooner) and its flow run's fair-share rank ({@link shareRank} of `sent`): the weft
 * priority is the high part (a band per integer priority, ±{@link PRIORITY_SPAN}), so priority
 * still orders across priorities; the share rank orders flow runs within one; BullMQ's insertion
 * counter breaks ties (FIFO). Every job gets a priority ≥ 1 so all jobs share BullMQ's prioritized
 * set; priority 0 would put a job on a separate FIFO list.
 */
export function bullPriority(priority: number, sent = 0): number {
  const band = PRIORITY_SPAN - Math.min(PRIORITY_SPAN, Math.max(-PRIORITY_SPAN, Math.round(priority)));
  return 1 + band * SHARE_RANKS + shareRank(sent);
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
  /** Task runs its flow run sent before this job, for fair share between flow runs (see {@link bullPriority}). @default 0 */
  readonly sent?: number;
  /** The BullMQ priority as it was: a job's runs handed back keep their place (slice.ts). @default from `priority` and `sent` */
  readonly bullPriority?: number;
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
type BacklogState = (typeof BACKLOG_STATES)[number];
/** Jobs read per page while counting runs. */
const PAGE = 50;

/** A queue's depth: task runs waiting and running, and the jobs (batches) that hold them. */
export interface QueueDepth {
  readonly waiting: number;
  readonly running: number;
  readonly waitingJobs: number;
  readonly runningJobs: number;
}

/** Jobs added to one shard, in order. */
export interface Added {
  readonly shard: number;
  readonly ids: readonly (string | undefined)[];
}

/**
 * A cluster's queues on one Redis connection: one BullMQ `Queue` per requirement signature and
 * shard of the ring (ring.ts: one shard, the prefix itself, on one Redis), made on first use and
 * closed together. Jobs go round the ring, from a random shard on.
 */
export class ClusterQueues {
  readonly #queues = new Map<string, Queue>();
  #next: number;

  constructor(
    readonly redis: Redis,
    /** The key prefix, from {@link keyPrefix}. */
    readonly prefix: string,
    /** The shards' key prefixes (ring.ts's `openRing`). */
    readonly ring: readonly string[] = [prefix],
  ) {
    this.#next = Math.floor(Math.random() * ring.length);
  }

  /** The queue of a requirement signature on a shard. */
  queue(signature: string, shard = 0): Queue {
    const key = `${shard}:${signature}`;
    let queue = this.#queues.get(key);
    if (!queue) {
      queue = new Queue(queueName(signature), { connection: this.redis, prefix: this.ring[shard] ?? this.prefix });
      // Errors surface through the commands; without a listener they would be printed.
      queue.on('error', () => undefined);
      this.#queues.set(key, queue);
    }
    return queue;
  }

  /** Adds jobs to the queue of `signature` on one shard (the next round the ring unless given), in one call. */
  async add(signature: string, jobs: readonly NewJob[], shard = this.#place()): Promise<Added> {
    const added = await this.queue(signature, shard).addBulk(jobs.map((job) => ({
      name: job.name,
      data: { p: job.payload, n: job.runs } satisfies JobData,
      opts: { ...JOB_OPTIONS, priority: job.bullPriority ?? bullPriority(job.priority, job.sent) },
    })));
    return { shard, ids: added.map((job) => job.id) };
  }

  #place(): number {
    const shard = this.#next;
    this.#next = (this.#next + 1) % this.ring.length;
    return shard;
  }

  /** Removes a queued job (a job already taken by a worker stays). */
  async remove(signature: string, jobId: string, shard = 0): Promise<void> {
    await this.queue(signature, shard).remove(jobId).catch(() => 0);
  }

  /**
   * Task runs waiting or running, over the plain queue and every resource queue tasks have asked
   * for, on every shard, counted in runs (a job is a batch). Reads BullMQ's public API: job
   * counts, then the jobs themselves, page by page, stopping once `limit` runs are counted (more
   * than a cluster can scale to makes no difference). `accept` picks the requirement signatures to count.
   */
  async backlog(limit = Infinity, accept: (signature: string) => boolean = () => true): Promise<Backlog> {
    const signatures = ['', ...(await this.redis.smembers(keys.requirements(this.prefix)))].filter(accept);
    const bySignature = new Map<string, number>();
    let total = 0;
    for (const signature of signatures) {
      for (let shard = 0; shard < this.ring.length && total < limit; shard++) {
        const { runs } = await this.#runs(this.queue(signature, shard), limit - total);
        if (runs > 0) bySignature.set(signature, (bySignature.get(signature) ?? 0) + runs);
        total += runs;
      }
    }
    return { total, bySignature };
  }

  /** The depth of the queue of `signature` over every shard: jobs, and the task runs they hold, waiting and running. */
  async depth(signature: string): Promise<QueueDepth> {
    const depth = { waiting: 0, running: 0, waitingJobs: 0, runningJobs: 0 };
    for (let shard = 0; shard < this.ring.length; shard++) {
      const queue = this.queue(signature, shard);
      const waiting = await this.#runs(queue, Infinity, ['wait', 'prioritized']);
      const running = await this.#runs(queue, Infinity, ['active']);
      depth.waiting += waiting.runs;
      depth.waitingJobs += waiting.jobs;
      depth.running += running.runs;
      depth.runningJobs += running.jobs;
    }
    return depth;
  }

  /** Whether no job waits in the queue of `signature` on a shard (queued plain or prioritized; running ones aside). */
  async idle(signature: string, shard = 0): Promise<boolean> {
    const counts = await this.queue(signature, shard).getJobCounts('wait', 'prioritized');
    return (counts.wait ?? 0) + (counts.prioritized ?? 0) === 0;
  }

  /** The jobs of a queue in `states`, and the task runs they hold (read page by page until `limit` runs are counted). */
  async #runs(queue: Queue, limit: number, states: readonly BacklogState[] = BACKLOG_STATES): Promise<{ jobs: number; runs: number }> {
    const counts = await queue.getJobCounts(...states);
    const jobs = states.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
    let runs = 0;
    for (let start = 0; start < jobs && runs < limit; start += PAGE) {
      const page = await queue.getJobs([...states], start, start + PAGE - 1);
      if (page.length === 0) break;
      for (const job of page) runs += (job.data as JobData | undefined)?.n ?? 1;
    }
    return { jobs, runs };
  }

  /** Closes every queue made here (the connection stays its owner's). */
  async close(): Promise<void> {
    await Promise.all([...this.#queues.values()].map((q) => q.close().catch(() => undefined)));
    this.#queues.clear();
  }
}

/** The most time between two stall checks of a queue worker. */
export const STALL_CHECK_MS = 2000;

/**
 * A BullMQ worker taking jobs from the queue of `signature`. No prefetching beyond `concurrency`:
 * a job held while it waits would die with its worker and count against its tasks' allowed
 * failures without ever having run.
 */
export function queueWorker(
  redis: Redis,
  /** The shard's key prefix (the cluster's on one Redis). */
  prefix: string,
  signature: string,
  processor: (job: Job<JobData>, token: string | undefined) => Promise<void>,
  settings: WorkerSettings,
): Worker<JobData> {
  return new Worker<JobData>(queueName(signature), (job, token) => processor(job, token), {
    connection: redis, prefix, concurrency: settings.concurrency,
    // Stall checks often (cheap: one script per queue): a job whose lock the reaper freed moves within this, not the lock time.
    lockDuration: settings.lockMs, stalledInterval: Math.min(STALL_CHECK_MS, Math.max(500, settings.lockMs / 2)), maxStalledCount: 1_000_000,
    removeOnComplete: { count: 0 }, removeOnFail: { count: 100 }, drainDelay: 5,
  });
}
