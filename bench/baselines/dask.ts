/**
 * Dask distributed baselines for weft's cluster benchmark (issue 4, "Benchmarks"): the same
 * workloads on Dask's 2-worker `LocalCluster(n_workers=2, threads_per_worker=1, processes=True)`,
 * run by the scripts in ./dask/ with Debian's `python3-distributed` under /usr/bin/python3.
 *
 * - `noop`: n no-op tasks through `client.map` + gather -> `{ tasksPerSec, seconds }`
 * - `chain`: n dependent `client.submit(inc, prev)` -> `{ msPerHop, seconds }`
 * - `startstop`: LocalCluster + Client up, then closed -> `{ startSeconds, stopSeconds }`
 *
 * When Dask is missing it is installed with apt (as root only); when that is impossible, or a
 * script fails, the result is `{ skipped: why }` rather than an exception, so a bench run without
 * Python still reports weft's own figures. The environment is passed through unchanged (on some
 * processors OPENBLAS_CORETYPE is set and must stay).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export type DaskWorkload = 'noop' | 'chain' | 'startstop';

const PYTHON = '/usr/bin/python3';
const SCRIPTS: Record<DaskWorkload, string> = {
  noop: fileURLToPath(new URL('./dask/noop.py', import.meta.url)),
  chain: fileURLToPath(new URL('./dask/chain.py', import.meta.url)),
  startstop: fileURLToPath(new URL('./dask/startstop.py', import.meta.url)),
};
/** A script that has not answered in this time is killed, with its whole process group. */
const SCRIPT_TIMEOUT_MS = 10 * 60_000;

interface RunResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly error?: Error;
  readonly timedOut: boolean;
}

/** Runs a command in its own process group (so Dask's worker processes go with it on timeout). */
function run(command: string, args: readonly string[], options: { timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: options.env ?? process.env });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    let spawnError: Error | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
    });
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup();
    }, options.timeoutMs);
    // If the bench itself is interrupted, take the group with it.
    const onExit = () => killGroup();
    process.once('exit', onExit);
    child.once('error', (err) => (spawnError = err));
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      process.removeListener('exit', onExit);
      resolve({ code, signal, stdout, stderr, error: spawnError, timedOut });
    });
  });
}

function tail(text: string, lines = 5): string {
  return text.trim().split('\n').slice(-lines).join(' | ');
}

let aptUpdated = false;
let daskReady: Promise<string | undefined> | undefined;

/**
 * Makes sure `/usr/bin/python3 -c "import distributed"` works, installing Debian's
 * python3-distributed with apt when it does not and we are root. Resolves to undefined when Dask
 * is usable, or to the reason it is not. Never throws. Checked once per process.
 */
export function ensureDask(): Promise<string | undefined> {
  daskReady ??= (async () => {
    const check = () => run(PYTHON, ['-c', 'import distributed'], { timeoutMs: 60_000 });
    const first = await check();
    if (first.code === 0) return undefined;
    if (first.error) return `${PYTHON} cannot be run (${first.error.message})`;
    if (process.getuid?.() !== 0) {
      return `Dask distributed is not installed for ${PYTHON} and we are not root to install it (apt-get install -y python3-distributed)`;
    }
    const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    if (!aptUpdated) {
      const update = await run('apt-get', ['update'], { timeoutMs: 5 * 60_000, env: aptEnv });
      if (update.code !== 0) return `apt-get update failed: ${update.error?.message ?? tail(update.stderr || update.stdout)}`;
      aptUpdated = true;
    }
    const install = await run('apt-get', ['install', '-y', 'python3-distributed'], { timeoutMs: 10 * 60_000, env: aptEnv });
    if (install.code !== 0) {
      return `apt-get install -y python3-distributed failed: ${install.error?.message ?? tail(install.stderr || install.stdout)}`;
    }
    const again = await check();
    if (again.code !== 0) return `python3-distributed installed but "import distributed" still fails: ${tail(again.stderr)}`;
    return undefined;
  })();
  return daskReady;
}

/**
 * Runs one Dask workload with `n` tasks (ignored for `startstop`) on a fresh 2-worker
 * LocalCluster and returns its figures, or `{ skipped }` when Dask is unavailable or the run failed.
 */
export async function dask(workload: DaskWorkload, n: number): Promise<Record<string, number> | { skipped: string }> {
  const script = SCRIPTS[workload];
  if (script === undefined) throw new TypeError(`unknown Dask workload ${JSON.stringify(workload)}: expected noop, chain or startstop`);
  if (!Number.isInteger(n) || n < 0) throw new TypeError(`n must be a non-negative integer, got ${n}`);
  const unavailable = await ensureDask();
  if (unavailable !== undefined) return { skipped: unavailable };

  const result = await run(PYTHON, [script, String(n)], { timeoutMs: SCRIPT_TIMEOUT_MS });
  if (result.timedOut) return { skipped: `Dask ${workload} did not finish within ${SCRIPT_TIMEOUT_MS / 1000} s` };
  if (result.code !== 0) {
    return { skipped: `Dask ${workload} failed (exit ${result.code ?? result.signal}): ${result.error?.message ?? tail(result.stderr)}` };
  }
  const line = result.stdout.trim().split('\n').reverse().find((l) => l.trimStart().startsWith('{'));
  if (line === undefined) return { skipped: `Dask ${workload} printed no JSON line: ${tail(result.stdout || result.stderr)}` };
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    return { skipped: `Dask ${workload} printed bad JSON: ${line.slice(0, 200)}` };
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    return { skipped: `Dask ${workload} printed a non-object: ${line.slice(0, 200)}` };
  }
  const figures: Record<string, number> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) return { skipped: `Dask ${workload} gave a non-number ${key}: ${String(value)}` };
    figures[key] = value;
  }
  return figures;
}
