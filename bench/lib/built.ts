/**
 * The built package (dist/, `npm run build`'s output: what a user's `npm install` runs) for the start-up
 * figures: weft from its sources runs under tsx, which every worker would load too, so the
 * sources are not what users' start-up costs. Builds dist when it is missing or older than src/.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Builds dist/ if it is stale; throws if the build fails. */
export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(join(root, 'dist', 'index.js')).mtimeMs;
  } catch {
    // not built yet
  }
  if (built >= newest(join(root, 'src'))) return;
  console.log('(building dist/ for the start-up figures: npm run build)');
  const result = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`npm run build failed (exit ${result.status}): the start-up figures need the built package`);
}

/** Runs bench/fixtures/startup.mjs on the built package: a 2-task flow on 2 fresh workers, medians over `repeats`. */
export function startupFigures(scheduler: 'threads' | 'processes', repeats = 5): { flowMs: number; workerStartMs: number } {
  ensureBuilt();
  const result = spawnSync(process.execPath, [join(root, 'bench', 'fixtures', 'startup.mjs'), scheduler, String(repeats)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`bench/fixtures/startup.mjs ${scheduler} failed (exit ${result.status}): ${result.stderr.trim().slice(0, 500)}`);
  return JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}') as { flowMs: number; workerStartMs: number };
}

/** A whole flow run of bench/fixtures/noops.mjs's no-ops on a fresh pool; resolves the ms of the `n` after the warm-up. */
export type RunNoops = (scheduler: 'threads' | 'processes', workers: number, n: number, warmup: number) => Promise<number>;

/**
 * bench/fixtures/noops.mjs, a JavaScript task module on the built package: the no-op flow as a
 * user of the package runs it (no worker loads tsx), for the comparisons with Piscina and
 * workerpool, whose workers get plain JavaScript files too.
 */
export async function builtNoops(): Promise<RunNoops> {
  ensureBuilt();
  const url = pathToFileURL(join(root, 'bench', 'fixtures', 'noops.mjs')).href;
  return ((await import(url)) as { runNoops: RunNoops }).runNoops;
}
