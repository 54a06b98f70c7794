// @needs redis-server
/**
 * Code found on any host: a task's module goes to workers named relative to the project root, so
 * a worker whose checkout of the project lives at another path runs it; a worker without the
 * module says so, naming its host, its root and the module; a worker whose copy of the module is
 * another version refuses it with CodeVersionError instead of running it. Workers are `weft worker`
 * processes on loopback, each started with `--root` at its own copy of tests/fixtures/portable.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, cpSync, mkdtempSync, realpathSync, rmSync, unlinkSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CodeVersionError, DistributedTaskRunner, flow, TaskNotFoundError, TaskRunError } from '../../src/index.ts';
import { move, moveNested, whereAmI } from '../fixtures/portable/tasks.ts';
import { Point } from '../fixtures/portable/point.ts';
import { startCli, startRedis, type CliProcess } from '../helpers/redis.ts';
import type { RedisServer } from '../../src/cluster/redis-server.ts';

const PROJECT = fileURLToPath(new URL('../fixtures/portable/', import.meta.url));
const ENTRY = pathToFileURL(fileURLToPath(new URL('../../src/index.ts', import.meta.url))).href;
const copies = mkdtempSync(join(tmpdir(), 'weft-portable-'));
let redis: RedisServer;
const workers: CliProcess[] = [];

/** A copy of the fixture project at another path, changed by `edit`, with a worker on `prefix` rooted there. */
function workerOn(prefix: string, edit: (dir: string) => void): { dir: string; worker: CliProcess } {
  const dir = join(copies, prefix);
  cpSync(PROJECT, dir, { recursive: true });
  edit(dir);
  const worker = startCli(['worker', '--address', `${redis.address}?prefix=${prefix}`, '--root', dir, '--name', `${prefix}-worker`, '--concurrency', '1'], { WEFT_PORTABLE_ENTRY: ENTRY });
  workers.push(worker);
  return { dir: realpathSync(dir), worker };
}

/** The task's value, or the error its future rejects with. */
function run(prefix: string): Promise<unknown> {
  const main = flow(async function portable() {
    return whereAmI.submit().result().catch((e: unknown) => e);
  }, { taskRunner: new DistributedTaskRunner({ address: `${redis.address}?prefix=${prefix}`, root: PROJECT }) });
  return main();
}

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await Promise.all(workers.map((w) => w.stop()));
  await redis.stop();
  rmSync(copies, { recursive: true, force: true });
});

test('a worker whose checkout lives at another path runs the task from its own copy; one without the module, or with another version of it, says so', async () => {
  const same = workerOn('same', () => undefined);
  const missing = workerOn('missing', (dir) => unlinkSync(join(dir, 'tasks.ts')));
  const changed = workerOn('changed', (dir) => appendFileSync(join(dir, 'tasks.ts'), '\n// another version\n'));
  await Promise.all([same, missing, changed].map((w) => w.worker.waitFor(/joined/, 60_000)));

  assert.equal(String(await run('same')), pathToFileURL(join(same.dir, 'tasks.ts')).href, 'run from the worker\'s copy, not the flow\'s path');

  const notFound = await run('missing');
  assert.ok(notFound instanceof TaskRunError, String(notFound));
  assert.ok(notFound.cause instanceof TaskNotFoundError, String(notFound.cause));
  for (const part of [hostname(), missing.dir, 'tasks.ts', 'missing-worker']) assert.ok(notFound.cause.message.includes(part), `the message names ${part}: ${notFound.cause.message}`);

  const mismatch = await run('changed');
  assert.ok(mismatch instanceof TaskRunError, String(mismatch));
  assert.ok(mismatch.cause instanceof CodeVersionError, String(mismatch.cause));
  assert.equal(mismatch.cause.module, 'tasks.ts');
  assert.equal(mismatch.cause.workerId, 'changed-worker');
  assert.match(mismatch.cause.message, /not the flow's version/);
});

test('a marked class crosses to a worker whose checkout lives at another path, and back: each side finds it in its own copy', async () => {
  const elsewhere = workerOn('classes', () => undefined);
  await elsewhere.worker.waitFor(/joined/, 60_000);
  const main = flow(async function movePoint() {
    return move.submit(new Point(1), 2).result();
  }, { taskRunner: new DistributedTaskRunner({ address: `${redis.address}?prefix=classes`, root: PROJECT }) });
  const moved = await main();
  assert.ok(moved instanceof Point, 'the result has the flow\'s Point back');
  assert.equal(moved.x, 3);
  assert.equal(moved.madeIn, pathToFileURL(join(elsewhere.dir, 'point.ts')).href, 'made by the worker\'s copy of the class');
  // Through getClient() in a task: from the worker to the flow's process, back to a worker, and the answer home.
  const nested = await flow(async function moveNestedPoint() {
    return moveNested.submit(new Point(1), 5).result();
  }, { taskRunner: new DistributedTaskRunner({ address: `${redis.address}?prefix=classes`, root: PROJECT }) })();
  assert.ok(nested instanceof Point);
  assert.equal(nested.x, 6);
});
