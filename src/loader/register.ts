import { isMainThread } from 'node:worker_threads';
import { UsageError } from '../errors.ts';

/**
 * weft runs the user's TypeScript directly, with no build step: the CLI, worker threads, child
 * processes and cluster workers all load TypeScript task modules through tsx, the same way. The
 * loader is installed in a thread only when a TypeScript module is asked for there, so JavaScript
 * (compiled code) never loads tsx, and tsx need not be installed at all.
 *
 * @module
 */

const TYPESCRIPT = /\.[cm]?tsx?$/;

/** Whether a module (URL or path) is TypeScript, by its extension. */
export function isTypeScript(module: string): boolean {
  return TYPESCRIPT.test(module.replace(/[?#].*$/, ''));
}

// Per realm (thread), and shared with the thread bootstrap of weft's own sources (util/entry-thread.ts).
const kLoader = Symbol.for('weft.ts-loader');
type Realm = { [kLoader]?: Promise<void> | true };

/**
 * Makes `import(module)` work in this thread if `module` is TypeScript: installs tsx's hooks the
 * first time one is asked for (idempotent, per thread). Does nothing for JavaScript. Throws a
 * {@link UsageError} saying what to install when tsx is not there.
 */
export function loaderFor(module: string): Promise<void> {
  if (!isTypeScript(module) || process.env.WEFT_NO_TS_LOADER === '1') return Promise.resolve();
  const realm = globalThis as Realm;
  if (realm[kLoader] === true) return Promise.resolve();
  realm[kLoader] ??= install(module);
  return realm[kLoader];
}

async function install(module: string): Promise<void> {
  if (hooksInherited()) return;
  let api: { register: () => unknown };
  try {
    api = (await import('tsx/esm/api')) as { register: () => unknown };
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && /tsx/.test((error as Error).message)) {
      throw new UsageError(
        `${module} is TypeScript, and weft loads TypeScript through tsx, which is not installed here. ` +
          'Install it in your project (npm install --save-dev tsx), or run compiled JavaScript.',
        { cause: error },
      );
    }
    throw error;
  }
  api.register();
}

/**
 * Whether tsx's hooks already run in this thread because the process was started with them
 * (`node --import tsx`, `npx tsx`, NODE_OPTIONS). Only the main thread can trust the flag: on
 * Node 20 a worker thread inherits `--import tsx` in its execArgv but not the hooks it installed.
 */
function hooksInherited(): boolean {
  if (!isMainThread) return false;
  return process.execArgv.some((a) => a.includes('tsx')) || (process.env.NODE_OPTIONS ?? '').includes('tsx');
}

/**
 * Node flags a child process needs to run weft's own entry program `entry`: the loader when the
 * entry itself is TypeScript (weft run from its sources, in this repository), nothing otherwise:
 * the child installs the loader itself if a TypeScript task module comes.
 */
export function entryExecArgv(entry: string): string[] {
  if (!isTypeScript(entry)) return [];
  return ['--import', import.meta.resolve('tsx/esm')];
}
