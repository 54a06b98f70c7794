import { markWeftWorker } from '../core/is-main.ts';
import type { WorkerPort } from '../protocol/messages.ts';
import { toWireError } from '../protocol/wire-error.ts';
import { runWorkerLoop } from './worker-loop.ts';

/**
 * Starts a worker program (thread or process) on its port: marks the realm as a weft worker before
 * any task module is imported (so `isMain()` is false and an unguarded flow is caught), then takes
 * jobs. The TypeScript loader comes with the first TypeScript task module (protocol/task-ref.ts). A worker that cannot start says why and exits.
 */
export async function bootWorker(port: WorkerPort, workerId: string): Promise<void> {
  markWeftWorker();
  process.on('uncaughtException', (error) => {
    // A throw outside any task's promise (a timer, an emitter): the worker's state is unknown, so
    // it goes; the pool charges the task that was running and starts a fresh worker.
    try {
      port.post({ type: 'fatal', error: toWireError(error) });
    } finally {
      port.exit(70);
    }
  });
  runWorkerLoop(port, workerId);
  port.post({ type: 'ready', pid: process.pid });
}
