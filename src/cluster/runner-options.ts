import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { RedisOptions } from 'ioredis';
import { InvalidOptionError } from '../errors.ts';
import * as v from '../util/validate.ts';
import { projectRoot, type AdaptOptions, type Cluster } from './cluster.ts';
import { parseAddress, type ClusterAddress } from './connection.ts';
import type { LocalCluster } from './local-cluster.ts';
import { resolveAdapt } from './scaler.ts';
import type { ClientSettings } from './session.ts';
import type { AdaptivePolicy } from '../schedule/adaptive.ts';
import { checkReportPath } from '../report/report-path.ts';

/**
 * A temporary cluster's kind: a class (`LocalCluster`), a factory function returning a cluster
 * (or a promise of one), or a `'module:Export'` string naming either (`'weftjs:LocalCluster'`,
 * `'./my-cluster.ts:SshCluster'`; a relative module resolves from the module that built the runner).
 */
export type ClusterClass = (abstract new (...args: never[]) => Cluster) | ((...args: never[]) => Cluster | Promise<Cluster>) | string;

/** Connection and client settings (Dask's `client_kwargs`). */
export interface ClientOptions {
  /** Connecting to a cluster taking longer than this fails with ClusterConnectionError. @default 5000 */
  connectTimeoutMs?: number;
  /** A connection lost for longer than this fails every pending task run with ClusterConnectionError. @default 5000 */
  reconnectTimeoutMs?: number;
  /** Passed through to ioredis: TLS certificates (`tls: { ca }`), `username`, `password`, timeouts... */
  redis?: RedisOptions;
}

interface CommonOptions {
  clientOptions?: ClientOptions;
  /** Times a task may lose its worker (SIGKILL, crash) and run again elsewhere before it crashes with WorkerCrashedError. @default 3 */
  allowedFailures?: number;
  /** Write the run's HTML performance report here when it ends (its directory must exist and be writable). */
  performanceReport?: string;
  /**
   * The project root: task modules go to workers named relative to it, and each worker finds them
   * under its own root (`weft worker --root`), wherever its checkout lives. @default the nearest package.json's directory above the current one
   */
  root?: string;
}

/** Connect to an existing cluster (`weft cluster up`, workers you run): many flow runs may share it. */
export interface AddressOptions extends CommonOptions {
  /**
   * `redis://host:6379`, `rediss://:password@host:6380`; `?prefix=name` keeps clusters apart on one
   * Redis. A Redis Cluster: `redis+cluster://h1:6379,h2:6379` (`rediss+cluster://` for TLS; the
   * password as in `redis://`; `&shards=N` for the task queues' shards, by default one per master).
   */
  address: string;
  clusterClass?: never;
  clusterOptions?: never;
  adapt?: never;
}

/**
 * What a cluster class takes as its options: its constructor's or factory's first parameter; for
 * a `'module:Export'` string, which the type checker cannot follow, any plain object.
 */
export type ClusterOptionsOf<C extends ClusterClass> =
  C extends string ? Record<string, unknown>
  : C extends abstract new (...args: infer A) => Cluster ? A[0]
  : C extends (...args: infer A) => Cluster | Promise<Cluster> ? A[0]
  : never;

/** Start a temporary cluster that lives exactly as long as the flow run. */
export interface TemporaryClusterOptions<C extends ClusterClass = typeof LocalCluster> extends CommonOptions {
  address?: never;
  /** @default LocalCluster */
  clusterClass?: C;
  /** Passed to the cluster class, e.g. `{ workers: 2, threadsPerWorker: 4, resources: { GPU: 1 } }` for a LocalCluster; typed by `clusterClass`. */
  clusterOptions?: ClusterOptionsOf<C>;
  /** Adaptive scaling between the bounds, by backlog. */
  adapt?: AdaptOptions;
}

/**
 * Options of a {@link DistributedTaskRunner}: an `address`, or a temporary cluster's settings,
 * never both. `C` is the cluster class, which types `clusterOptions`.
 */
export type DistributedTaskRunnerOptions<C extends ClusterClass = typeof LocalCluster> = AddressOptions | TemporaryClusterOptions<C>;

export interface ResolvedDistributedOptions {
  readonly address: ClusterAddress | undefined;
  readonly clusterClass: ClusterClass | undefined;
  readonly clusterOptions: Record<string, unknown> | undefined;
  readonly adapt: AdaptivePolicy | undefined;
  readonly client: ClientSettings;
  readonly performanceReport: string | undefined;
}

const KEYS = ['address', 'clusterClass', 'clusterOptions', 'adapt', 'clientOptions', 'allowedFailures', 'performanceReport', 'root'] as const;

/** Validates the runner's options once, at construction. */
export function resolveDistributedOptions(raw: DistributedTaskRunnerOptions<ClusterClass> | undefined): ResolvedDistributedOptions {
  const o = v.plainObject('options', raw ?? {});
  v.knownKeys('options', o, KEYS);
  if (o.address !== undefined) {
    for (const key of ['clusterClass', 'clusterOptions', 'adapt'] as const) {
      if (o[key] !== undefined) {
        throw new InvalidOptionError(key, `left out when \`address\` is given: \`address\` connects to an existing cluster and \`${key}\` configures a temporary one; pass one or the other`, o[key]);
      }
    }
  }
  const c = v.plainObject('clientOptions', o.clientOptions ?? {});
  v.knownKeys('clientOptions', c, ['connectTimeoutMs', 'reconnectTimeoutMs', 'redis']);
  return {
    address: o.address === undefined ? undefined : parseAddress('address', o.address),
    clusterClass: o.clusterClass === undefined ? undefined : checkClusterClass(o.clusterClass),
    clusterOptions: o.clusterOptions === undefined ? undefined : v.plainObject('clusterOptions', o.clusterOptions),
    adapt: o.adapt === undefined ? undefined : resolveAdapt('adapt', o.adapt),
    performanceReport: o.performanceReport === undefined ? undefined : checkReportPath('performanceReport', o.performanceReport),
    client: {
      connectTimeoutMs: c.connectTimeoutMs === undefined ? 5000 : v.number('clientOptions.connectTimeoutMs', c.connectTimeoutMs, 1),
      reconnectTimeoutMs: c.reconnectTimeoutMs === undefined ? 5000 : v.number('clientOptions.reconnectTimeoutMs', c.reconnectTimeoutMs, 0),
      redis: c.redis === undefined ? undefined : (v.plainObject('clientOptions.redis', c.redis) as RedisOptions),
      allowedFailures: o.allowedFailures === undefined ? 3 : v.integer('allowedFailures', o.allowedFailures, 0),
      // A temporary cluster's workers look under its root: name modules from the same one.
      root: o.root !== undefined ? v.string('root', o.root) : clusterRoot(o.clusterOptions) ?? projectRoot(),
    },
  };
}

function clusterRoot(options: unknown): string | undefined {
  const root = (options as { root?: unknown } | undefined)?.root;
  return typeof root === 'string' ? root : undefined;
}

const CLASS_TEXT = "a cluster class, a factory function, or a 'module:Export' string such as 'weftjs:LocalCluster' or './cluster.ts:MyCluster'";

function checkClusterClass(value: unknown): ClusterClass {
  if (typeof value === 'function') return value as ClusterClass;
  if (typeof value === 'string' && splitSpec(value)) return value;
  throw new InvalidOptionError('clusterClass', CLASS_TEXT, value);
}

function splitSpec(spec: string): { module: string; name: string } | undefined {
  const at = spec.lastIndexOf(':');
  const module = spec.slice(0, at);
  const name = spec.slice(at + 1);
  if (at <= 0 || !/^[A-Za-z_$][\w$]*$/.test(name) || module.endsWith('/')) return undefined;
  return { module, name };
}

/**
 * Makes the cluster a `clusterClass` names: `new C(options)` for a class, `f(options)` for a
 * factory, after importing a `'module:Export'` string (relative to `base`, the module that built
 * the runner; `weftjs` (or the old name `weft`) is this package).
 */
export async function makeCluster(clusterClass: ClusterClass, options: Record<string, unknown> | undefined, base: string | undefined, weftEntry: string): Promise<Cluster> {
  let target: unknown = clusterClass;
  if (typeof clusterClass === 'string') {
    const { module, name } = splitSpec(clusterClass) as { module: string; name: string };
    const url = module === 'weftjs' || module === 'weft' ? weftEntry
      : module.startsWith('./') || module.startsWith('../') ? new URL(module, base ?? pathToFileURL(`${process.cwd()}/`)).href
      : isAbsolute(module) ? pathToFileURL(module).href
      : module;
    let exports: Record<string, unknown>;
    try {
      exports = (await import(url)) as Record<string, unknown>;
    } catch (error) {
      throw new InvalidOptionError('clusterClass', `${CLASS_TEXT}, naming a module that can be imported (importing ${url} failed: ${(error as Error).message})`, clusterClass);
    }
    target = exports[name];
    if (typeof target !== 'function') {
      const names = Object.keys(exports).filter((k) => typeof exports[k] === 'function').join(', ') || 'none';
      throw new InvalidOptionError('clusterClass', `${CLASS_TEXT}: ${url} has no exported class or function '${name}' (its functions: ${names})`, clusterClass);
    }
  }
  const fn = target as { prototype?: { start?: unknown } } & ((o: unknown) => unknown) & (new (o: unknown) => unknown);
  const made = typeof fn.prototype?.start === 'function' ? new fn(options) : await fn(options);
  const cluster = made as Partial<Cluster> | undefined;
  if (!cluster || typeof cluster.start !== 'function' || typeof cluster.close !== 'function') {
    throw new InvalidOptionError('clusterClass', `${CLASS_TEXT} that makes an object with start(), close() and address`, made);
  }
  return cluster as Cluster;
}
