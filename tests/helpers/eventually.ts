/**
 * Waiting helpers for tests that must not assert on timing: each has a generous bound and fails
 * with a message when a thing never happens, instead of hanging the suite.
 */
import { readFileSync } from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';

/** Resolves `promise`, or rejects after `ms` saying what did not finish. */
export async function within<T>(promise: PromiseLike<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const bound = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** Retries `check` until it returns without throwing (returning its value) or `timeoutMs` passes. */
export async function eventually<T>(check: () => T | Promise<T>, { timeoutMs = 5_000, intervalMs = 10 } = {}): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (error) {
      if (Date.now() >= deadline) throw error;
    }
    await delay(intervalMs);
  }
}

/** Resolves once `check` is true, or rejects after `ms` naming what never happened. */
export async function until(check: () => boolean | Promise<boolean>, ms = 15_000, what = 'condition'): Promise<void> {
  await eventually(async () => {
    if (!(await check())) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  }, { timeoutMs: ms, intervalMs: 50 });
}

/** A promise with its resolve function, for tests that release a waiting flow. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** The text of a marker file that a task writes, once it is there and not empty. */
export function readMarker(path: string, timeoutMs = 15_000): Promise<string> {
  return eventually(() => {
    const text = readFileSync(path, 'utf8');
    if (text.length === 0) throw new Error(`${path} is still empty`);
    return text;
  }, { timeoutMs });
}
