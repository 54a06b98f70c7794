import { fork, type ChildProcess } from 'node:child_process';
import type { RunnerContext } from '../core/task-runner.ts';
import { entryExecArgv } from '../loader/register.ts';
import type { FromWorker, ToWorker } from '../protocol/messages.ts';
import { stopProcess } from '../util/process.ts';
import { siblingPath } from '../util/sibling.ts';
import { RemoteHandle, type WorkerLink } from './remote-handle.ts';

/** Options of the child processes of a pool. */
export interface ProcessWorkerOptions {
  /** Old-generation heap limit of each process, MB (`--max-old-space-size`); `undefined` for Node's default. */
  readonly maxHeapMb: number | undefined;
}

const entry = siblingPath(import.meta.url, '../entry/process');

/**
 * Forks a child process running src/entry/process, with v8
 * ('advanced') serialization, so arguments and results cross by structured clone as on threads.
 * Resolves its handle once it is ready.
 */
export function startProcess(id: string, context: RunnerContext, options: ProcessWorkerOptions): Promise<RemoteHandle> {
  // Not the parent's execArgv: a child loads tsx itself, and only if a TypeScript task module comes.
  const execArgv = entryExecArgv(entry);
  if (options.maxHeapMb !== undefined) execArgv.push(`--max-old-space-size=${options.maxHeapMb}`);
  let child: ChildProcess;
  try {
    child = fork(entry, [], {
      execArgv,
      serialization: 'advanced',
      env: { ...process.env, WEFT_WORKER_ID: id },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
  } catch (error) {
    return Promise.reject(error);
  }
  return RemoteHandle.start(id, processLink(child), context);
}

function processLink(child: ChildProcess): WorkerLink {
  let exited = false;
  const gone = new Promise<void>((resolve) => child.once('exit', () => {
    exited = true;
    resolve();
  }));
  // An IPC write to a process that just died fails asynchronously; the 'exit' event tells the story.
  child.on('error', () => undefined);
  const kill = async () => {
    if (!exited) child.kill('SIGKILL');
    await gone;
  };
  return {
    send: (message: ToWorker) => {
      if (child.connected) child.send(message);
    },
    onMessage: (listener) => void child.on('message', listener as (m: FromWorker) => void),
    onExit: (listener) =>
      void child.once('exit', (code, signal) => {
        if (signal === 'SIGABRT' || signal === 'SIGTRAP' || code === 134) listener('ran out of memory or aborted (its heap limit, maxHeapMb, may have been reached)');
        else listener(signal ? `was killed by ${signal}` : `exited with code ${code}`);
      }),
    kill,
    close: (graceMs) =>
      stopProcess(child, graceMs, {
        exited: gone,
        ask: () => {
          if (child.connected) child.send({ type: 'close' } satisfies ToWorker);
        },
      }),
  };
}
