/**
 * The program inside each child process of `ParallelTaskRunner({ scheduler: 'processes' })`.
 * Started by src/pool/process-handle.ts through `fork()` with v8 ('advanced') serialization, so
 * arguments and results cross by structured clone; the worker id comes in `WEFT_WORKER_ID`.
 *
 * @module
 */
import type { FromWorker, ToWorker, WorkerPort } from '../protocol/messages.ts';
import { bootWorker } from './boot.ts';

const send = process.send?.bind(process);
if (!send) throw new Error('src/entry/process is the program of a weft worker process; it is not meant to be run directly.');

const port: WorkerPort = {
  post: (message: FromWorker) => void send(message),
  onMessage: (listener: (message: ToWorker) => void) => void process.on('message', listener as (message: unknown) => void),
  exit: (code: number) => process.exit(code),
};
// The pool's end of the channel is gone (the flow's process died): nothing more to do here.
process.on('disconnect', () => process.exit(0));

await bootWorker(port, process.env.WEFT_WORKER_ID ?? `process-${process.pid}`);
