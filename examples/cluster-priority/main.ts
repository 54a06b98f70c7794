/**
 * Priority on a cluster: on a worker that runs one task at a time, queued tasks start highest
 * priority first (first-in first-out within a priority), whether the priority comes from
 * `annotate()` or from task options. All five are queued before the worker takes any.
 *
 *   node --import tsx examples/cluster-priority/main.ts
 */
import { annotate, DistributedTaskRunner, flow, isMain, task } from 'weftjs';

export const step = task(async function step(label: string, ms: number) {
  await new Promise((r) => setTimeout(r, ms));
  return label;
});

export const prioritized = flow(async function prioritized() {
  const queued = [
    annotate({ priority: 1 }, () => step.submit('priority 1', 10)),
    annotate({ priority: 10 }, () => step.submit('priority 10', 10)),
    step.withOptions({ priority: 5 }).submit('priority 5', 10),
    annotate({ priority: 100 }, () => step.submit('priority 100', 10)),
    step.submit('priority 0 (default)', 10),
  ];
  return Promise.all(queued.map((f) => f.result()));
});

export async function main(): Promise<string[]> {
  const taskRunner = new DistributedTaskRunner({ clusterOptions: { workers: 1, threadsPerWorker: 1 } });
  const run = prioritized.withOptions({ taskRunner }).run();
  const order: string[] = [];
  run.on('task-run:started', (e) => order.push(e.taskRunId));
  await run.result();
  const labels = ['priority 1', 'priority 10', 'priority 5', 'priority 100', 'priority 0 (default)'];
  const started = order.map((id) => labels[Number(id.replace('step-', '')) - 1] as string);
  console.log('Start order on a one-thread worker:', started.join(' → '));
  return started;
}

if (isMain(import.meta)) await main();
