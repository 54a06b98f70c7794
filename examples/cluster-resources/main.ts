/**
 * Resources on a cluster: one worker that runs 4 tasks at once but declares `{ GPU: 1, process: 1 }`.
 * Tasks needing `{ GPU: 1 }` run one at a time (each holds the GPU while it runs), so do tasks
 * needing `{ process: 1 }`; plain tasks run beside them.
 *
 *   node --import tsx examples/cluster-resources/main.ts
 */
import { DistributedTaskRunner, flow, isMain, task } from 'weftjs';

export interface Span {
  readonly kind: string;
  readonly start: number;
  readonly end: number;
}

async function hold(kind: string, ms: number): Promise<Span> {
  const start = Date.now();
  await new Promise((r) => setTimeout(r, ms));
  return { kind, start, end: Date.now() };
}

export const train = task(function train(ms: number) {
  return hold('gpu', ms);
}, { resources: { GPU: 1 } });

export const render = task(function render(ms: number) {
  return hold('process', ms);
}, { resources: { process: 1 } });

export const plain = task(function plain(ms: number) {
  return hold('plain', ms);
});

export const resources = flow(async function resources() {
  return Promise.all([...train.map([150, 150, 150]), ...render.map([150, 150]), ...plain.map([150, 150])]);
});

/** The most spans of `kind` that overlap at any moment. */
export function maxOverlap(spans: readonly Span[], kind: string): number {
  const edges = spans.filter((s) => s.kind === kind).flatMap((s) => [[s.start, 1], [s.end, -1]] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let now = 0;
  let max = 0;
  for (const [, d] of edges) max = Math.max(max, (now += d));
  return max;
}

export async function main(): Promise<Span[]> {
  const taskRunner = new DistributedTaskRunner({ clusterOptions: { workers: 1, threadsPerWorker: 4, resources: { GPU: 1, process: 1 } } });
  const spans = await resources.withOptions({ taskRunner })();
  for (const kind of ['gpu', 'process', 'plain']) console.log(`${kind.padEnd(8)} tasks at once, at most: ${maxOverlap(spans, kind)}`);
  return spans;
}

if (isMain(import.meta)) await main();
