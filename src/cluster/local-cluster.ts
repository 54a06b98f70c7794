import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import { InvalidOptionError, UsageError, WorkerStartError } from '../errors.ts';
import type { LifecycleState } from '../core/task-runner.ts';
import { loaderExecArgv } from '../loader/register.ts';
import { resolveResources, type Resources } from '../schedule/resources.ts';
import * as v from '../util/validate.ts';
import { projectRoot, type AdaptOptions, type Cluster } from './cluster.ts';
import { freePort, RedisServer } from './redis-server.ts';
import type { WorkerProcessMessage } from './worker-main.ts';
import type { ClusterWorkerOptions } from './worker.ts';
import { Scaler } from './scaler.ts';

/** Options of a {@link LocalCluster}, by Dask's LocalCluster names (`n_workers`, `threads_per_worker`). */
export interface LocalClusterOptions {
  /** Worker processes. Minimum 0. @default Dask's heuristic: the core count up to 4 cores, else about √cores */
  workers?: number;
  /** Tasks each worker runs at once. Minimum 1. @default cores / workers */
  threadsPerWorker?: number;
  /** What each worker declares, e.g. `{ GPU: 1 }`. @default {} */
  resources?: Resources;
  /** The Redis port; 0 picks a free loopback port. @default 0 */
  port?: number;
  /** Workers import task modules only under this directory. @default the nearest package.json's directory above the current one */
  root?: string;
  /**
   * Milliseconds before a dead worker's jobs run again elsewhere (their locks lapse). A task that
   * blocks its worker's event loop longer than this (synchronous CPU work) is taken for dead too,
   * and run again: raise it for such tasks. Minimum 500. @default 10000
   */
  lockMs?: number;
}

interface ResolvedLocalClusterOptions {
  readonly workers: number;
  readonly threadsPerWorker: number;
  readonly resources: Resources;
  readonly port: number;
  readonly root: string;
  readonly lockMs: number;
}

/** Dask's `nprocesses_nthreads`: up to 4 cores one single-threaded process each; above, about √n processes. */
function defaultSizes(cores: number): { workers: number; threads: number } {
  if (cores <= 4) return { workers: cores, threads: 1 };
  let workers = Math.ceil(Math.sqrt(cores));
  while (cores % workers !== 0) workers++;
  return { workers, threads: cores / workers };
}

function resolveLocalClusterOptions(raw: LocalClusterOptions | undefined): ResolvedLocalClusterOptions {
  const o = v.plainObject('clusterOptions', raw ?? {});
  v.knownKeys('clusterOptions', o, ['workers', 'threadsPerWorker', 'resources', 'port', 'root', 'lockMs']);
  const cores = availableParallelism();
  const sizes = defaultSizes(cores);
  const workers = o.workers === undefined ? sizes.workers : v.integer('workers', o.workers, 0);
  const threads = o.threadsPerWorker === undefined ? (o.workers === undefined ? sizes.threads : Math.max(1, Math.floor(cores / Math.max(1, workers)))) : v.integer('threadsPerWorker', o.threadsPerWorker, 1);
  const port = o.port === undefined ? 0 : v.integer('port', o.port, 0);
  if (port > 65535) throw new InvalidOptionError('port', 'an integer from 0 to 65535', port);
  return {
    workers, threadsPerWorker: threads, port,
    resources: resolveResources('resources', o.resources),
    root: o.root === undefined ? projectRoot() : v.string('root', o.root),
    lockMs: o.lockMs === undefined ? 10_000 : v.integer('lockMs', o.lockMs, 500),
  };
}

const WORKER_MAIN = fileURLToPath(new URL(`./worker-main${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

/**
 * A cluster on this machine: a private `redis-server` on a free loopback port (no persistence)
 * and `workers` worker processes, each running up to `threadsPerWorker` tasks at once. A worker
 * that dies is replaced, and its tasks run again (Dask's nanny).
 *
 * @example
 * const cluster = new LocalCluster({ workers: 2, threadsPerWorker: 4 });
 * await cluster.start();
 * const runner = new DistributedTaskRunner({ address: cluster.address });
 * // ...
 * await cluster.close();
 */
export class LocalCluster implements Cluster {
  readonly options: ResolvedLocalClusterOptions;
  readonly #redis = new RedisServer();
  readonly #children = new Map<number, ChildProcess>();
  #state: LifecycleState = 'idle';
  #nextIndex = 0;
  #scaler: Scaler | undefined;
  #stopping: Promise<void> | undefined;

  constructor(options?: LocalClusterOptions) {
    this.options = resolveLocalClusterOptions(options);
  }

  get state(): LifecycleState {
    return this.#state;
  }

  get address(): string {
    if (this.#state === 'idle' || this.#state === 'starting') throw new UsageError('LocalCluster.address was read before start() finished: await cluster.start() first.');
    return this.#redis.address;
  }

  /** The pids of the worker processes and the redis-server (for tests and tools that check nothing is left). */
  get pids(): { redis: number | undefined; workers: number[] } {
    return { redis: this.#redis.pid, workers: [...this.#children.values()].map((c) => c.pid as number) };
  }

  /** Worker processes running now. */
  get size(): number {
    return this.#children.size;
  }

  /** Starts Redis, then the workers in parallel; resolves when every worker takes jobs. */
  async start(): Promise<void> {
    if (this.#state !== 'idle') return;
    this.#state = 'starting';
    try {
      // Workers take far longer to load than Redis to start: start them together (workers retry connecting).
      const port = this.options.port || (await freePort());
      const redis = this.#redis.start({ port });
      await Promise.all([redis, ...Array.from({ length: this.options.workers }, () => this.#spawn())]);
      this.#state = 'running';
    } catch (error) {
      this.#state = 'failed';
      await this.kill();
      throw error;
    }
  }

  /** Sets the number of worker processes (adding or retiring; a retiring worker finishes its tasks first). */
  async scale(workers: number): Promise<void> {
    v.integer('workers', workers, 0);
    const adding = workers - this.#children.size;
    if (adding > 0) await Promise.all(Array.from({ length: adding }, () => this.#spawn()));
    else for (const child of [...this.#children.values()].slice(0, -adding)) this.#retire(child);
  }

  /** Adds workers while tasks wait and retires idle ones, between the bounds. */
  adapt(options: AdaptOptions, onScale?: (from: number, to: number) => void): void {
    this.#scaler?.stop();
    this.#scaler = new Scaler(this, options);
    this.#scaler.onScale = onScale;
    this.#scaler.start();
  }

  /** Stops the workers (letting running tasks finish for up to `graceMs`), then Redis. */
  close(graceMs = 2000): Promise<void> {
    return (this.#stopping ??= this.#stop('SIGTERM', graceMs));
  }

  /** Stops everything at once (SIGKILL): running tasks are abandoned. Escalates a close() in progress. */
  kill(): Promise<void> {
    if (this.#stopping) {
      for (const child of this.#children.values()) child.kill('SIGKILL');
      return this.#stopping;
    }
    return (this.#stopping = this.#stop('SIGKILL', 0));
  }

  async #stop(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    if (this.#state === 'closed' || this.#state === 'idle') {
      this.#state = 'closed';
      return;
    }
    this.#state = 'draining';
    this.#scaler?.stop();
    await Promise.all([...this.#children.values()].map((c) => this.#stopChild(c, signal, graceMs)));
    await this.#redis.stop(signal === 'SIGKILL' ? 0 : 1000);
    this.#state = 'closed';
  }

  /** @internal For the scaler: the options a worker process starts with. */
  get workerOptions(): ClusterWorkerOptions {
    return { address: `redis://127.0.0.1:${this.#redis.port}`, concurrency: this.options.threadsPerWorker, resources: this.options.resources, root: this.options.root, lockMs: this.options.lockMs };
  }

  #spawn(): Promise<void> {
    const index = ++this.#nextIndex;
    const options = { ...this.workerOptions, id: `local-${index}`, graceMs: 10_000 };
    // WEFT_WORKER_EXEC_ARGV adds node flags to worker processes (e.g. --cpu-prof to profile them).
    const extra = process.env.WEFT_WORKER_EXEC_ARGV?.split(' ').filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...extra, ...loaderExecArgv(), WORKER_MAIN], {
      env: { ...process.env, WEFT_WORKER_OPTIONS: JSON.stringify(options) },
      // Worker output goes to stderr: the flow's stdout stays the program's own (and parsable).
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    this.#children.set(index, child);
    return new Promise<void>((resolve, reject) => {
      let ready = false;
      child.on('message', (message: WorkerProcessMessage) => {
        if (message.type === 'ready') {
          ready = true;
          resolve();
        } else reject(new WorkerStartError(`local-${index}`, 1, message.message));
      });
      child.once('exit', (code, signal) => {
        this.#children.delete(index);
        if (!ready) return reject(new WorkerStartError(`local-${index}`, 1, `it exited before it was ready (${signal ?? `exit ${code}`})`));
        // The nanny: a worker that died while the cluster runs is replaced; its jobs run again once their locks lapse.
        // A clean exit (code 0) is a worker told to stop (Ctrl-C reaches the whole process group): not replaced.
        if (this.#state === 'running' && code !== 0 && !(child as ChildProcess & { retiring?: boolean }).retiring) {
          void this.#spawn().catch((error: unknown) => {
            if (this.#state === 'running') console.error(`weft: LocalCluster could not replace a dead worker: ${(error as Error).message}`);
          });
        }
      });
    });
  }

  #retire(child: ChildProcess): void {
    (child as ChildProcess & { retiring?: boolean }).retiring = true;
    child.kill('SIGTERM');
  }

  #stopChild(child: ChildProcess, signal: NodeJS.Signals, graceMs: number): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill(signal);
    });
  }
}
