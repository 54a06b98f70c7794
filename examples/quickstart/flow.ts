/**
 * The smallest weft program. Run it with `npx weft run examples/quickstart/flow.ts --param n=5`
 * or directly with `npx tsx examples/quickstart/flow.ts`.
 */
import { flow, isMain, ParallelTaskRunner, task } from 'weftjs';

export const square = task(async function square(x: number) {
  return x * x;
});

export const total = task(function total(values: number[]) {
  return values.reduce((a, b) => a + b, 0);
});

/** The sum of the squares of 0..n-1, mapped and reduced as tasks. */
export const sumOfSquares = flow(async function sumOfSquares(n: number = 10, label: string = 'sum of squares') {
  const squares = square.map(Array.from({ length: n }, (_, i) => i));
  const sum = await total.submit(squares);
  return `${label}: ${sum}`;
}, { taskRunner: new ParallelTaskRunner({ scheduler: 'async', workers: 4 }) });

export const failing = flow(async function failing() {
  await square.submit(Number.NaN);
  throw new RangeError('this flow fails on purpose');
});

if (isMain(import.meta)) console.log(await sumOfSquares(10));
