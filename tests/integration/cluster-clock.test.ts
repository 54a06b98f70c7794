// @needs redis-server
/**
 * Every event's time is on the flow process's clock, even from a cluster worker whose clock is
 * off: the worker here runs 5 s behind (a preload skews its Date.now and performance.timeOrigin),
 * and its events must still fall between what the flow process saw before and after them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { flow, DistributedTaskRunner, type WeftEvents } from '../../src/index.ts';
import { workerClock } from '../fixtures/cluster/tasks.ts';

const SKEW_MS = -5000;
/** The offset is measured by round trips to Redis on loopback: off by well under this. */
const ERROR_MS = 20;

test("a cluster worker's event times are corrected onto the flow process's clock", async () => {
  const skew = new URL('../fixtures/cluster/skewed-clock.mjs', import.meta.url).href;
  fileURLToPath(skew); // a file URL with no spaces: it goes through a space-separated variable
  const saved = { argv: process.env.WEFT_WORKER_EXEC_ARGV, skew: process.env.WEFT_TEST_CLOCK_SKEW_MS };
  process.env.WEFT_WORKER_EXEC_ARGV = `--import=${skew}`;
  process.env.WEFT_TEST_CLOCK_SKEW_MS = String(SKEW_MS);
  try {
    const main = flow(async function skewedWorker() {
      const before = Date.now();
      const theirs = await workerClock.submit(40).result();
      return { before, theirs, after: Date.now() };
    }, { taskRunner: new DistributedTaskRunner({ clusterOptions: { workers: 1 } }) });
    const run = main.run();
    const events: { name: string; time: number; event: unknown }[] = [];
    for (const name of ['task-run:submitted', 'task-run:started', 'task-run:log', 'task-run:finished'] as const) {
      run.on(name, (e) => events.push({ name, time: e.time, event: e }));
    }
    const { before, theirs, after } = await run.result();
    // The worker's clock really is off (else this test could not fail).
    assert.ok(theirs - after < SKEW_MS + 1000, `the worker's clock runs ${after - theirs} ms behind`);
    const at = (name: string) => events.find((e) => e.name === name) as { time: number; event: unknown };
    const submitted = at('task-run:submitted').time;
    const finished = at('task-run:finished');
    const started = at('task-run:started');
    const log = at('task-run:log');
    assert.ok(before - ERROR_MS <= submitted);
    for (const [name, time] of [['started', started.time], ['log', log.time]] as const) {
      assert.ok(time >= submitted - ERROR_MS, `${name} (${time}) is not before submitted (${submitted}): ${time - submitted} ms`);
      assert.ok(time <= finished.time + ERROR_MS, `${name} (${time}) is not after finished (${finished.time})`);
    }
    const end = finished.event as WeftEvents['task-run:finished'];
    assert.equal(end.startTime, started.time);
    assert.ok((end.serviceMs as number) >= 35);
    assert.ok((end.startTime as number) + (end.serviceMs as number) <= finished.time + ERROR_MS);
  } finally {
    for (const [key, value] of [['WEFT_WORKER_EXEC_ARGV', saved.argv], ['WEFT_TEST_CLOCK_SKEW_MS', saved.skew]] as const) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
});
