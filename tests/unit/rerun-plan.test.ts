/**
 * The re-run policy of a cluster worker, as a table (the way dask tests its worker state machine):
 * a job's runs, its crashes and stalls, what was already delivered → what the worker does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mayHaveRun, rerunPlan, type RerunPlan } from '../../src/cluster/rerun-plan.ts';

const runs = (...ids: string[]) => ids.map((taskRunId) => ({ taskRunId }));
const ids = (plan: RerunPlan<{ taskRunId: string }>) => ('tasks' in plan ? plan.tasks.map((t) => t.taskRunId) : []);

interface Row {
  readonly why: string;
  readonly tasks: string[];
  readonly crashes: number;
  readonly stalls: number;
  readonly allowedFailures: number;
  readonly delivered: string[];
  readonly action: RerunPlan<unknown>['action'];
  readonly runs: string[];
  readonly totalCrashes?: number;
}

const table: Row[] = [
  { why: 'a first run runs everything', tasks: ['a', 'b'], crashes: 0, stalls: 0, allowedFailures: 3, delivered: [], action: 'run', runs: ['a', 'b'] },
  { why: 'a first run never looks at what was delivered', tasks: ['a'], crashes: 0, stalls: 0, allowedFailures: 0, delivered: ['a'], action: 'run', runs: ['a'] },
  { why: 'a stalled batch whose runs were all delivered is skipped', tasks: ['a', 'b'], crashes: 0, stalls: 1, allowedFailures: 3, delivered: ['a', 'b'], action: 'skip', runs: [] },
  { why: 'a stalled batch splits what is left, one run per job', tasks: ['a', 'b', 'c'], crashes: 0, stalls: 1, allowedFailures: 3, delivered: ['b'], action: 'split', runs: ['a', 'c'], totalCrashes: 1 },
  { why: 'a stalled batch with one run left runs it again', tasks: ['a', 'b'], crashes: 0, stalls: 1, allowedFailures: 3, delivered: ['a'], action: 'run', runs: ['b'] },
  { why: 'a split job (crashes carried over) runs again while within allowedFailures', tasks: ['a'], crashes: 2, stalls: 1, allowedFailures: 3, delivered: [], action: 'run', runs: ['a'] },
  { why: 'one death more than allowed crashes the runs left', tasks: ['a'], crashes: 3, stalls: 1, allowedFailures: 3, delivered: [], action: 'crash', runs: ['a'], totalCrashes: 4 },
  { why: 'allowedFailures 0: the first death crashes, before any split', tasks: ['a', 'b'], crashes: 0, stalls: 1, allowedFailures: 0, delivered: [], action: 'crash', runs: ['a', 'b'], totalCrashes: 1 },
  { why: 'delivered runs are never crashed', tasks: ['a', 'b'], crashes: 5, stalls: 0, allowedFailures: 3, delivered: ['a'], action: 'crash', runs: ['b'], totalCrashes: 5 },
  { why: 'a job split earlier and not stalled since runs its batch as it is', tasks: ['a', 'b'], crashes: 1, stalls: 0, allowedFailures: 3, delivered: [], action: 'run', runs: ['a', 'b'] },
];

for (const row of table) {
  test(`rerunPlan: ${row.why}`, () => {
    const job = { tasks: runs(...row.tasks), crashes: row.crashes, stalls: row.stalls, allowedFailures: row.allowedFailures };
    const plan = rerunPlan(job, new Set(row.delivered));
    assert.equal(plan.action, row.action);
    assert.deepEqual(ids(plan), row.runs);
    if (row.totalCrashes !== undefined) assert.equal('crashes' in plan ? plan.crashes : undefined, row.totalCrashes);
    assert.equal(mayHaveRun(job), row.crashes > 0 || row.stalls > 0);
  });
}
