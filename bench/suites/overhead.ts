/**
 * Per-task overhead of weft's engine over a bare function call, measured in one run:
 * - a no-op task called inline inside a flow, and submitted to SequentialTaskRunner, against
 *   awaiting the bare async function (target: at most 10 µs over the bare call);
 * - 20,000 no-op tasks through ParallelTaskRunner('async') against Promise.all over the bare
 *   async function (target: at least 100,000 tasks/s).
 */
import { flow, ParallelTaskRunner, SequentialTaskRunner, task } from '../../src/index.ts';
import { figure, report, timeMs, type Figure } from '../lib/harness.ts';

process.env.WEFT_TASK_LOGS = 'off';
const N = 20_000;

async function bare(x: number): Promise<number> {
  return x;
}
const noop = task(async function noop(x: number) {
  return x;
});

const inlineFlow = flow(async function inlineCalls(n: number) {
  let s = 0;
  for (let i = 0; i < n; i++) s += await noop(i);
  return s;
});

const submitFlow = flow(async function submitted(n: number) {
  const futures = [];
  for (let i = 0; i < n; i++) futures.push(noop.submit(i));
  let s = 0;
  for (const f of futures) s += await f;
  return s;
});

async function bareSequential(n: number): Promise<number> {
  let s = 0;
  for (let i = 0; i < n; i++) s += await bare(i);
  return s;
}

async function bareAll(n: number): Promise<number> {
  const all = await Promise.all(Array.from({ length: n }, (_, i) => bare(i)));
  return all.length;
}

const sequential = submitFlow.withOptions({ taskRunner: new SequentialTaskRunner() });
const parallel = submitFlow.withOptions({ taskRunner: new ParallelTaskRunner({ scheduler: 'async', workers: 50 }) });
const opts = { warmup: 2, repeats: 7 };

const bareUs = ((await timeMs(() => bareSequential(N), opts)) * 1000) / N;
const inlineUs = ((await timeMs(() => inlineFlow(N), opts)) * 1000) / N;
const sequentialUs = ((await timeMs(() => sequential(N), opts)) * 1000) / N;
const bareAllMs = await timeMs(() => bareAll(N), opts);
const parallelMs = await timeMs(() => parallel(N), opts);

const over = (us: number) => ({ text: '≤ 10 µs over the bare call', met: us - bareUs <= 10 });
const figures: Figure[] = [
  figure('inline task call in a flow', inlineUs, 'µs/task', 'awaited bare call', bareUs, over(inlineUs)),
  figure('submit to SequentialTaskRunner', sequentialUs, 'µs/task', 'awaited bare call', bareUs, over(sequentialUs)),
  figure(`ParallelTaskRunner 'async', ${N.toLocaleString('en-US')} no-op tasks`, (N / parallelMs) * 1000, 'tasks/s', 'Promise.all over the bare function', (N / bareAllMs) * 1000, {
    text: '≥ 100,000 tasks/s',
    met: (N / parallelMs) * 1000 >= 100_000,
  }),
];
report('overhead', figures);
