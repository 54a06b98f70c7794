// @needs redis-server
/**
 * `weft worker` as an operator meets it, with real processes and real redis-servers: a bad
 * address fails fast with its real cause (refused, host not found, authentication), a worker whose
 * cluster went away ends after --death-timeout, Ctrl-C says what it waits for and a second Ctrl-C
 * hands the tasks back, and worker ids stay unique across containers sharing a hostname and pid.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { DistributedTaskRunner, flow } from '../../src/index.ts';
import { freePort, RedisServer } from '../../src/cluster/redis-server.ts';
import { sleepy } from '../fixtures/cluster/tasks.ts';
import { until } from '../helpers/eventually.ts';
import { alive, startCli, startRedis, ROOT, type CliProcess } from '../helpers/redis.ts';

const BIN = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));
const servers: RedisServer[] = [];
const clis: CliProcess[] = [];
let scratch: string;

before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'weft-cli-worker-'));
});

after(async () => {
  for (const c of clis) await c.stop('SIGKILL');
  for (const s of servers) await s.stop();
  for (const c of clis) assert.equal(alive(c.child.pid), false);
  rmSync(scratch, { recursive: true, force: true });
});

async function server(): Promise<RedisServer> {
  const s = await startRedis();
  servers.push(s);
  return s;
}

function worker(args: string[]): CliProcess {
  const cli = startCli(['worker', ...args]);
  clis.push(cli);
  return cli;
}

/** A command wrapped by `unshare` (a namespace of the test's own), with its output and exit. */
function inNamespace(unshare: string[], command: string[]): CliProcess {
  const child = spawn('unshare', [...unshare, ...command], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const cli: CliProcess = {
    child,
    output: () => out,
    async waitFor(pattern, ms = 20_000) {
      await until(() => pattern.test(out), ms, `${pattern} in:\n${out}`);
      return out.match(pattern) as RegExpMatchArray;
    },
    // unshare itself ignores SIGTERM; killed, it hands its child the --kill-child signal.
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      return exited;
    },
  };
  clis.push(cli);
  return cli;
}

const canUnshare = (flags: string[]) => spawnSync('unshare', [...flags, 'true']).status === 0;

/** Resolves the exit code, or fails after `ms` (a hang). */
function exitWithin(cli: CliProcess, ms: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`still running after ${ms} ms:\n${cli.output()}`)), ms);
    const done = (code: number | null) => {
      clearTimeout(timer);
      resolve(code);
    };
    if (cli.child.exitCode !== null) return done(cli.child.exitCode);
    cli.child.once('exit', done);
  });
}

describe('weft worker --address: a bad address fails at once, saying why', () => {
  it('connection refused: nothing listens there', async () => {
    const port = await freePort();
    const w = worker(['--address', `redis://127.0.0.1:${port}`]);
    assert.equal(await exitWithin(w, 30_000), 1);
    assert.match(w.output(), new RegExp(`connection refused: nothing listens on 127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(w.output(), /Connection is closed/);
  });

  it('host not found: the name does not resolve', { skip: canUnshare(['-n', '-m']) ? false : 'needs unshare -n -m (root)' }, async () => {
    // A private network and name service (hosts from /etc/hosts only): the lookup fails here, with no DNS traffic.
    const nss = join(scratch, 'nsswitch.conf');
    writeFileSync(nss, 'hosts: files\n');
    const w = inNamespace(['-n', '-m'], ['sh', '-c', `mount --bind ${nss} /etc/nsswitch.conf && exec ${process.execPath} ${BIN} worker --address redis://no-such-host.invalid:6379`]);
    assert.equal(await exitWithin(w, 30_000), 1);
    assert.match(w.output(), /host not found: 'no-such-host\.invalid' does not resolve/);
  });

  it('authentication: no password, a wrong one, and the right one', async () => {
    const s = await server();
    const admin = new Redis(s.port, '127.0.0.1');
    await admin.config('SET', 'requirepass', 's3cret');
    admin.disconnect();
    const none = worker(['--address', s.address]);
    const wrong = worker(['--address', `redis://:nope@127.0.0.1:${s.port}`]);
    assert.equal(await exitWithin(none, 30_000), 1);
    assert.equal(await exitWithin(wrong, 30_000), 1);
    assert.match(none.output(), /authentication required: the server needs a password and the address gives none/);
    assert.match(wrong.output(), /authentication failed: the password in the address is wrong \(WRONGPASS/);
    const right = worker(['--address', `redis://:s3cret@127.0.0.1:${s.port}`]);
    await right.waitFor(/joined redis:\/\/:\*\*\*@127\.0\.0\.1/);
    assert.doesNotMatch(right.output(), /s3cret/, 'the password is never printed');
    assert.equal(await right.stop('SIGTERM'), 0);
  });
});

describe('weft worker --death-timeout', () => {
  it('a worker whose cluster went away says so, then stops after the timeout with exit code 1', async () => {
    const s = await server();
    const w = worker(['--address', s.address, '--death-timeout', '2']);
    await w.waitFor(/joined/);
    await s.stop();
    await w.waitFor(/lost the cluster at redis:\/\/127\.0\.0\.1:\d+; trying again for up to 2 s \(--death-timeout\)/);
    assert.equal(await exitWithin(w, 30_000), 1);
    assert.match(w.output(), /has been unreachable for 2 s \(--death-timeout\); stopping/);
  });

  it('a worker whose cluster comes back in time keeps running', async () => {
    const s = await server();
    const port = s.port;
    const w = worker(['--address', s.address, '--death-timeout', '30']);
    await w.waitFor(/joined/);
    await s.stop();
    await w.waitFor(/lost the cluster/);
    const again = new RedisServer();
    await again.start({ port });
    servers.push(again);
    await w.waitFor(/reconnected to redis:\/\/127\.0\.0\.1/, 30_000);
    assert.equal(w.child.exitCode, null);
    assert.equal(await w.stop('SIGTERM'), 0);
  });
});

describe('weft worker and Ctrl-C', () => {
  it('the first Ctrl-C says what it waits for; the second hands the running tasks back at once', async () => {
    const s = await server();
    const w = worker(['--address', s.address, '--concurrency', '3', '--grace-ms', '60000', '--lock-ms', '1000']);
    await w.waitFor(/joined/);
    const hold = flow(async function hold() {
      return Promise.all([1, 2, 3].map(() => sleepy.submit(120_000)));
    }, { taskRunner: new DistributedTaskRunner({ address: s.address }) });
    const run = hold.run();
    let started = 0;
    run.on('task-run:started', () => void started++);
    await until(() => started === 3, 30_000, 'three tasks running on the worker');
    w.child.kill('SIGINT');
    await w.waitFor(/stopping: finishing 3 running tasks \(up to 60 s, --grace-ms\); Ctrl-C again hands them back now/);
    assert.equal(w.child.exitCode, null, 'the worker waits for its tasks');
    w.child.kill('SIGINT');
    await w.waitFor(/SIGINT again: handing 3 running tasks back now/);
    // Far sooner than the 60 s grace: the tasks were handed back, not waited for.
    assert.equal(await exitWithin(w, 20_000), 0);
    run.cancel('test over');
    await assert.rejects(run.result());
  });
});

describe('worker ids', () => {
  it('stay unique across containers that share a hostname and a pid', { skip: canUnshare(['-p', '-f']) ? false : 'needs unshare -p (root)' }, async () => {
    const s = await server();
    const address = `${s.address}?prefix=ids`;
    // Each worker is pid 1 in a pid namespace of its own, on the same host: two containers, as far as ids go.
    const command = [process.execPath, BIN, 'worker', '--address', address, '--concurrency', '1'];
    const a = inNamespace(['-p', '--kill-child=SIGTERM'], command);
    const b = inNamespace(['-p', '--kill-child=SIGTERM'], command);
    const idOf = async (w: CliProcess) => (await w.waitFor(/weft worker (\S+): joined/))[1] as string;
    const [idA, idB] = await Promise.all([idOf(a), idOf(b)]);
    const pattern = new RegExp(`^${hostname().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-1-[0-9a-f]{6}$`);
    assert.match(idA, pattern);
    assert.match(idB, pattern);
    assert.notEqual(idA, idB);
    const redis = new Redis(s.port, '127.0.0.1');
    try {
      assert.deepEqual((await redis.hkeys('ids:workers')).sort(), [idA, idB].sort());
      await a.stop();
      await b.stop();
      // The workers got SIGTERM from --kill-child and leave the registry as they stop.
      await until(async () => (await redis.hkeys('ids:workers')).length === 0, 20_000, 'both workers gone');
    } finally {
      redis.disconnect();
    }
  });
});
