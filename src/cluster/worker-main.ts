/**
 * The program of a cluster worker process: `weft worker` runs {@link runWorker} in the CLI's own
 * process; a LocalCluster starts this file as a child process, with its options in the
 * `WEFT_WORKER_OPTIONS` environment variable and an IPC channel (to notice that the process that
 * started it is gone, and to say why it could not start). It counts as ready once its heartbeat
 * is in the cluster's registry.
 *
 * @module
 */
import { markWeftWorker } from '../core/is-main.ts';
import { shutdownRedis } from './redis-server.ts';
import { ClusterWorker, type ClusterWorkerOptions } from './worker.ts';

/** What a worker process tells the LocalCluster that started it: why it could not start. */
export type WorkerProcessMessage = { readonly type: 'failed'; readonly message: string };

/** How long a stopping worker lets running tasks finish before it hands them back. */
export interface RunWorkerOptions {
  readonly graceMs: number;
  /** Called once the worker takes jobs (the CLI prints it). */
  readonly onReady?: (worker: ClusterWorker) => void;
  /**
   * A LocalCluster's workers: if the process that started them dies without closing the cluster
   * (SIGKILL), they shut its private Redis down as they go, so nothing of the cluster is left.
   */
  readonly ownsServer?: boolean;
  /**
   * `weft worker --death-timeout`: how long the cluster's Redis may be unreachable before the
   * worker gives up and exits 1. `undefined`: never (a LocalCluster's workers, whose parent watches).
   */
  readonly deathTimeoutMs?: number;
  /** Where the worker says what it is doing (stopping, waiting, lost the cluster). @default console.error */
  readonly say?: (message: string) => void;
}

/**
 * Runs a worker until SIGINT or SIGTERM (or, for a child process, until its parent goes), then
 * stops it cleanly. Resolves the exit code.
 */
export async function runWorker(options: ClusterWorkerOptions, run: RunWorkerOptions): Promise<number> {
  markWeftWorker();
  const worker = new ClusterWorker(options);
  try {
    await worker.start();
  } catch (error) {
    await worker.close(0).catch(() => undefined);
    throw error;
  }
  run.onReady?.(worker);
  const say = run.say ?? ((message: string) => console.error(message));
  return new Promise<number>((resolve) => {
    let stopping = false;
    const hurry = new AbortController();
    let watchdog: NodeJS.Timeout | undefined;
    const stop = (graceMs: number, code = 0) => {
      if (stopping) return;
      stopping = true;
      clearInterval(watchdog);
      // Stop promptly even if closing stalls (Redis gone): the exit is what callers wait for.
      const hard = setTimeout(() => resolve(code), graceMs + 2000);
      hard.unref();
      void worker.close(graceMs, hurry.signal).finally(() => {
        clearTimeout(hard);
        resolve(code);
      });
    };
    const interrupt = (signal: NodeJS.Signals) => {
      if (stopping) {
        if (hurry.signal.aborted) return;
        say(`weft worker ${worker.id}: ${signal} again: handing ${tasks(worker.runningTasks)} back now (they run elsewhere once their locks lapse).`);
        hurry.abort();
        return;
      }
      const running = worker.runningTasks;
      say(running === 0
        ? `weft worker ${worker.id}: stopping (no tasks running).`
        : `weft worker ${worker.id}: stopping: finishing ${tasks(running)} (up to ${run.graceMs / 1000} s, --grace-ms); Ctrl-C again hands them back now.`);
      stop(run.graceMs);
    };
    process.on('SIGTERM', interrupt);
    process.on('SIGINT', interrupt);
    // A child whose parent died (or closed the channel) must not linger, nor leave its private Redis.
    process.once('disconnect', () => {
      const r = worker.address.redis;
      if (run.ownsServer) worker.onClosed = () => shutdownRedis(r.host ?? '127.0.0.1', r.port ?? 6379, r.password).then(() => undefined);
      stop(0);
    });
    if (run.deathTimeoutMs !== undefined) watchdog = watchConnection(worker, run.deathTimeoutMs, say, () => stop(0, 1));
  });
}

function tasks(n: number): string {
  return `${n} running task${n === 1 ? '' : 's'}`;
}

/**
 * Dask's `--death-timeout`: a worker whose cluster went away says so, keeps trying for
 * `timeoutMs`, then gives up, instead of retrying forever.
 */
function watchConnection(worker: ClusterWorker, timeoutMs: number, say: (message: string) => void, giveUp: () => void): NodeJS.Timeout {
  let lostAt: number | undefined;
  const timer = setInterval(() => {
    if (worker.connected) {
      if (lostAt !== undefined) say(`weft worker ${worker.id}: reconnected to ${worker.address.display}.`);
      lostAt = undefined;
      return;
    }
    if (lostAt === undefined) {
      lostAt = Date.now();
      say(`weft worker ${worker.id}: lost the cluster at ${worker.address.display}; trying again for up to ${timeoutMs / 1000} s (--death-timeout).`);
    } else if (Date.now() - lostAt >= timeoutMs) {
      say(`weft worker ${worker.id}: the cluster at ${worker.address.display} has been unreachable for ${timeoutMs / 1000} s (--death-timeout); stopping.`);
      giveUp();
    }
  }, Math.min(1000, Math.max(100, timeoutMs / 10)));
  timer.unref();
  return timer;
}

if (process.env.WEFT_WORKER_OPTIONS && process.send && isEntry()) {
  const options = JSON.parse(process.env.WEFT_WORKER_OPTIONS) as ClusterWorkerOptions & { graceMs: number };
  const send = (message: WorkerProcessMessage) => process.send?.(message);
  // A parent gone while this worker boots (killed between spawning it and watching it, say): go now,
  // rather than start and take jobs for no one. Once it runs, runWorker's own handler takes over.
  const orphaned = () => process.exit(0);
  process.once('disconnect', orphaned);
  if (!process.connected) orphaned(); // gone while this module loaded
  try {
    // Quiet on signals: the LocalCluster that started it says what the cluster is doing.
    const onReady = () => void process.off('disconnect', orphaned);
    const code = await runWorker(options, { graceMs: options.graceMs, ownsServer: true, say: () => undefined, onReady });
    process.exit(code);
  } catch (error) {
    send({ type: 'failed', message: (error as Error).message });
    console.error(`weft worker: could not start: ${(error as Error).message}`);
    process.exit(1);
  }
}

function isEntry(): boolean {
  const entry = process.argv[1] ?? '';
  return /worker-main\.[cm]?[jt]s$/.test(entry);
}
