// @needs redis-server
/**
 * A long-lived cluster shared by address: several flow runs (and processes), priority, resources,
 * the missing-resource warning, refused modules, nested fan-out, and `weft cluster up`.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL, fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { flow, annotate, DistributedTaskRunner, SerializationError, TaskRunError, TaskNotFoundError } from '../../src/index.ts';
import { takesAnything } from '../fixtures/core/money.ts';
import type { Task } from '../../src/index.ts';
import { RedisServer } from '../../src/cluster/redis-server.ts';
import { double, gpu, sleepy, whereAmI, fanOut } from '../fixtures/cluster/tasks.ts';
import { sharedFlow } from '../fixtures/cluster/shared-flow.ts';
import { alive, startCli, startRedis, startWorker, ROOT, type CliProcess } from '../helpers/redis.ts';
import { until } from '../helpers/eventually.ts';

let redis: RedisServer;
let dir: string;
const workers: CliProcess[] = [];

before(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'weft-shared-'));
});

after(async () => {
  for (const w of workers) await w.stop();
  await redis.stop();
  for (const w of workers) assert.equal(alive(w.child.pid), false);
  assert.equal(alive(redis.pid), false);
  rmSync(dir, { recursive: true, force: true });
});

const on = (address: string) => new DistributedTaskRunner({ address });

test('flow runs in several processes share one cluster, each seeing only its own results', async () => {
  const address = `${redis.address}?prefix=share`;
  workers.push(await startWorker(address, ['--concurrency', '2']));
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('../fixtures/cluster/shared-flow.ts', import.meta.url)), address, '1000'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const [mine, again] = await Promise.all([sharedFlow.withOptions({ taskRunner: on(address) })(0), sharedFlow.withOptions({ taskRunner: on(address) })(500)]);
  assert.equal(await exited, 0);
  assert.deepEqual(mine, Array.from({ length: 50 }, (_, i) => 2 * i));
  assert.deepEqual(again, Array.from({ length: 50 }, (_, i) => 2 * (500 + i)));
  assert.deepEqual(JSON.parse(out), Array.from({ length: 50 }, (_, i) => 2 * (1000 + i)));
});

test('priority: higher first among queued tasks on a one-thread worker', async () => {
  const address = `${redis.address}?prefix=prio`;
  workers.push(await startWorker(address, ['--concurrency', '1']));
  const order: number[] = [];
  const main = flow(async function prioritized() {
    const blocker = sleepy.submit(300); // occupies the only slot while the rest queue up
    const priorities = [1, 5, 3, 9, 2, 7];
    const rest = priorities.map((p) => annotate({ priority: p }, () => whereAmI.withOptions({ name: `p${p}` }).submit(0)));
    await blocker.result();
    await Promise.all(rest.map((f) => f.result()));
  }, { taskRunner: on(address) });
  const run = main.run();
  run.on('task-run:started', (e) => {
    if (e.taskName.startsWith('p')) order.push(Number(e.taskName.slice(1)));
  });
  await run.result();
  assert.deepEqual(order, [9, 7, 5, 3, 2, 1]);
});

test('resources: { GPU: 1 } tasks run only on the worker that declares it, one at a time', async () => {
  const address = `${redis.address}?prefix=gpu`;
  const plain = await startWorker(address, ['--concurrency', '2']);
  const withGpu = await startWorker(address, ['--concurrency', '2', '--resources', 'GPU=1']);
  workers.push(plain, withGpu);
  const main = flow(async function gpus() {
    return Promise.all(gpu.map([150, 150, 150]));
  }, { taskRunner: on(address) });
  const runs = (await main()).sort((a, b) => a.started - b.started);
  for (const r of runs) assert.equal(r.pid, withGpu.child.pid, 'ran on the GPU worker');
  for (let i = 1; i < runs.length; i++) assert.ok((runs[i]?.started ?? 0) >= (runs[i - 1]?.ended ?? 0), 'one at a time: the GPU is held while a task runs');
});

test('a task whose resources no worker has stays queued, and the runner warns naming the task and resource', async () => {
  const address = `${redis.address}?prefix=tpu`;
  workers.push(await startWorker(address, ['--concurrency', '1']));
  const warnings: string[] = [];
  const needsTpu = double.withOptions({ name: 'needsTpu', resources: { TPU: 2 } });
  const main = flow(async function missingResource() {
    return needsTpu.submit(1).result();
  }, { taskRunner: on(address) });
  const run = main.run();
  run.on('runner:warning', (e) => warnings.push(e.message));
  await until(() => warnings.length > 0, 10_000, 'the warning');
  assert.match(warnings[0] ?? '', /needsTpu/);
  assert.match(warnings[0] ?? '', /'TPU'/);
  assert.equal(run.state, 'Running', 'still queued, not failed');
  run.cancel('no TPU');
  assert.equal((await run).state, 'Cancelled');
});

test('workers refuse a job naming a module outside their project root, without importing it', async () => {
  const address = `${redis.address}?prefix=refuse`;
  workers.push(await startWorker(address, ['--concurrency', '1']));
  const outside = join(dir, 'evil.ts');
  writeFileSync(outside, [
    `import { writeFileSync } from 'node:fs';`,
    `import { task } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};`,
    `writeFileSync(${JSON.stringify(dir)} + '/imported-' + process.pid, '');`,
    `export const evil = task(function evil() { return 'ran'; });`,
  ].join('\n'));
  const { evil } = (await import(pathToFileURL(outside).href)) as { evil: Task<[], string> };
  const worker = workers.at(-1) as CliProcess;
  const main = flow(async function refused() {
    const errors = await Promise.all(Array.from({ length: 20 }, () => evil.submit().result().catch((e: unknown) => e)));
    return errors;
  }, { taskRunner: on(address) });
  const errors = await main();
  assert.equal(errors.filter((e) => e instanceof TaskRunError && e.cause instanceof TaskNotFoundError).length, 20, 'every run fails, naming why');
  const said = worker.output().match(/refused task 'evil'/g) ?? [];
  assert.equal(said.length, 1, `the worker says so once, not once per run:\n${worker.output()}`);
  const error = errors[0];
  assert.ok(error instanceof TaskRunError);
  assert.ok(error.cause instanceof TaskNotFoundError);
  assert.match((error.cause as Error).message, /outside the worker's project root/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('imported-')), [`imported-${process.pid}`], 'only this test process imported it');
});

test('workers refuse an argument whose marked class lives outside their project root, without importing its module', async () => {
  const address = `${redis.address}?prefix=refuse-class`;
  workers.push(await startWorker(address, ['--concurrency', '1']));
  const outside = join(dir, 'evil-class.ts');
  writeFileSync(outside, [
    `import { writeFileSync } from 'node:fs';`,
    `import { serializable } from ${JSON.stringify(pathToFileURL(join(ROOT, 'src/index.ts')).href)};`,
    `writeFileSync(${JSON.stringify(dir)} + '/class-imported-' + process.pid, '');`,
    `export class Evil { constructor(readonly x: number) {} }`,
    `serializable(Evil);`,
  ].join('\n'));
  const { Evil } = (await import(pathToFileURL(outside).href)) as { Evil: new (x: number) => object };
  const main = flow(async function refusedClass() {
    return takesAnything.submit(new Evil(1)).result().catch((e: unknown) => e);
  }, { taskRunner: on(address) });
  const error = await main();
  assert.ok(error instanceof TaskRunError, String(error));
  assert.ok(error.cause instanceof SerializationError, String(error.cause));
  assert.equal(error.cause.problem, 'class-not-found');
  assert.match(error.cause.message, /`Evil`.*outside the worker's project root/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('class-imported-')), [`class-imported-${process.pid}`], 'only this test process imported it');
});

test('getClient() inside a task fans out onto the same cluster, even on a one-slot worker', async () => {
  const address = `${redis.address}?prefix=nested`;
  workers.push(await startWorker(address, ['--concurrency', '1']));
  const main = flow(async function nested() {
    return fanOut.submit(10).result();
  }, { taskRunner: on(address) });
  assert.equal(await main(), 285);
});

test('weft cluster up prints an address, runs flows, and stops cleanly on SIGINT', async () => {
  const cluster = startCli(['cluster', 'up', '--workers', '1', '--threads-per-worker', '1']);
  try {
    const [, address] = await cluster.waitFor(/address: (redis:\/\/\S+)/);
    const main = flow(async function onClusterUp() {
      return Promise.all(whereAmI.map([0, 0]));
    }, { taskRunner: on(address as string) });
    const where = await main();
    const redisPid = await (async () => {
      const client = new Redis(address as string);
      const info = await client.info('server');
      client.disconnect();
      return Number(/process_id:(\d+)/.exec(info)?.[1]);
    })();
    assert.equal(await cluster.stop('SIGINT'), 0);
    assert.match(cluster.output(), /stopped/);
    for (const pid of [redisPid, ...where.map((w) => w.pid)]) assert.equal(alive(pid), false, `process ${pid} is gone`);
  } finally {
    await cluster.stop('SIGKILL');
  }
});

test('a cluster with no live worker: runs wait, and the runner says so', async () => {
  const address = `${redis.address}?prefix=empty`;
  const warnings: string[] = [];
  const main = flow(async function noWorkers() {
    return double.submit(1).result();
  }, { taskRunner: on(address) });
  const run = main.run();
  run.on('runner:warning', (e) => warnings.push(e.message));
  await until(() => warnings.length > 0, 10_000, 'the warning');
  assert.match(warnings[0] ?? '', /No live worker/);
  run.cancel('nobody home');
  assert.equal((await run).state, 'Cancelled');
});
