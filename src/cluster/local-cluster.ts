import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { InvalidOptionError } from '../errors.ts';
import { entryExecArgv } from '../loader/register.ts';
import { resolveResources, type Resources } from '../schedule/resources.ts';
import { stopProcess } from '../util/process.ts';
import { killWithParent } from '../util/watchdog.ts';
import { siblingPath } from '../util/sibling.ts';
import * as v from '../util/validate.ts';
import { projectRoot } from './cluster.ts';
import { SpecCluster, type WorkerExit, type WorkerLauncher, type WorkerProcess } from './spec-cluster.ts';
import type { WorkerProcessMessage } from './worker-main.ts';
import type { ClusterWorkerOptions } from './worker.ts';
import type { Dashboard } from '../dashboard/dashboard.ts';
import { checkBinding, resolveDashboardOption, type DashboardOption, type DashboardServerOptions } from '../dashboard/options.ts';

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
  /**
   * The address Redis listens on besides loopback, to offer the cluster to workers on other hosts:
   * one of this machine's addresses, or `0.0.0.0` for every one. Beyond loopback a `password` is
   * required. @default '127.0.0.1'
   */
  host?: string;
  /** A password Redis requires (`requirepass`); the cluster's address carries it. @default none */
  password?: string;
  /** Workers import task modules only under this directory. @default the nearest package.json's directory above the current one */
  root?: string;
  /**
   * Milliseconds before a dead worker's jobs run again elsewhere (their locks lapse). A task that
   * blocks its worker's event loop longer than this (synchronous CPU work) is taken for dead too,
   * and run again: raise it for such tasks. Minimum 500. @default 10000
   */
  lockMs?: number;
  /**
   * Serves the cluster's live dashboard while it runs: `true` on 127.0.0.1 and a free port, or
   * `{ port, host, token }` (a host beyond loopback needs a token). Its address is `dashboardUrl`;
   * a temporary cluster (DistributedTaskRunner) logs it. @default false
   */
  dashboard?: DashboardOption;
}

interface ResolvedLocalClusterOptions {
  readonly workers: number;
  readonly threadsPerWorker: number;
  readonly resources: Resources;
  readonly port: number;
  readonly host: string | undefined;
  readonly password: string | undefined;
  readonly root: string;
  readonly lockMs: number;
  readonly dashboard: DashboardServerOptions | undefined;
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
  v.knownKeys('clusterOptions', o, ['workers', 'threadsPerWorker', 'resources', 'port', 'host', 'password', 'root', 'lockMs', 'dashboard']);
  const cores = availableParallelism();
  const sizes = defaultSizes(cores);
  const workers = o.workers === undefined ? sizes.workers : v.integer('workers', o.workers, 0);
  const threads = o.threadsPerWorker === undefined ? (o.workers === undefined ? sizes.threads : Math.max(1, Math.floor(cores / Math.max(1, workers)))) : v.integer('threadsPerWorker', o.threadsPerWorker, 1);
  const port = o.port === undefined ? 0 : v.integer('port', o.port, 0);
  if (port > 65535) throw new InvalidOptionError('port', 'an integer from 0 to 65535', port);
  const host = o.host === undefined ? undefined : v.string('host', o.host);
  const password = o.password === undefined ? undefined : v.string('password', o.password);
  if (host !== undefined && !isLoopback(host) && (password === undefined || password === '')) {
    throw new InvalidOptionError('password', `a password when host is '${host}' (--password, or clusterOptions.password): beyond loopback, anyone who reaches ` +
      "the port could run the project's tasks on your workers and read their data; or keep host at '127.0.0.1'", password);
  }
  return {
    workers, threadsPerWorker: threads, port, host, password,
    resources: resolveResources('resources', o.resources),
    root: o.root === undefined ? projectRoot() : v.string('root', o.root),
    lockMs: o.lockMs === undefined ? 10_000 : v.integer('lockMs', o.lockMs, 500),
    dashboard: resolveDashboardOption('clusterOptions.dashboard', o.dashboard),
  };
}

/** Whether an address is this machine's loopback (where only its own processes reach Redis). */
function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}

// By way of '../cluster': the same file from dist's chunks (one level below dist/, see scripts/bundle.mjs).
const WORKER_MAIN = siblingPath(import.meta.url, '../cluster/worker-main');

/** How long a worker process lets its running tasks finish when it is told to stop. */
const WORKER_GRACE_MS = 10_000;

/**
 * Launches cluster workers as node processes on this machine (`worker-main`), with the flow's
 * TypeScript loader. Worker output goes to stderr: the flow's stdout stays the program's own (and
 * parsable). A worker never outlives the process that started it: the process's watchdog kills it
 * (util/watchdog.ts), and the IPC channel lets it notice a parent gone by itself (and take the
 * cluster's private Redis down with it), and say why it could not start.
 */
export class NodeLauncher implements WorkerLauncher {
  constructor(readonly options: Omit<ClusterWorkerOptions, 'address' | 'id'>) {}

  launch(id: string, address: string): WorkerProcess {
    const options = { ...this.options, address, id, graceMs: WORKER_GRACE_MS };
    // WEFT_WORKER_EXEC_ARGV adds node flags to worker processes (e.g. --cpu-prof to profile them).
    const extra = process.env.WEFT_WORKER_EXEC_ARGV?.split(' ').filter(Boolean) ?? [];
    const child = spawn(process.execPath, [...extra, ...entryExecArgv(WORKER_MAIN), WORKER_MAIN], {
      env: { ...process.env, WEFT_WORKER_OPTIONS: JSON.stringify(options) },
      stdio: ['ignore', 2, 2, 'ipc'],
    });
    // SIGKILLed should this process die (at any moment, booting or not): see util/watchdog.ts.
    killWithParent(child);
    let failure: string | undefined;
    child.on('message', (message: WorkerProcessMessage) => {
      if (message.type === 'failed') failure = message.message;
    });
    child.on('error', () => undefined);
    const exited = new Promise<WorkerExit>((resolve) => {
      child.once('exit', (code, signal) => {
        const how = signal ? `killed by ${signal}` : `exit ${code}`;
        resolve({ clean: code === 0, reason: failure === undefined ? how : `${how}: ${failure}` });
      });
    });
    return { exited, pid: child.pid, stop: (graceMs) => stopProcess(child, graceMs, { exited }) };
  }
}

/**
 * A cluster on this machine: a private `redis-server` on a free loopback port (no persistence)
 * and `workers` worker processes, each running up to `threadsPerWorker` tasks at once. A worker
 * that dies is replaced, and its tasks run again (Dask's nanny). A {@link SpecCluster} with a
 * {@link NodeLauncher}.
 *
 * @example
 * const cluster = new LocalCluster({ workers: 2, threadsPerWorker: 4 });
 * await cluster.start();
 * const runner = new DistributedTaskRunner({ address: cluster.address });
 * // ...
 * await cluster.close();
 */
export class LocalCluster extends SpecCluster {
  readonly options: ResolvedLocalClusterOptions;
  #dashboard: Dashboard | undefined;

  constructor(options?: LocalClusterOptions) {
    const o = resolveLocalClusterOptions(options);
    super({
      launcher: new NodeLauncher({ concurrency: o.threadsPerWorker, resources: o.resources, root: o.root, lockMs: o.lockMs }),
      workers: o.workers, slotsPerWorker: o.threadsPerWorker, resources: o.resources, name: 'local',
      redis: { port: o.port, bind: o.host, password: o.password },
    });
    this.options = o;
    if (o.dashboard) checkBinding(o.dashboard.host ?? '127.0.0.1', o.dashboard.token);
  }

  /** The live dashboard's URL, when the `dashboard` option asked for one (after start()). */
  get dashboardUrl(): string | undefined {
    return this.#dashboard?.url;
  }

  override async start(): Promise<void> {
    await super.start();
    if (this.options.dashboard && !this.#dashboard) {
      const { clusterDashboard } = await import('../dashboard/dashboard.ts');
      try {
        this.#dashboard = await clusterDashboard(this.address, this.options.dashboard);
      } catch (error) {
        await this.kill();
        throw error;
      }
    }
  }

  override async close(graceMs?: number): Promise<void> {
    await this.#closeDashboard();
    return super.close(graceMs);
  }

  override async kill(): Promise<void> {
    await this.#closeDashboard();
    return super.kill();
  }

  async #closeDashboard(): Promise<void> {
    const dashboard = this.#dashboard;
    this.#dashboard = undefined;
    await dashboard?.close().catch(() => undefined);
  }
}
