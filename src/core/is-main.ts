import { realpathSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';

const kWorker = Symbol.for('weft.worker');

/** @internal Set by weft's worker programs (threads, processes, cluster workers) before they import task modules. */
export function markWeftWorker(): void {
  (globalThis as { [kWorker]?: boolean })[kWorker] = true;
}

/** Whether this realm is a weft worker, where modules are imported only to find tasks. */
export function isWeftWorker(): boolean {
  return (globalThis as { [kWorker]?: boolean })[kWorker] === true;
}

/**
 * True only in the module that Node started (`node file.ts`, `tsx file.ts`), never in a module a
 * weft worker imports to find its tasks, nor under `weft run` (which picks the flow itself).
 *
 * @example
 * if (isMain(import.meta)) console.log(await plumes(2022));
 */
export function isMain(meta: ImportMeta): boolean {
  if (isWeftWorker() || !isMainThread) return false;
  const entry = process.argv[1];
  if (!entry) return false;
  try {
    return sameFile(fileURLToPath(meta.url), entry);
  } catch {
    return false;
  }
}

function sameFile(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    const ra = realpathSync(a);
    const rb = realpathSync(b);
    // `node dir/main` runs dir/main.ts or dir/main.js: argv[1] may lack the extension.
    return ra === rb || ra.replace(/\.[cm]?[jt]s$/, '') === rb;
  } catch {
    return false;
  }
}
