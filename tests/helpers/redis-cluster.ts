/**
 * A private Redis Cluster for a test file: N masters (and optionally a replica each) started as
 * `redis-server --cluster-enabled yes` on free loopback ports, joined with
 * `redis-cli --cluster create ... --cluster-yes`, in its own temporary directory (the nodes'
 * cluster config files). Everything it started is removed by `stop()`, and by a failed start too.
 */
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../src/cluster/redis-server.ts';
import { killWithParent } from '../../src/util/watchdog.ts';
import { until } from './eventually.ts';
import { scratchDir } from './scratch.ts';

const run = promisify(execFile);
const SERVER = process.env.WEFT_REDIS_SERVER ?? 'redis-server';
const CLI = process.env.WEFT_REDIS_CLI ?? 'redis-cli';

/**
 * Why a Redis Cluster cannot be started here, or undefined if it can: redis-server 7+ (sharded
 * pub/sub, `cluster-port`) and redis-cli must both be found. Tests skip with this reason.
 */
export function clusterUnsupported(): string | undefined {
  const server = spawnSync(SERVER, ['--version'], { encoding: 'utf8' });
  if (server.status !== 0) return `no ${SERVER} here`;
  const major = Number(/v=(\d+)/.exec(server.stdout)?.[1] ?? 0);
  if (major < 7) return `${SERVER} ${major} runs no Redis Cluster with sharded pub/sub (7 or later needed)`;
  if (spawnSync(CLI, ['--version']).status !== 0) return `no ${CLI} here (it creates the cluster)`;
  return undefined;
}

/** One node of a test cluster. */
export interface ClusterNode {
  readonly port: number;
  readonly child: ChildProcess;
}

export interface TestRedisCluster {
  /** `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,...` (every master as a seed). */
  readonly address: string;
  readonly nodes: readonly ClusterNode[];
  /** Ports of the current masters, read from the cluster. */
  masters(): Promise<number[]>;
  /** The port of the master that serves `key`'s slot now. */
  masterOf(key: string): Promise<number>;
  /** SIGKILLs the node on `port` and resolves once it has exited. */
  kill(port: number): Promise<void>;
  /** Resolves once every live node reports `cluster_state:ok` (after a failover, say). */
  healthy(timeoutMs?: number): Promise<void>;
  /** `redis-cli -p port args...`, its output. */
  cli(port: number, ...args: string[]): Promise<string>;
  /** Pids of the nodes still running. */
  readonly pids: number[];
  stop(): Promise<void>;
}

export interface TestClusterOptions {
  /** @default 3 */
  readonly masters?: number;
  /** A replica per master (for failover tests). @default false */
  readonly replicas?: boolean;
  /** Unref the processes, so a cluster shared by a whole test file does not keep its loop alive. */
  readonly background?: boolean;
}

const running = (node: ClusterNode): boolean => node.child.exitCode === null && node.child.signalCode === null;

/** Starts a Redis Cluster; on any failure, what was started is stopped before the error is thrown. */
export async function startRedisCluster(options: TestClusterOptions = {}): Promise<TestRedisCluster> {
  const masters = options.masters ?? 3;
  const count = masters * (options.replicas ? 2 : 1);
  // Removed by stop(), and at the latest when this process exits (a background cluster's file may end first).
  const dir = scratchDir('weft-rcluster');
  const nodes: ClusterNode[] = [];
  const exits = new Map<number, Promise<void>>();
  const cli = async (port: number, ...args: string[]) => (await run(CLI, ['-p', String(port), ...args], { timeout: 10_000 })).stdout;
  const stop = async () => {
    for (const node of nodes) {
      if (!running(node)) continue;
      // Referenced again: a background cluster's stop, in a file's last `after`, would otherwise let
      // the test process end before the nodes' exits, and their directory would be left behind.
      node.child.ref();
      node.child.kill('SIGKILL');
    }
    await Promise.all(exits.values());
    rmSync(dir, { recursive: true, force: true });
  };
  const live = () => nodes.filter(running);
  const healthy = async (timeoutMs = 20_000) => {
    await until(async () => {
      for (const node of live()) if (!(await cli(node.port, 'cluster', 'info').catch(() => '')).includes('cluster_state:ok')) return false;
      return true;
    }, timeoutMs, 'every node of the test Redis Cluster to report cluster_state:ok');
  };
  /**
   * One node on two free ports, answering PING. A free port can be taken between the check and the
   * server's bind (another test file, another cluster starting at once): a node that exits before it
   * answers is started again on fresh ports, up to 5 times.
   */
  const startNode = async (): Promise<ClusterNode> => {
    for (let tries = 1; ; tries++) {
      const port = await freePort();
      const bus = await freePort();
      const child = spawn(SERVER, [
        '--port', String(port), '--cluster-port', String(bus), '--bind', '127.0.0.1', '--cluster-enabled', 'yes',
        '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '1000', '--dir', dir,
        '--save', '', '--appendonly', 'no', '--protected-mode', 'no',
        // A replica starts its first sync at once (the default waits 5 s for more replicas, as long as
        // the replica's own sync timeout: a race that left replicas unsynced, unable to take over).
        '--repl-diskless-sync-delay', '0',
        // WEFT_RCLUSTER_LOGS=dir keeps each node's log there (a failover that does not happen says why).
        ...(process.env.WEFT_RCLUSTER_LOGS ? ['--logfile', join(process.env.WEFT_RCLUSTER_LOGS, `node-${port}.log`)] : []),
      ], { stdio: 'ignore' });
      // Gone with this test process however it ends (a file timeout, a crash): util/watchdog.ts.
      killWithParent(child);
      if (options.background) child.unref();
      exits.set(port, new Promise<void>((resolve) => child.once('exit', () => resolve())));
      const node = { port, child };
      const gone = () => !running(node);
      await until(async () => gone() || (await cli(port, 'ping').catch(() => '')).includes('PONG'), 5000, `cluster node ${port} to answer PING`).catch((error: unknown) => {
        nodes.push(node); // stopped with the rest
        throw error;
      });
      if (!gone()) return node;
      exits.delete(port);
      if (tries >= 5) throw new Error(`redis-server exited at start 5 times (ports taken?); last tried port ${port}, cluster bus ${bus}`);
    }
  };
  try {
    for (let i = 0; i < count; i++) nodes.push(await startNode());
    const replicas = options.replicas ? '1' : '0';
    await run(CLI, ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', replicas, '--cluster-yes'], { timeout: 30_000 });
    await healthy();
    // A replica that has not synced with its master cannot take over from it (it counts as
    // disconnected too long, cluster-replica-validity-factor): a failover test kills a master only
    // once every replica holds its master's data, as a deployed cluster's replicas do.
    if (options.replicas) {
      await until(async () => {
        for (const node of nodes) {
          const info = await cli(node.port, 'info', 'replication').catch(() => '');
          if (info.includes('role:slave') && !info.includes('master_link_status:up')) return false;
        }
        return true;
      }, 20_000, 'every replica of the test Redis Cluster to sync with its master');
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    address: `redis+cluster://${nodes.slice(0, masters).map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    nodes,
    get pids() {
      return live().flatMap((n) => (n.child.pid === undefined ? [] : [n.child.pid]));
    },
    async masters() {
      const seed = live()[0];
      if (!seed) return [];
      const text = await cli(seed.port, 'cluster', 'nodes');
      return text.split('\n').filter((line) => /\bmaster\b/.test(line) && !/\bfail\b/.test(line))
        .map((line) => Number(/:(\d+)@/.exec(line)?.[1])).filter((p) => Number.isInteger(p));
    },
    async masterOf(key) {
      const seed = live()[0];
      if (!seed) throw new Error('no live node');
      const slot = Number((await cli(seed.port, 'cluster', 'keyslot', key)).trim());
      for (const line of (await cli(seed.port, 'cluster', 'nodes')).split('\n')) {
        if (!/\bmaster\b/.test(line) || /\bfail\b/.test(line)) continue;
        const ranges = line.trim().split(' ').slice(8).map((r) => r.split('-').map(Number));
        if (ranges.some(([a, b]) => a !== undefined && slot >= a && slot <= (b ?? a))) return Number(/:(\d+)@/.exec(line)?.[1]);
      }
      throw new Error(`no master serves slot ${slot} of ${key}`);
    },
    async kill(port) {
      nodes.find((n) => n.port === port)?.child.kill('SIGKILL');
      await exits.get(port);
    },
    healthy,
    cli,
    stop,
  };
}
