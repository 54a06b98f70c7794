// @needs redis-server
/**
 * A temporary cluster never outlives its flow's process, however it ends: the process that started
 * a LocalCluster is killed at each point (SIGKILL before its workers are up, SIGKILL after, an
 * uncaught error after), and every process it started (redis-server, workers, the watchdog) must
 * be gone, checked by pid. The process tree is read from /proc (Linux).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { alive } from '../helpers/redis.ts';
import { until } from '../helpers/eventually.ts';

const FIXTURE = fileURLToPath(new URL('../fixtures/cluster/orphan.ts', import.meta.url));
const noProc = existsSync('/proc/self/stat') ? false : 'needs /proc (Linux) to find the processes a process started';

/** Every process below `root` now: pid and command line, from /proc. */
function descendants(root: number): Map<number, string> {
  const parents = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const out = new Map<number, string>();
  const walk = (pid: number) => {
    for (const child of parents.get(pid) ?? []) {
      try {
        out.set(child, readFileSync(`/proc/${child}/cmdline`, 'utf8').replace(/\0/g, ' ').trim());
      } catch {
        continue;
      }
      walk(child);
    }
  };
  walk(root);
  return out;
}

function start(mode: 'idle' | 'throw'): { child: ChildProcess; output: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', FIXTURE, mode], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  return { child, output: () => out };
}

/** Kills `pids` left over (a failing case must not leak them either) and asserts there were none. */
async function assertAllGone(pids: Map<number, string>, what: string): Promise<void> {
  try {
    await until(() => ![...pids.keys()].some(alive), 15_000, `every process of the cluster to go (${what})`);
  } catch (error) {
    const left = [...pids].filter(([pid]) => alive(pid));
    for (const [pid] of left) process.kill(pid, 'SIGKILL');
    assert.fail(`${(error as Error).message}; still alive: ${left.map(([pid, cmd]) => `${pid} ${cmd}`).join('; ')}`);
  }
}

test('SIGKILL before the workers are up: Redis, the booting workers and the watchdog go', { skip: noProc }, async () => {
  const { child, output } = start('idle');
  let seen = new Map<number, string>();
  // As soon as Redis and both worker processes exist, and before the cluster said it started.
  await until(() => {
    seen = descendants(child.pid as number);
    const cmds = [...seen.values()];
    return cmds.some((c) => c.includes('redis-server')) && cmds.filter((c) => c.includes('worker-main')).length === 2;
  }, 60_000, 'redis-server and two worker processes to be started');
  child.kill('SIGKILL');
  assert.equal(output().includes('"workers"'), false, 'killed before the cluster was up');
  await assertAllGone(seen, 'killed while its workers booted');
});

test('SIGKILL after the workers are up: every cluster process goes', { skip: noProc }, async () => {
  const { child, output } = start('idle');
  await until(() => output().includes('"workers"'), 60_000, 'the cluster to start');
  const seen = descendants(child.pid as number);
  const pids = JSON.parse(output().trim().split('\n').at(-1) as string) as { redis: number; workers: number[] };
  for (const pid of [pids.redis, ...pids.workers]) assert.ok(seen.has(pid), `${pid} is among the processes it started`);
  child.kill('SIGKILL');
  await assertAllGone(seen, 'killed with SIGKILL');
});

test('an uncaught error after the cluster started: every cluster process goes', { skip: noProc }, async () => {
  const { child, output } = start('throw');
  let seen = new Map<number, string>();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await until(() => {
    if (output().includes('"workers"')) seen = new Map([...seen, ...descendants(child.pid as number)]);
    return seen.size >= 4; // redis-server, two workers, the watchdog
  }, 60_000, 'the cluster to start');
  assert.notEqual(await exited, 0);
  assert.match(output(), /the flow died of an uncaught error/);
  await assertAllGone(seen, 'died of an uncaught error');
});
