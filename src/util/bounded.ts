/**
 * Waits for `promise`, or `ms` at most. With Redis gone, ioredis keeps commands in its offline
 * queue forever; shutdown paths wait through this so that stopping never hangs.
 */
export function bounded(promise: Promise<unknown> | undefined, ms: number): Promise<void> {
  if (!promise) return Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]).then(() => clearTimeout(timer));
}
