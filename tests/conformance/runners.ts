/**
 * The runners the conformance suite runs on. Every case in `tests/conformance/*.test.ts` loops over
 * this list, so a new runner (threads, processes, a cluster) joins the whole suite by adding one
 * entry here.
 *
 * Cases take their tasks from `tests/fixtures/core/*.ts` (top-level tasks, findable by module and
 * name) and observe them only through futures, run records, events and files, never through memory
 * shared with the test, so they hold for runners whose tasks run in other threads, processes or
 * machines.
 */
import { spawnSync } from 'node:child_process';
import { after, before } from 'node:test';
import { DistributedTaskRunner, ParallelTaskRunner, SequentialTaskRunner, type Resources, type RunnerContext, type TaskRunner } from '../../src/index.ts';
import { startBackgroundRedis, startWorker, type CliProcess } from '../helpers/redis.ts';
import { clusterUnsupported, startRedisCluster } from '../helpers/redis-cluster.ts';

/** Options a case may ask of a runner; `make` must honour them where the runner has such a thing. */
export interface RunnerOptions {
  /** Tasks in flight at once (a runner with a fixed number, such as sequential, ignores it). */
  workers?: number;
  /** What the runner's workers have in all, e.g. `{ process: 1 }`. */
  resources?: Resources;
}

export interface RunnerCase {
  readonly name: string;
  /** A fresh runner; without options, the runner's usual configuration for the suite. */
  readonly make: (options?: RunnerOptions) => TaskRunner;
  /**
   * Set for runners whose cancel stops tasks by force (a temporary cluster's workers go), so a
   * task's own abort handler may never run there.
   */
  readonly cancelKillsTasks?: boolean;
  /**
   * Why this runner does not promise that tasks submitted in one turn start by priority when a
   * worker is idle (a cluster queues one turn's tasks together, in batches): the case is skipped,
   * saying so, rather than left out silently.
   */
  readonly noPriorityWithinTurn?: string;
  /**
   * Why this runner cannot know what its workers have (a shared cluster, whose workers come and
   * go): a task needing more than any worker has waits, with a warning, instead of failing at submit.
   */
  readonly noCapacityCheck?: string;
  /**
   * Why this runner's workers are not the flow run's own (a shared cluster's join when they come
   * and stay after the run), so the run does not see each join before its tasks, nor each leave.
   */
  readonly sharedWorkers?: string;
  /** Starts what the runner needs once per test file (before its tests), and stops it after them. */
  readonly start?: () => Promise<void>;
  readonly stop?: () => Promise<void>;
}

/** The Redis of a shared cluster, started once per test file: one server, or a Redis Cluster. */
interface SharedRedis {
  readonly address: string;
  stop(): Promise<void>;
}

/**
 * An existing cluster reached by `address`, as users share one: a Redis the test file starts and
 * `weft worker` processes joined to it. Each configuration a case asks for (slots, resources) gets
 * its own key prefix on that Redis and its own worker, started when a case first asks for it; the
 * case's runner starts once that worker has joined. They run in the background until the file's `after`.
 */
class SharedCluster {
  #redis: SharedRedis | undefined;
  readonly #workers = new Map<string, Promise<CliProcess>>();

  constructor(readonly startRedis: () => Promise<SharedRedis>) {}

  async start(): Promise<void> {
    this.#redis = await this.startRedis();
    // The usual configuration's worker joins before the first case: its 20 s bound is for the case.
    await this.#workers.get(this.#worker(4, {}));
  }

  async stop(): Promise<void> {
    try {
      const workers = await Promise.allSettled(this.#workers.values());
      await Promise.allSettled(workers.map((w) => (w.status === 'fulfilled' ? w.value.stop() : undefined)));
    } finally {
      await this.#redis?.stop();
    }
  }

  /**
   * A runner on the configuration's prefix. Its start waits until the configuration's worker has
   * joined (started at the first case that asks for it): a flow run would wait for it anyway, its
   * tasks queued, but the worker's start is the file's set-up, not the case's behaviour.
   */
  runner(o: RunnerOptions | undefined): TaskRunner {
    const prefix = this.#worker(o?.workers ?? 4, o?.resources ?? {});
    return new SharedClusterRunner(`${(this.#redis as SharedRedis).address}?prefix=${prefix}`, this.#workers.get(prefix) as Promise<CliProcess>);
  }

  #worker(slots: number, resources: Resources): string {
    const declared = Object.entries(resources).map(([name, n]) => `${name}=${n}`).sort().join(',');
    const prefix = `conformance-${slots}${declared === '' ? '' : `-${declared.replace(/[=,]/g, '-')}`}`;
    if (!this.#workers.has(prefix)) {
      const address = `${(this.#redis as SharedRedis).address}?prefix=${prefix}`;
      const flags = ['--concurrency', String(slots), ...(declared === '' ? [] : ['--resources', declared])];
      const worker = startWorker(address, flags, { background: true });
      worker.catch(() => undefined);
      this.#workers.set(prefix, worker);
    }
    return prefix;
  }
}

/** A runner on a shared cluster whose start waits for the worker of its configuration to join. */
class SharedClusterRunner extends DistributedTaskRunner {
  constructor(address: string, readonly joined: Promise<CliProcess>) {
    super({ address });
  }

  override async start(context: RunnerContext): Promise<void> {
    await this.joined;
    await super.start(context);
  }
}

export const RUNNERS: RunnerCase[] = [
  { name: 'sequential', make: (o) => new SequentialTaskRunner({ resources: o?.resources }) },
  {
    name: 'async',
    make: (o) => new ParallelTaskRunner({ scheduler: 'async', workers: o?.workers ?? 4, resources: o?.resources }),
  },
  {
    name: 'threads',
    make: (o) => new ParallelTaskRunner({ scheduler: 'threads', workers: o?.workers ?? 4, resources: o?.resources }),
    cancelKillsTasks: true,
  },
  {
    name: 'processes',
    make: (o) => new ParallelTaskRunner({ scheduler: 'processes', workers: o?.workers ?? 4, resources: o?.resources }),
    cancelKillsTasks: true,
  },
];

// A temporary cluster (a private redis-server and one worker process), where redis-server exists;
// scripts/test.mjs fails CI when it does not.
if (spawnSync(process.env.WEFT_REDIS_SERVER ?? 'redis-server', ['--version']).status === 0) {
  RUNNERS.push({
    name: 'cluster',
    make: (o) => new DistributedTaskRunner({ clusterOptions: { workers: 1, threadsPerWorker: o?.workers ?? 4, resources: o?.resources } }),
    cancelKillsTasks: true,
    noPriorityWithinTurn: 'a cluster queues the tasks submitted in one turn together, so the first of them does not take the idle worker ahead of the rest',
  });
  const sharedRunner = (name: string, shared: SharedCluster): RunnerCase => ({
    name,
    make: (o) => shared.runner(o),
    noPriorityWithinTurn: 'a cluster queues the tasks submitted in one turn together, so the first of them does not take the idle worker ahead of the rest',
    sharedWorkers: 'a shared cluster\'s workers stay after the run, and one may join while the run waits for it',
    noCapacityCheck: 'a shared cluster\'s workers come and go, so a task needing more than those joined now waits (with a warning) for one that has it',
    start: () => shared.start(),
    stop: () => shared.stop(),
  });
  RUNNERS.push(sharedRunner('cluster-address', new SharedCluster(startBackgroundRedis)));
  // The same on a 3-master Redis Cluster (`redis+cluster://`), one per test file, where this
  // redis-server can run one.
  const unsupported = clusterUnsupported();
  if (unsupported === undefined) RUNNERS.push(sharedRunner('redis-cluster', new SharedCluster(() => startRedisCluster({ background: true }))));
  else console.warn(`conformance: ${unsupported}, so the redis-cluster runner is left out`);
} else {
  console.warn('conformance: no redis-server, so the cluster runner is left out (sudo apt-get install -y redis-server)');
}

// WEFT_RUNNERS=sequential,async runs the suite on those runners only (e.g. while working on one).
const only = (process.env.WEFT_RUNNERS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
if (only.length > 0) {
  const unknown = only.filter((name) => !RUNNERS.some((r) => r.name === name));
  if (unknown.length > 0) throw new Error(`WEFT_RUNNERS names unknown runners: ${unknown.join(', ')} (known: ${RUNNERS.map((r) => r.name).join(', ')})`);
  RUNNERS.splice(0, RUNNERS.length, ...RUNNERS.filter((r) => only.includes(r.name)));
}

// Runners with something to start (a shared cluster) start it once per test file, before its tests.
for (const r of RUNNERS) {
  if (r.start) before(r.start);
  if (r.stop) after(r.stop);
}
