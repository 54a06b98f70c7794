/**
 * The BullMQ worker process of the raw-BullMQ baselines (bench/baselines/bullmq.ts). Started by
 * the producer with an IPC channel: `bullmq-worker.ts <redisUrl> <queueName> <concurrency>`.
 * It says `{ ready: true }` once its Worker is connected, closes on `{ close: true }`, and exits on
 * its own if the producer goes away (IPC disconnect), so it never outlives the benchmark.
 *
 * Jobs: `noop` returns null; `inc` returns `data.x + 1` (the dependency chain).
 */
import { Worker, type Job } from 'bullmq';

interface IncData {
  readonly x: number;
}

const [redisUrl, queueName, concurrencyText] = process.argv.slice(2);
if (!redisUrl || !queueName || !concurrencyText || typeof process.send !== 'function') {
  console.error('usage (as an IPC child): bullmq-worker.ts <redisUrl> <queueName> <concurrency>');
  process.exit(2);
}
const send = process.send.bind(process);

async function processor(job: Job<IncData | Record<string, never>, number | null>): Promise<number | null> {
  if (job.name === 'inc') return (job.data as IncData).x + 1;
  return null;
}

const worker = new Worker<IncData | Record<string, never>, number | null>(queueName, processor, {
  connection: { url: redisUrl },
  concurrency: Number(concurrencyText),
});
worker.on('error', (err) => console.error(`[bullmq baseline worker] ${err.message}`));

let closing = false;
async function shutdown(code: number): Promise<void> {
  if (closing) return;
  closing = true;
  const force = setTimeout(() => process.exit(code), 3000);
  force.unref();
  try {
    await worker.close();
  } finally {
    process.exit(code);
  }
}

process.on('message', (msg: unknown) => {
  if (typeof msg === 'object' && msg !== null && 'close' in msg) void shutdown(0);
});
process.on('disconnect', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));
process.on('SIGINT', () => void shutdown(0));

await worker.waitUntilReady();
send({ ready: true });
