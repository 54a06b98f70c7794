/**
 * The program inside each worker thread of `ParallelTaskRunner({ scheduler: 'threads' })`.
 * Started by src/pool/thread-handle.ts with `workerData: WorkerBoot`.
 *
 * @module
 */
import { parentPort, workerData } from 'node:worker_threads';
import type { FromWorker, ToWorker, WorkerBoot, WorkerPort } from '../protocol/messages.ts';
import { bootWorker } from './boot.ts';

const parent = parentPort;
if (!parent) throw new Error('src/entry/thread is the program of a weft worker thread; it is not meant to be run directly.');

const port: WorkerPort = {
  post: (message: FromWorker, transfer?: readonly ArrayBuffer[]) => parent.postMessage(message, transfer),
  onMessage: (listener: (message: ToWorker) => void) => void parent.on('message', listener),
  exit: (code: number) => process.exit(code),
};

await bootWorker(port, (workerData as WorkerBoot).workerId);
