import type { FlowRun } from '../core/flow.ts';

/** How often a plain progress line is printed when stderr is not a terminal (a CI log, a file). */
export const PLAIN_EVERY_MS = 5000;

/**
 * Progress on stderr for a flow run under `weft run`: finished / submitted task runs, how many are
 * running, failed and retried. On a terminal, a one-line bar redrawn in place, once the run has
 * lasted a second (short runs stay quiet), and cleared before the result is printed; elsewhere a
 * plain line every {@link PLAIN_EVERY_MS} (`everyMs`), so logs show the run going on.
 */
export function showProgress(run: FlowRun<unknown>, stream: NodeJS.WriteStream = process.stderr, everyMs = PLAIN_EVERY_MS): () => void {
  let submitted = 0;
  let finished = 0;
  let running = 0;
  let failed = 0;
  let retried = 0;
  let drawn = false;
  const off = [
    run.on('task-run:submitted', () => submitted++),
    run.on('task-run:started', (e) => e.attempt === 1 && running++),
    run.on('task-run:retried', () => retried++),
    run.on('task-run:finished', (e) => {
      finished++;
      if (e.state !== 'Cancelled' && e.state !== 'Completed') failed++;
      if (running > 0 && e.state !== 'Cancelled') running--;
    }),
    // Logs printed while the bar is up would be overwritten: clear the line first.
    run.on('task-run:log', () => clear(), { first: true }),
  ];
  const started = Date.now();
  const text = () => {
    const parts = [`${finished}/${submitted} task runs`, `${running} running`];
    if (failed) parts.push(`${failed} failed`);
    if (retried) parts.push(`${retried} retries`);
    return parts.join(' · ');
  };
  const tty = stream.isTTY === true;
  const timer = setInterval(() => {
    if (!tty) {
      stream.write(`weft: ${text()} (${((Date.now() - started) / 1000).toFixed(0)} s)\n`);
      return;
    }
    if (Date.now() - started < 1000) return;
    const width = 30;
    const done = submitted === 0 ? 0 : Math.round((finished / submitted) * width);
    const bar = '█'.repeat(done) + '░'.repeat(width - done);
    stream.write(`\r${bar} ${text()}\x1b[K`);
    drawn = true;
  }, tty ? 100 : everyMs);
  timer.unref();
  function clear(): void {
    if (drawn) stream.write('\r\x1b[K');
    drawn = false;
  }
  return () => {
    clearInterval(timer);
    for (const unsubscribe of off) unsubscribe();
    clear();
  };
}
