import type { Listener } from './bus.ts';

/**
 * Task logs reach the terminal of the flow's process, wherever they ran, each with its time
 * stamp, level, flow run (the id's first 8 characters) and task run:
 * `2026-12-01T21:00:00.123Z INFO  [3f2a9c1e/download-3 @ thread-1] fetching ...`;
 * `WEFT_TASK_LOGS=off` turns this off. index.ts attaches it to every top-level flow run; the
 * engine itself prints nothing.
 */
export function printTaskLogs(run: { on(name: 'task-run:log', listener: Listener<'task-run:log'>): unknown }): void {
  if (process.env.WEFT_TASK_LOGS === 'off') return;
  run.on('task-run:log', (e) => {
    const where = e.taskRunId ? `${e.taskRunId}${e.workerId === 'main' ? '' : ` @ ${e.workerId}`}` : e.taskName;
    const line = `${new Date(e.time).toISOString()} ${e.level.toUpperCase().padEnd(5)} [${e.flowRunId.slice(0, 8)}/${where}] ${e.message}`;
    if (e.level === 'error') console.error(line);
    else if (e.level === 'warn') console.warn(line);
    else console.log(line);
  });
}
