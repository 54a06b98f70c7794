/**
 * The program of a cluster worker process: `weft worker` runs {@link runWorker} in the CLI's own
 * process; a LocalCluster starts this file as a child process, with its options in the
 * `WEFT_WORKER_OPTIONS` environment variable and an IPC channel to report readiness on.
 *
 * @module
 */
import { connect as connectSocket } from 'node:net';
import { markWeftWorker } from '../core/is-main.ts';
import { ClusterWorker, type ClusterWorkerOptions } from './worker.ts';

/** What a worker process tells the LocalCluster that started it. */
export type WorkerProcessMessage = { readonly type: 'ready'; readonly id: string } | { readonly type: 'failed'; readonly message: string };

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
  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (graceMs: number) => {
      if (stopping) return;
      stopping = true;
      // Stop promptly even if closing stalls (Redis gone): the exit is what callers wait for.
      const hard = setTimeout(() => resolve(0), graceMs + 2000);
      hard.unref();
      void worker.close(graceMs).finally(() => {
        clearTimeout(hard);
        resolve(0);
      });
    };
    process.once('SIGTERM', () => stop(run.graceMs));
    process.once('SIGINT', () => stop(run.graceMs));
    // A child whose parent died (or closed the channel) must not linger, nor leave its private Redis.
    process.once('disconnect', () => {
      if (run.ownsServer) worker.onClosed = () => shutdownServer(worker.address.redis.host ?? '127.0.0.1', worker.address.redis.port ?? 6379);
      stop(0);
    });
  });
}

if (process.env.WEFT_WORKER_OPTIONS && process.send && isEntry()) {
  const options = JSON.parse(process.env.WEFT_WORKER_OPTIONS) as ClusterWorkerOptions & { graceMs: number };
  const send = (message: WorkerProcessMessage) => process.send?.(message);
  try {
    const code = await runWorker(options, { graceMs: options.graceMs, ownsServer: true, onReady: (w) => send({ type: 'ready', id: w.id }) });
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

/** Sends SHUTDOWN NOSAVE to a Redis (raw socket: the worker's own connections are closed by now). */
function shutdownServer(host: string, port: number): Promise<void> {
  return new Promise((resolve) => {
    const socket = connectSocket(port, host);
    const done = () => {
      socket.destroy();
      resolve();
    };
    socket.setTimeout(500, done);
    socket.once('error', done);
    socket.once('close', done);
    socket.once('connect', () => socket.write('SHUTDOWN NOSAVE\r\n'));
  });
}
