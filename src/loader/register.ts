import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * weft runs the user's TypeScript directly, with no build step: the CLI, worker threads, child
 * processes and cluster workers all load task modules through tsx, the same way.
 */

let registered = false;

/** Makes `import()` of `.ts` modules work in this thread (idempotent). */
export async function registerTypeScript(): Promise<void> {
  if (registered || process.env.WEFT_NO_TS_LOADER === '1') return;
  registered = true;
  if (isTsxActive()) return;
  const { register } = await import('tsx/esm/api');
  register();
}

/** Node flags that make a child process load TypeScript the way this one does. */
export function loaderExecArgv(): string[] {
  const require = createRequire(import.meta.url);
  return ['--import', pathToFileURL(require.resolve('tsx/esm')).href];
}

/** Whether tsx's hooks are already installed (e.g. `node --import tsx` or `tsx file.ts`). */
function isTsxActive(): boolean {
  return process.execArgv.some((a) => a.includes('tsx')) || (process.env.NODE_OPTIONS ?? '').includes('tsx');
}
