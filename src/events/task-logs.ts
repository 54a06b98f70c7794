import type { Listener } from './bus.ts';

/**
 * Task logs reach the terminal of the flow's process, labelled with the task run
 * (`[download-3 @ thread-1] fetching ...`); `WEFT_TASK_LOGS=off` turns this off. index.ts
 * attaches it to every top-level flow run; the engine itself prints nothing.
 */
export function printTaskLogs(run: { on(name: 'task-run:log', listener: Listener<'task-run:log'>): unknown }): void {
  if (process.env.WEFT_TASK_LOGS === 'off') return;
  run.on('task-run:log', (e) => {
    const label = e.taskRunId ? `[${e.taskRunId}${e.workerId === 'main' ? '' : ` @ ${e.workerId}`}]` : `[${e.taskName}]`;
    const line = `${label} ${e.message}`;
    if (e.level === 'error') console.error(line);
    else if (e.level === 'warn') console.warn(line);
    else console.log(line);
  });
}
