/**
 * The runners the conformance suite runs on. Every case in `tests/conformance/*.test.ts` loops over
 * this list, so a new runner (threads, processes, a cluster) joins the whole suite by adding one
 * entry here.
 *
 * Cases take their tasks from `tests/fixtures/core/*.ts` (top-level tasks, findable by module and
 * name) and observe them only through futures, run records, events and files, never through memory
 * shared with the test, so they hold for runners whose tasks run in other threads, processes or
 * machines.
 */
import { spawnSync } from 'node:child_process';
import { DistributedTaskRunner, ParallelTaskRunner, SequentialTaskRunner, type Resources, type TaskRunner } from '../../src/index.ts';

/** Options a case may ask of a runner; `make` must honour them where the runner has such a thing. */
export interface RunnerOptions {
  /** Tasks in flight at once (a runner with a fixed number, such as sequential, ignores it). */
  workers?: number;
  /** What the runner's workers have in all, e.g. `{ process: 1 }`. */
  resources?: Resources;
}

export interface RunnerCase {
  readonly name: string;
  /** A fresh runner; without options, the runner's usual configuration for the suite. */
  readonly make: (options?: RunnerOptions) => TaskRunner;
  /**
   * Set for runners whose cancel stops tasks by force (a temporary cluster's workers go), so a
   * task's own abort handler may never run there.
   */
  readonly cancelKillsTasks?: boolean;
  /**
   * Why this runner does not promise that tasks submitted in one turn start by priority when a
   * worker is idle (a cluster queues one turn's tasks together, in batches): the case is skipped,
   * saying so, rather than left out silently.
   */
  readonly noPriorityWithinTurn?: string;
  /**
   * Why task runs submitted from a task (`getClient()`) do not show in the flow run's record on this
   * runner: the nested-submission case checks their results there, and their records elsewhere.
   */
  readonly nestedNotRecorded?: string;
}

export const RUNNERS: RunnerCase[] = [
  { name: 'sequential', make: (o) => new SequentialTaskRunner({ resources: o?.resources }) },
  {
    name: 'async',
    make: (o) => new ParallelTaskRunner({ scheduler: 'async', workers: o?.workers ?? 4, resources: o?.resources }),
  },
  {
    name: 'threads',
    make: (o) => new ParallelTaskRunner({ scheduler: 'threads', workers: o?.workers ?? 4, resources: o?.resources }),
    cancelKillsTasks: true,
  },
  {
    name: 'processes',
    make: (o) => new ParallelTaskRunner({ scheduler: 'processes', workers: o?.workers ?? 4, resources: o?.resources }),
    cancelKillsTasks: true,
  },
];

// A temporary cluster (a private redis-server and one worker process), where redis-server exists;
// scripts/test.mjs fails CI when it does not.
if (spawnSync(process.env.WEFT_REDIS_SERVER ?? 'redis-server', ['--version']).status === 0) {
  RUNNERS.push({
    name: 'cluster',
    make: (o) => new DistributedTaskRunner({ clusterOptions: { workers: 1, threadsPerWorker: o?.workers ?? 4, resources: o?.resources } }),
    cancelKillsTasks: true,
    noPriorityWithinTurn: 'a cluster queues the tasks submitted in one turn together, so the first of them does not take the idle worker ahead of the rest',
    nestedNotRecorded: "a cluster worker submits nested runs to the cluster straight from the worker, on its own result channel: the flow's process never hears of them",
  });
} else {
  console.warn('conformance: no redis-server, so the cluster runner is left out (sudo apt-get install -y redis-server)');
}

// WEFT_RUNNERS=sequential,async runs the suite on those runners only (e.g. while working on one).
const only = (process.env.WEFT_RUNNERS ?? '').split(',').map((s) => s.trim()).filter(Boolean);
if (only.length > 0) {
  const unknown = only.filter((name) => !RUNNERS.some((r) => r.name === name));
  if (unknown.length > 0) throw new Error(`WEFT_RUNNERS names unknown runners: ${unknown.join(', ')} (known: ${RUNNERS.map((r) => r.name).join(', ')})`);
  RUNNERS.splice(0, RUNNERS.length, ...RUNNERS.filter((r) => only.includes(r.name)));
}
