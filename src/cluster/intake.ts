import { slotsFor, type Resources } from '../schedule/resources.ts';
import { bounded } from '../util/bounded.ts';
import type { Job, Redis, Worker } from './libs.ts';
import { parseSignature } from './protocol.ts';
import { queueWorker, type JobData } from './queues.ts';

/** What a worker's intake takes jobs for. */
export interface IntakeSettings {
  readonly redis: Redis;
  /** The shards' key prefixes (ring.ts): the intake takes from every one. */
  readonly ring: readonly string[];
  /** Tasks the worker runs at once. */
  readonly concurrency: number;
  /** What the worker declares. */
  readonly resources: Resources;
  readonly lockMs: number;
  /** Handles one job; resolves once every run in it is delivered (the job's lock is held until then). */
  readonly process: (job: Job<JobData>, signature: string, shard: number, token: string | undefined) => Promise<void>;
  readonly onError: (error: unknown) => void;
}

/**
 * A cluster worker's job intake: BullMQ workers on the plain queue, and on the queue of each
 * resource requirement this worker can meet, one per shard of the ring, together taking about as
 * many jobs at once as the worker could run (no prefetching: a job held while it waits would die
 * with this worker and count against its tasks' allowed failures without ever having run). With
 * S shards, each shard's takes ⌈slots / S⌉, so at most S - 1 jobs beyond the slots are held.
 */
export class JobIntake {
  readonly #settings: IntakeSettings;
  readonly #workers = new Map<string, Worker<JobData>[]>();
  #closing = false;

  constructor(settings: IntakeSettings) {
    this.#settings = settings;
  }

  /** Starts taking jobs of a requirement this worker can meet (once; a requirement it cannot meet is ignored). */
  async ensure(signature: string): Promise<void> {
    if (this.#workers.has(signature) || this.#closing) return;
    // As many jobs at once as the resources allow, so this worker takes no job it must sit on.
    const concurrency = slotsFor(parseSignature(signature), this.#settings.resources, this.#settings.concurrency);
    if (concurrency === 0) return;
    const shards = this.#settings.ring.length;
    const workers = this.#settings.ring.map((_, shard) => this.#worker(signature, shard, Math.max(1, Math.ceil(concurrency / shards))));
    this.#workers.set(signature, workers);
    await Promise.all(workers.map((w) => w.waitUntilReady()));
  }

  /**
   * One more job may come in while a task waits on nested work (`getClient()`): the caller lent
   * that task's slot out, but BullMQ counts the waiting task's job as busy too, and its fetch loop
   * does not notice a raised concurrency until a job ends. So a helper takes one more plain job
   * meanwhile (on each shard: the nested jobs may be on any), or a one-slot worker would never
   * take the nested jobs its task waits for.
   */
  widen(): () => void {
    const helpers = this.#closing ? [] : this.#settings.ring.map((_, shard) => this.#worker('', shard, 1));
    return () => void Promise.all(helpers.map((h) => h.close())).catch(() => undefined);
  }

  /**
   * Stops taking jobs and waits up to `graceMs` for the jobs in hand; resolves whether they all
   * finished. Those that did not are handed back: their locks lapse and other workers run them.
   */
  async close(graceMs: number, hurry?: AbortSignal): Promise<boolean> {
    this.#closing = true;
    const workers = [...this.#workers.values()].flat();
    let timer: NodeJS.Timeout | undefined;
    const graceful = Promise.all(workers.map((w) => w.close())).then(() => true);
    const late = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
      // `hurry` ends the grace early (a second Ctrl-C): the running tasks are handed back now.
      hurry?.addEventListener('abort', () => resolve(false), { once: true });
    });
    const finished = await Promise.race([graceful, late]);
    clearTimeout(timer);
    if (!finished) await bounded(Promise.all(workers.map((w) => w.close(true))), 1000);
    return finished;
  }

  #worker(signature: string, shard: number, concurrency: number): Worker<JobData> {
    const { redis, ring, lockMs } = this.#settings;
    const worker = queueWorker(redis, ring[shard] as string, signature, (job, token) => this.#settings.process(job, signature, shard, token), { concurrency, lockMs });
    worker.on('error', (error) => this.#settings.onError(error));
    return worker;
  }
}
