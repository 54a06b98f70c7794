/**
 * Per-task overhead of weft's engine over a bare function call, measured in one run (issue 13):
 * - a no-op task called inline inside a flow, and submitted to SequentialTaskRunner, against
 *   awaiting the bare async function (targets: at most 3 µs and 5 µs over the bare call);
 * - 20,000 no-op tasks through ParallelTaskRunner('async'), 50 in flight, against Promise.all over
 *   the bare async function, and against p-limit and p-queue (what a user who only wants bounded
 *   concurrency would pick) on the same function, 50 in flight (target: at least 250,000 tasks/s
 *   and ahead of both).
 */
import pLimit from 'p-limit';
import PQueue from 'p-queue';
import { flow, ParallelTaskRunner, SequentialTaskRunner } from '../../src/index.ts';
import { noop, submitAll } from '../lib/noop.ts';
import { figure, report, timeMs, type Figure } from '../lib/harness.ts';

process.env.WEFT_TASK_LOGS = 'off';
const N = 20_000;

async function bare(x: number): Promise<number> {
  return x;
}

const inlineFlow = flow(async function inlineCalls(n: number) {
  let s = 0;
  for (let i = 0; i < n; i++) s += await noop(i);
  return s;
});

const submitFlow = submitAll;

async function bareSequential(n: number): Promise<number> {
  let s = 0;
  for (let i = 0; i < n; i++) s += await bare(i);
  return s;
}

async function bareAll(n: number): Promise<number> {
  const all = await Promise.all(Array.from({ length: n }, (_, i) => bare(i)));
  return all.length;
}

const IN_FLIGHT = 50;
async function withPLimit(n: number): Promise<number> {
  const limit = pLimit(IN_FLIGHT);
  const all = await Promise.all(Array.from({ length: n }, (_, i) => limit(bare, i)));
  return all.length;
}

async function withPQueue(n: number): Promise<number> {
  const queue = new PQueue({ concurrency: IN_FLIGHT });
  const all = await Promise.all(Array.from({ length: n }, (_, i) => queue.add(() => bare(i))));
  return all.length;
}

const sequential = submitFlow.withOptions({ taskRunner: new SequentialTaskRunner() });
const parallel = submitFlow.withOptions({ taskRunner: new ParallelTaskRunner({ scheduler: 'async', workers: IN_FLIGHT }) });
const opts = { warmup: 2, repeats: 7 };

const bareUs = ((await timeMs(() => bareSequential(N), opts)) * 1000) / N;
const inlineUs = ((await timeMs(() => inlineFlow(N), opts)) * 1000) / N;
const sequentialUs = ((await timeMs(() => sequential(N), opts)) * 1000) / N;
const bareAllMs = await timeMs(() => bareAll(N), opts);
const parallelMs = await timeMs(() => parallel(N), opts);
const pLimitMs = await timeMs(() => withPLimit(N), opts);
const pQueueMs = await timeMs(() => withPQueue(N), opts);

const over = (us: number, limit: number) => ({ text: `≤ ${limit} µs over the bare call`, met: us - bareUs <= limit });
const perSec = (ms: number) => (N / ms) * 1000;
const asyncName = `ParallelTaskRunner 'async', ${N.toLocaleString('en-US')} no-op tasks, ${IN_FLIGHT} in flight`;
const ahead = { text: '≥ 250,000 tasks/s and ahead of p-limit and p-queue', met: perSec(parallelMs) >= 250_000 && parallelMs < pLimitMs && parallelMs < pQueueMs };
const figures: Figure[] = [
  figure('inline task call in a flow', inlineUs, 'µs/task', 'awaited bare call', bareUs, over(inlineUs, 3)),
  figure('submit to SequentialTaskRunner', sequentialUs, 'µs/task', 'awaited bare call', bareUs, over(sequentialUs, 5)),
  figure(asyncName, perSec(parallelMs), 'tasks/s', 'Promise.all over the bare function', perSec(bareAllMs), ahead),
  figure(asyncName, perSec(parallelMs), 'tasks/s', `p-limit, ${IN_FLIGHT} in flight`, perSec(pLimitMs), ahead),
  figure(asyncName, perSec(parallelMs), 'tasks/s', `p-queue, ${IN_FLIGHT} in flight`, perSec(pQueueMs), ahead),
];
report('overhead', figures);
