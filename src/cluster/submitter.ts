import * as v8 from 'node:v8';
import { ClusterConnectionError } from '../errors.ts';
import { encodeBatch, serialize } from '../protocol/serialize.ts';
import { planJobs, type PlannedJob } from './batch.ts';
import { encodeJob } from './job-payload.ts';
import type { Redis } from './libs.ts';
import type { PendingRun, PendingRuns } from './pending-runs.ts';
import type { ControlMessage } from './protocol.ts';
import { keys, type ClusterQueues, type NewJob } from './queues.ts';
import type { ClientFeed } from '../dashboard/feed.ts';

/** Jobs per addBulk call. */
const ADD_CHUNK = 4;
/** Flow runs whose sent count a submitter remembers (a worker's nested client serves many over its life). */
const FLOW_RUNS_KEPT = 1000;

/** Where a submitter sends, and for whom. */
export interface SubmitterSettings {
  readonly redis: Redis;
  readonly queues: ClusterQueues;
  /** The key prefix. */
  readonly prefix: string;
  /** The session's result channel, written into every job. */
  readonly channel: string;
  readonly allowedFailures: number;
  /** The address as shown in errors. */
  readonly display: string;
  /** Whether sending should stop (the session closed or lost its connection). */
  readonly stopped: () => boolean;
  /** Told what was queued where, for the cluster's dashboards. */
  readonly feed?: ClientFeed;
}

/**
 * A session's sending side: everything submitted in one turn of the event loop goes out together,
 * grouped into BullMQ jobs (`planJobs`), a few jobs per `addBulk`, each encoded just before it
 * goes; while one flush is in flight, the next turn's runs gather. Each job carries how many runs
 * its flow run had sent before it, so the cluster takes flow runs of one priority in turn (fair
 * share, queues.ts `bullPriority`). A run that cannot be encoded, or whose sending fails, is
 * settled in `pending` at once.
 */
export class Submitter {
  readonly #settings: SubmitterSettings;
  readonly #pending: PendingRuns;
  readonly #announced = new Set<string>();
  /** Task runs sent so far, by flow run: each job's fair-share rank (queues.ts `bullPriority`). */
  readonly #sent = new Map<string, number>();
  #outgoing: PendingRun[] = [];
  #flushing: Promise<void> | undefined;
  #flushQueued = false;

  constructor(settings: SubmitterSettings, pending: PendingRuns) {
    this.#settings = settings;
    this.#pending = pending;
  }

  /** Queues a run for the next flush: its pending record, which is its wire form too. */
  push(run: PendingRun): void {
    this.#outgoing.push(run);
    if (this.#flushQueued) return;
    this.#flushQueued = true;
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

  /** Resolves once the flush in flight (if any) has ended. */
  flushed(): Promise<void> {
    return this.#flushing?.catch(() => undefined) ?? Promise.resolve();
  }

  async #send(runs: PendingRun[]): Promise<void> {
    const live = runs.filter((r) => !r.settled);
    if (live.length === 0 || this.#settings.stopped()) return;
    const jobs = planJobs(live);
    // Jobs before this one were added: a failure fails the runs of the rest.
    let unsent = 0;
    try {
      // A few jobs per addBulk, each encoded just before it goes: workers start on the first jobs
      // while the rest are still being encoded and sent (one addBulk of everything is one MULTI
      // that workers can take nothing from until it has run).
      for (let i = 0; i < jobs.length; ) {
        const signature = (jobs[i] as PlannedJob).signature;
        const chunk: PlannedJob<PendingRun>[] = [];
        while (i < jobs.length && chunk.length < ADD_CHUNK && (jobs[i] as PlannedJob).signature === signature) chunk.push(jobs[i++] as PlannedJob<PendingRun>);
        await this.#announce(signature);
        const bulk: (NewJob & { runsOf: PendingRun[] })[] = [];
        for (const job of chunk) {
          const encoded = this.#encode(job.tasks);
          if (encoded === undefined) continue;
          const before = this.#countSent(job.flowRunId, job.tasks.length);
          bulk.push({ name: job.tasks[0]?.options.name ?? 'task', payload: encoded, runs: job.tasks.length, priority: job.priority, sent: before, runsOf: job.tasks });
        }
        if (bulk.length > 0) {
          // Each chunk to the next shard round the ring (ClusterQueues), so one flow run's work spreads.
          const { shard, ids } = await this.#settings.queues.add(signature, bulk);
          const feed = this.#settings.feed;
          ids.forEach((jobId, k) => {
            const job = jobId === undefined ? undefined : { id: jobId, shard }; // one per job, shared by its runs
            for (const run of bulk[k]?.runsOf ?? []) {
              run.job = job;
              feed?.submitted(run.flowRunId, signature);
            }
          });
        }
        unsent = i;
      }
    } catch (error) {
      const failure = new ClusterConnectionError(this.#settings.display, `sending task runs failed: ${(error as Error).message}`, error);
      for (const job of jobs.slice(unsent)) for (const r of job.tasks) this.#pending.resolve(r.taskRunId, { state: 'Crashed', error: failure });
    }
  }

  /** Task runs `flowRunId` sent before these `runs`, counting them in. */
  #countSent(flowRunId: string, runs: number): number {
    const before = this.#sent.get(flowRunId) ?? 0;
    this.#sent.delete(flowRunId); // re-inserted last: the map forgets the flow runs idle longest
    this.#sent.set(flowRunId, before + runs);
    if (this.#sent.size > FLOW_RUNS_KEPT) this.#sent.delete(this.#sent.keys().next().value as string);
    return before;
  }

  /** Tells workers (once) that tasks need this resource requirement, so the ones that meet it listen on its queue. */
  async #announce(signature: string): Promise<void> {
    if (signature === '' || this.#announced.has(signature)) return;
    this.#announced.add(signature);
    const { redis, prefix } = this.#settings;
    const requirement: ControlMessage = { type: 'requirement', signature };
    await redis.multi().sadd(keys.requirements(prefix), signature).publish(keys.control(prefix), v8.serialize(requirement)).exec();
  }

  /**
   * The job data for a batch (job-payload.ts). If the batch cannot be cloned, the tasks whose
   * arguments cannot are failed with SerializationError naming the path, and the rest go.
   */
  #encode(tasks: PendingRun[]): string | undefined {
    const header = { channel: this.#settings.channel, crashes: 0, allowedFailures: this.#settings.allowedFailures };
    try {
      return encodeBatch(tasks, {
        encode: (list) => encodeJob(header, list),
        check: (t) => serialize(t.args, 'args'),
        culprit: (t, error) => void this.#pending.resolve(t.taskRunId, { state: 'Failed', error }),
      });
    } catch (error) {
      for (const t of tasks) this.#pending.resolve(t.taskRunId, { state: 'Failed', error: error as Error });
      return undefined;
    }
  }
}
