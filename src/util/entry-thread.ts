import { Worker, type WorkerOptions } from 'node:worker_threads';
import { fromSources, sibling } from './sibling.ts';

/**
 * How a thread loads its entry under tsx (weft's own sources; from dist it runs the compiled `.js`
 * either way). `module`: tsx's ESM hooks, which load any module a task needs, top-level await
 * included; tsx runs them on a hooks thread of their own. `require`: tsx's require hook, in the
 * thread itself, for an entry that loads weft's own modules only (no user code, no top-level
 * await): measured, the report thread's boot took 450-560 ms of CPU through the ESM hooks and
 * 300 ms through the require hook, on a machine with 2 cores that the run itself needs.
 */
export type EntryLoader = 'module' | 'require';

/**
 * A worker thread running one of weft's own entry programs, `path` relative to `base` (a module's
 * `import.meta.url`) and without extension, e.g. `entryThread(import.meta.url, '../entry/thread')`.
 * From dist it runs the compiled `.js` directly. Under tsx (weft's own sources) a thread cannot
 * load a `.ts` entry by itself: a small bootstrap installs tsx in the thread first ({@link EntryLoader}).
 */
export function entryThread(base: string, path: string, options: WorkerOptions = {}, loader: EntryLoader = 'module'): Worker {
  const entry = sibling(base, path);
  return fromSources(base) ? new Worker(bootstrap(entry, loader), { ...options, eval: true }) : new Worker(entry, options);
}

function bootstrap(entry: URL, loader: EntryLoader): string {
  if (loader === 'require') {
    const api = import.meta.resolve('tsx/cjs/api');
    return `const { fileURLToPath } = require('node:url'); require(fileURLToPath(${JSON.stringify(api)})).register(); require(fileURLToPath(${JSON.stringify(entry.href)}));`;
  }
  const tsx = import.meta.resolve('tsx/esm/api');
  // Marks the thread's loader as installed (loader/register.ts), so task modules do not install it twice.
  return `import(${JSON.stringify(tsx)}).then((m) => { m.register(); globalThis[Symbol.for('weft.ts-loader')] = true; return import(${JSON.stringify(entry.href)}); });`;
}
