import type { ChildProcess } from 'node:child_process';

/** Whether a child process has exited (by itself or by a signal). */
export function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** How {@link stopProcess} asks a child to stop. */
export interface StopOptions {
  /** Asks the child to stop. @default sends SIGTERM */
  readonly ask?: () => void;
  /**
   * The caller's own promise of the child's exit, when it already listens for it: a listener added
   * here would miss an exit that another stop already caused.
   */
  readonly exited?: Promise<unknown>;
}

/**
 * Stops a child process politely, then by force: asks it to stop (SIGTERM, so it can finish and
 * clean up), and sends SIGKILL if it is still there after `graceMs` (0: at once). Resolves once it
 * has exited; at once if it already had.
 */
export function stopProcess(child: ChildProcess, graceMs: number, options: StopOptions = {}): Promise<void> {
  const exited = options.exited ?? new Promise<void>((resolve) => (hasExited(child) ? resolve() : child.once('exit', () => resolve())));
  if (hasExited(child)) return exited.then(() => undefined);
  if (graceMs <= 0) {
    child.kill('SIGKILL');
    return exited.then(() => undefined);
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  (options.ask ?? (() => child.kill('SIGTERM')))();
  return exited.then(() => clearTimeout(timer));
}
