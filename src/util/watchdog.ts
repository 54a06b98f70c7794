import { spawn, type ChildProcess } from 'node:child_process';

/**
 * Children that must not outlive this process, however it ends (an uncaught error, SIGKILL, the
 * OOM killer): a temporary cluster's redis-server and worker processes. A watchdog is a small
 * `sh` whose stdin is a pipe from this process; this process writes `+PID` for each child to watch
 * and `-PID` once it has exited. When this process dies the kernel closes the pipe, `read` sees the
 * end, and the watchdog SIGKILLs every PID still listed, so nothing is left whatever the moment
 * (before the workers are up or after). One watchdog per process, started on first use; it costs
 * one idle shell and never keeps this process alive. Where there is no `sh` (Windows) nothing is
 * watched: the workers' own parent check (worker-main's IPC disconnect) is all there is.
 *
 * @module
 */

// `pids` is a space-separated list with a space on each end; a PID leaves it with `-PID`.
const SCRIPT = `pids=" "
while read -r line; do
  pid="\${line#?}"
  case "$line" in
    +*) pids="$pids$pid " ;;
    -*) case "$pids" in *" $pid "*) pids="\${pids%% $pid *} \${pids#* $pid }" ;; esac ;;
  esac
done
[ "$pids" = " " ] || kill -9 $pids 2>/dev/null
exit 0`;

let shared: ChildProcess | undefined | null;

/** The process's watchdog, started on first use; undefined where it cannot run. */
function watchdog(): ChildProcess | undefined {
  if (shared !== undefined) return shared ?? undefined;
  if (process.platform === 'win32') {
    shared = null;
    return undefined;
  }
  try {
    const child = spawn('sh', ['-c', SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', () => (shared = null));
    child.once('exit', () => {
      if (shared === child) shared = undefined; // killed by someone: the next watch starts another
    });
    child.stdin?.on('error', () => undefined);
    child.unref();
    (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    shared = child;
    return child;
  } catch {
    shared = null;
    return undefined;
  }
}

/** Watches `child`: it is SIGKILLed if this process dies before it exits. Call right after spawning it. */
export function killWithParent(child: ChildProcess): void {
  const pid = child.pid;
  if (pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const dog = watchdog();
  if (!dog?.stdin?.writable) return;
  dog.stdin.write(`+${pid}\n`);
  child.once('exit', () => {
    // Off the list before its PID can be reused.
    if (shared === dog && dog.stdin?.writable) dog.stdin.write(`-${pid}\n`);
  });
}

/** The watchdog's PID, for tests. */
export function watchdogPid(): number | undefined {
  return shared?.pid;
}
