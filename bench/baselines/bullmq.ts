/**
 * Raw BullMQ baselines for weft's cluster benchmark (issue 4, "Benchmarks"): the same jobs weft
 * runs on its 2-worker LocalCluster, done by BullMQ alone on the same Redis, in the same run.
 *
 * - `bullmqNoop`: n no-op jobs through one Worker (given concurrency) in a child process.
 * - `bullmqChain`: n dependent jobs, each added only after the producer has seen the previous
 *   one complete (one full round trip per hop).
 *
 * Each call uses its own queue (`weft-baseline-<uuid>`), so it can share a Redis with weft, and
 * obliterates it afterwards. The Worker always runs in a separate process (as weft's workers do),
 * so producer and worker never share an event loop. Worker start-up is not timed: the clock
 * starts at the first add, once the worker has said it is ready.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Queue, QueueEvents } from 'bullmq';

/** Jobs per `addBulk` call. One addBulk is one MULTI (10,000 jobs take ~0.7 s), and the worker
 * takes no job from it until it has run, so chunks let the worker start while the producer still
 * adds. On this machine chunks of 500, 2,000 and 10,000 were within noise of each other. */
const ADD_CHUNK = 1000;
/** How often the producer polls the completed count in `bullmqNoop`. */
const POLL_MS = 2;

const WORKER_SCRIPT = fileURLToPath(new URL('./bullmq-worker.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

const spawned: number[] = [];

/** Process ids of every BullMQ worker child these baselines have started (for leak checks). */
export function baselineWorkerPids(): readonly number[] {
  return [...spawned];
}

interface WorkerChild {
  readonly pid: number;
  /** Rejects if the worker process exits before `close()` is called; never resolves otherwise. */
  readonly died: Promise<never>;
  /** The reason the worker died, once it has; undefined while it runs. */
  death(): Error | undefined;
  close(): Promise<void>;
}

async function startWorker(redisUrl: string, queueName: string, concurrency: number): Promise<WorkerChild> {
  const child: ChildProcess = fork(WORKER_SCRIPT, [redisUrl, queueName, String(concurrency)], {
    execArgv: ['--import', TSX],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  if (child.pid === undefined) throw new Error('could not start the BullMQ baseline worker process');
  const pid = child.pid;
  spawned.push(pid);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  let closing = false;
  let deathError: Error | undefined;
  const died = new Promise<never>((_, reject) => {
    child.once('exit', (code, signal) => {
      if (closing) return;
      deathError = new Error(`BullMQ baseline worker exited mid-run (code ${code}, signal ${signal})`);
      reject(deathError);
    });
  });
  died.catch(() => undefined);
  const close = async (): Promise<void> => {
    closing = true;
    if (child.exitCode === null && child.signalCode === null) {
      if (child.connected) child.send({ close: true });
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    }
  };
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('BullMQ baseline worker not ready after 30 s')), 30_000);
      child.on('message', (msg: unknown) => {
        if (typeof msg === 'object' && msg !== null && 'ready' in msg) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`BullMQ baseline worker exited before ready (code ${code}, signal ${signal})`));
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  } catch (err) {
    await close();
    throw err;
  }
  return { pid, died, death: () => deathError, close };
}

async function cleanup(queue: Queue, worker: WorkerChild | undefined, events?: QueueEvents): Promise<void> {
  try {
    await worker?.close();
  } finally {
    try {
      await events?.close();
      await queue.obliterate({ force: true });
    } finally {
      await queue.close();
    }
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * n no-op jobs, added with `addBulk` in chunks of 1,000, run by one Worker of the given
 * concurrency in a child process. Timed from the first add until the producer has seen all n
 * completions.
 *
 * Completion signal: the producer polls `getJobCounts('completed', 'failed')` (a ZCARD each) every
 * 2 ms. It costs Redis next to nothing, cannot lose completions, and ends at most 2 ms late. The
 * alternative, QueueEvents, reads ~3 stream events per job (added, active, completed), which the
 * producer must parse while it is still adding, and the events stream is trimmed to ~10,000
 * entries by default, so a consumer that falls behind loses completions. Measured on this
 * machine (6 interleaved rounds each) the two were within noise of each other; polling is the one
 * that cannot hang.
 */
export async function bullmqNoop(redisUrl: string, n: number, concurrency: number): Promise<{ tasksPerSec: number; seconds: number }> {
  const queueName = `weft-baseline-${randomUUID()}`;
  const queue = new Queue(queueName, { connection: { url: redisUrl } });
  let worker: WorkerChild | undefined;
  try {
    await queue.waitUntilReady();
    worker = await startWorker(redisUrl, queueName, concurrency);

    const t0 = performance.now();
    let addError: unknown;
    const adding = (async () => {
      for (let start = 0; start < n; start += ADD_CHUNK) {
        const count = Math.min(ADD_CHUNK, n - start);
        await queue.addBulk(Array.from({ length: count }, () => ({ name: 'noop', data: {} })));
      }
    })().catch((err: unknown) => {
      addError = err;
    });
    for (;;) {
      if (addError !== undefined) throw addError;
      const death = worker.death();
      if (death) throw death;
      const counts = await queue.getJobCounts('completed', 'failed');
      const failed = counts.failed ?? 0;
      if (failed > 0) throw new Error(`${failed} BullMQ baseline job(s) failed`);
      if ((counts.completed ?? 0) >= n) break;
      await sleep(POLL_MS);
    }
    const seconds = (performance.now() - t0) / 1000;
    await adding;
    return { tasksPerSec: n / seconds, seconds };
  } finally {
    await cleanup(queue, worker);
  }
}

/**
 * A chain of n dependent jobs: job i+1 (`inc`, data `{ x }`) is added only after the producer has
 * seen job i complete, and carries job i's return value, so every hop is a full round trip
 * (add -> worker -> completed seen by the producer). Worker (concurrency 1) in a child process.
 *
 * Completion signal: QueueEvents, whose blocking XREAD on the events stream wakes the producer as
 * soon as the worker writes the completion, with no polling delay. It reads from the stream's
 * start (`lastEventId: '0-0'`; the queue is new), so no completion can slip past before the first
 * XREAD, and only one job is in flight, so the stream is never trimmed under it.
 */
export async function bullmqChain(redisUrl: string, n: number): Promise<{ msPerHop: number; seconds: number }> {
  const queueName = `weft-baseline-${randomUUID()}`;
  const queue = new Queue(queueName, { connection: { url: redisUrl } });
  const events = new QueueEvents(queueName, { connection: { url: redisUrl }, lastEventId: '0-0' });
  let worker: WorkerChild | undefined;
  try {
    await Promise.all([queue.waitUntilReady(), events.waitUntilReady()]);
    worker = await startWorker(redisUrl, queueName, 1);

    const waiting = new Map<string, { resolve: (value: number) => void; reject: (err: Error) => void }>();
    events.on('completed', ({ jobId, returnvalue }) => {
      waiting.get(jobId)?.resolve(Number(returnvalue));
      waiting.delete(jobId);
    });
    events.on('failed', ({ jobId, failedReason }) => {
      waiting.get(jobId)?.reject(new Error(`BullMQ baseline job ${jobId} failed: ${failedReason}`));
      waiting.delete(jobId);
    });

    const t0 = performance.now();
    let x = 0;
    for (let i = 0; i < n; i++) {
      const jobId = `c${i}`;
      const done = new Promise<number>((resolve, reject) => waiting.set(jobId, { resolve, reject }));
      await queue.add('inc', { x }, { jobId });
      x = await Promise.race([done, worker.died]);
    }
    const seconds = (performance.now() - t0) / 1000;
    if (x !== n) throw new Error(`BullMQ chain ended at ${x}, expected ${n}`);
    return { msPerHop: (seconds * 1000) / n, seconds };
  } finally {
    await cleanup(queue, worker, events);
  }
}

