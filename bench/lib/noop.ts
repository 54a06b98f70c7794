/**
 * The benches' no-op work, written once: a task that returns its argument, and a flow that submits
 * it `n` times and awaits each future in order. On the fastest runners this is the worst case for
 * weft's own cost (the tasks take no time), so the overhead and report suites both measure it.
 * @module
 */
import { flow, task } from '../../src/index.ts';

/** Returns its argument. */
export const noop = task(async function noop(x: number) {
  return x;
});

/** Submits `noop` `n` times at once, then awaits the futures in order; returns their sum. */
export const submitAll = flow(async function submitAll(n: number) {
  const futures = [];
  for (let i = 0; i < n; i++) futures.push(noop.submit(i));
  let s = 0;
  for (const f of futures) s += await f;
  return s;
});
