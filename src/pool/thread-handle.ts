import type { Worker } from 'node:worker_threads';
import type { RunnerContext } from '../core/task-runner.ts';
import type { FromWorker, WorkerBoot } from '../protocol/messages.ts';
import { entryThread } from '../util/entry-thread.ts';
import { RemoteHandle, type WorkerLink } from './remote-handle.ts';

/** Options of the worker threads of a pool. */
export interface ThreadWorkerOptions {
  /** Old-generation heap limit of each thread, MB; `undefined` for Node's default. */
  readonly maxHeapMb: number | undefined;
}

/**
 * Starts a worker thread running src/entry/thread and resolves its handle once it is ready.
 */
export function startThread(id: string, context: RunnerContext, options: ThreadWorkerOptions): Promise<RemoteHandle> {
  const workerData: WorkerBoot = { workerId: id };
  const resourceLimits = options.maxHeapMb === undefined ? undefined : { maxOldGenerationSizeMb: options.maxHeapMb };
  const common = { workerData, resourceLimits, stdout: false, stderr: false };
  let worker: Worker;
  try {
    worker = entryThread(import.meta.url, '../entry/thread', common);
  } catch (error) {
    return Promise.reject(error);
  }
  return RemoteHandle.start(id, threadLink(worker), context);
}

function threadLink(worker: Worker): WorkerLink {
  let error: Error | undefined;
  worker.on('error', (e) => (error = e));
  const gone = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  return {
    send: (message, transfer) => worker.postMessage(message, transfer),
    onMessage: (listener) => void worker.on('message', listener as (m: FromWorker) => void),
    onExit: (listener) =>
      void worker.once('exit', (code) => {
        const oom = (error as { code?: string } | undefined)?.code === 'ERR_WORKER_OUT_OF_MEMORY';
        listener(oom ? 'ran out of memory (its heap limit, maxHeapMb, was reached)' : error ? `died of an uncaught error (${error.name}: ${error.message})` : `exited with code ${code}`);
      }),
    kill: async () => {
      await worker.terminate();
      await gone;
    },
    close: async () => {
      // Threads hold no resources a clean exit would free; terminate is immediate and certain.
      await worker.terminate();
      await gone;
    },
  };
}
