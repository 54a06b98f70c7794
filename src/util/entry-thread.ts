import { Worker, type WorkerOptions } from 'node:worker_threads';
import { fromSources, sibling } from './sibling.ts';

/**
 * A worker thread running one of weft's own entry programs, `path` relative to `base` (a module's
 * `import.meta.url`) and without extension, e.g. `entryThread(import.meta.url, '../entry/thread')`.
 * From dist it runs the compiled `.js` directly. Under tsx (weft's own sources) a thread cannot
 * load a `.ts` entry by itself: a small bootstrap installs tsx in the thread first.
 */
export function entryThread(base: string, path: string, options: WorkerOptions = {}): Worker {
  const entry = sibling(base, path);
  return fromSources(base) ? new Worker(bootstrap(entry), { ...options, eval: true }) : new Worker(entry, options);
}

function bootstrap(entry: URL): string {
  const tsx = import.meta.resolve('tsx/esm/api');
  // Marks the thread's loader as installed (loader/register.ts), so task modules do not install it twice.
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); globalThis[Symbol.for('weft.ts-loader')] = true; return import(${JSON.stringify(entry.href)}); });`;
}
