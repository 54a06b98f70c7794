import { Cluster, Redis, type ClusterOptions, type RedisOptions } from './libs.ts';
type SingleRedis = import('ioredis').Redis;
import { ClusterConnectionError, ClusterModeError, InvalidOptionError } from '../errors.ts';
import { DEFAULT_PREFIX, keyPrefix } from './queues.ts';
import { MAX_SHARDS } from './ring.ts';

/** One server of an address: a single Redis, or a seed node of a Redis Cluster. */
export interface RedisNode {
  readonly host: string;
  readonly port: number;
}

/**
 * A cluster address, parsed once (here, and nowhere else):
 * - `redis://[user:password@]host:port[/db][?prefix=name]` (`rediss://` for TLS): one Redis;
 * - `redis+cluster://[user:password@]h1:p1,h2:p2[?prefix=name]` (`rediss+cluster://` for TLS): a
 *   Redis Cluster, named by some of its nodes (the seeds; the rest are discovered).
 */
export interface ClusterAddress {
  /** The address as given. */
  readonly url: string;
  /** The address with any password replaced by `***`, for messages and logs. */
  readonly display: string;
  /** Whether it names a Redis Cluster (`redis+cluster://`). */
  readonly cluster: boolean;
  /** The server, or the cluster's seed nodes. */
  readonly nodes: readonly RedisNode[];
  /** ioredis settings for it (host and port of the first node, credentials, db, TLS); on a cluster, those of each node. */
  readonly redis: RedisOptions;
  /**
   * The key prefix of weft's keys and queues: several clusters can share one Redis under different
   * prefixes. On a Redis Cluster it is hash-tagged (`{weft}`), see queues.ts's layout.
   */
  readonly prefix: string;
  /**
   * `?shards=N`: the task queues' shards on a Redis Cluster (ring.ts), when this address is the
   * first to reach it; by default one per master. Ignored on one Redis.
   */
  readonly shards?: number;
}

const EXPECTED = "a Redis URL such as 'redis://127.0.0.1:6379', 'rediss://:password@host:6380' (what `weft cluster up` prints) " +
  "or, for a Redis Cluster, 'redis+cluster://host1:6379,host2:6379'";

/** Parses and validates an address; throws {@link InvalidOptionError} naming `option` and the fix. */
export function parseAddress(option: string, address: unknown): ClusterAddress {
  if (typeof address !== 'string' || address.length === 0) throw new InvalidOptionError(option, EXPECTED, address);
  const clustered = /^(rediss?)\+cluster:\/\/(?:([^@/?#]*)@)?([^/?#]+)(.*)$/.exec(address);
  // A cluster address is read as a one-node URL on a stand-in host (credentials, path, query),
  // and its node list on its own: `new URL` takes no comma-separated hosts.
  const text = clustered ? `${clustered[1]}://${clustered[2] === undefined ? '' : `${clustered[2]}@`}seed${clustered[4]}` : address;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new InvalidOptionError(option, EXPECTED, address);
  }
  if ((url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') throw new InvalidOptionError(option, EXPECTED, address);
  const nodes = clustered ? (clustered[3] as string).split(',').map((seed) => parseNode(option, seed, address)) : [parseNode(option, url.host, address)];
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new InvalidOptionError(`${option} (database number)`, 'an integer ≥ 0 after the port, as in redis://host:6379/2', address);
  if (clustered && db !== 0) throw new InvalidOptionError(`${option} (database number)`, 'none: a Redis Cluster has database 0 only (redis+cluster://h1:p1,h2:p2)', address);
  const name = url.searchParams.get('prefix') ?? DEFAULT_PREFIX;
  if (!/^[\w.-]+$/.test(name)) throw new InvalidOptionError(`${option} (prefix)`, 'letters, digits, ".", "-" or "_"', name);
  const shardsText = url.searchParams.get('shards');
  const shards = shardsText === null ? undefined : Number(shardsText);
  if (shards !== undefined && (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS)) throw new InvalidOptionError(`${option} (shards)`, `an integer from 1 to ${MAX_SHARDS}, as in redis+cluster://h:p?shards=3`, shardsText);
  const first = nodes[0] as RedisNode;
  const redis: RedisOptions = {
    host: first.host,
    port: first.port,
    ...(clustered ? {} : { db }),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: clustered ? {} : { servername: first.host } } : {}),
  };
  return {
    url: address, display: hidePassword(address, url.password), cluster: clustered !== null, nodes, redis, prefix: keyPrefix(name, clustered !== null),
    ...(shards === undefined ? {} : { shards }),
  };
}

function parseNode(option: string, text: string, address: string): RedisNode {
  const match = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d+))?$/.exec(text.trim());
  if (!match) throw new InvalidOptionError(`${option} (node '${text}')`, 'host:port, as in redis+cluster://10.0.0.1:6379,10.0.0.2:6379', address);
  const port = match[2] === undefined ? 6379 : Number(match[2]);
  if (port < 1 || port > 65535) throw new InvalidOptionError(`${option} (port of '${text}')`, 'a port from 1 to 65535', address);
  return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port };
}

function hidePassword(address: string, password: string): string {
  if (!password) return address;
  return address.replace(/^([a-z+]+:\/\/[^:@/]*:)[^@/]*@/, '$1***@');
}

/** What a connection is for: blocking readers and BullMQ need `maxRetriesPerRequest: null`. */
export interface ConnectOptions {
  /** Extra ioredis settings from `clientOptions.redis` (TLS certificates, timeouts...). */
  readonly extra?: RedisOptions;
  /** Give up (and fail) when the first connection takes longer than this. */
  readonly connectTimeoutMs: number;
  readonly name: string;
}

/**
 * Opens a connection (one server, or an ioredis `Cluster` for a `redis+cluster://` address) and
 * checks it with PING within `connectTimeoutMs`: a dead or wrong address fails fast with
 * {@link ClusterConnectionError} naming it, instead of retrying forever, and an address of the
 * wrong kind (one node of a Redis Cluster, or a cluster address for a plain Redis) with
 * {@link ClusterModeError} naming the right one. After that first success the connection
 * reconnects on its own; whoever owns it decides how long a loss may last.
 */
export async function connect(address: ClusterAddress, options: ConnectOptions): Promise<Redis> {
  const redis = address.cluster ? newCluster(address, options) : newServer(address, options);
  // Errors surface through commands and the owner's 'close' handling; without a listener ioredis would print them.
  // The first one is kept: a failed connect() only says "Connection is closed", the event says why.
  let first: Error | undefined;
  redis.on('error', (error: Error) => (first ??= error));
  let timer: NodeJS.Timeout | undefined;
  try {
    const info = await Promise.race([
      redis.connect().then(() => redis.info('cluster')),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
      }),
    ]);
    if (!address.cluster && /cluster_enabled:1/.test(info)) throw new ClusterModeError(address.display, 'cluster', clusterForm(address));
  } catch (error) {
    redis.disconnect();
    if (error instanceof ClusterModeError) throw error;
    const cause = nodeError(first ?? error);
    if (address.cluster && /cluster support disabled/i.test(String((cause as Error)?.message))) {
      throw new ClusterModeError(address.display, 'server', singleForm(address), cause);
    }
    throw new ClusterConnectionError(address.display, explain(cause, address), cause);
  } finally {
    clearTimeout(timer);
  }
  // A Redis Cluster client watches its nodes itself (slot refreshes, node errors); a single server gets PINGs.
  if (isCluster(redis)) await fitFailoverTries(redis);
  else watchLiveness(redis);
  return redis;
}

/** A second connection like `redis` (for a subscriber, or a blocking reader): same servers, same settings. */
export function duplicate(redis: Redis): Redis {
  const copy: Redis = redis instanceof Cluster ? redis.duplicate() : redis.duplicate();
  copy.on('error', () => undefined);
  return copy;
}

/** Whether a connection is to a Redis Cluster. */
export function isCluster(redis: Redis): redis is Cluster {
  return redis instanceof Cluster;
}

function newServer(address: ClusterAddress, options: ConnectOptions): Redis {
  return new Redis({
    ...address.redis,
    ...options.extra,
    connectionName: options.name,
    lazyConnect: true,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectTimeout: options.connectTimeoutMs,
    retryStrategy: (times) => Math.min(50 * times, 500),
  });
}

/**
 * A Redis Cluster client. A command whose master died is tried again while a replica takes over:
 * every {@link FAILOVER_RETRY_MS} with a fresh slot map, up to {@link FAILOVER_RETRIES} times
 * (about 13 s; Redis promotes a replica after `cluster-node-timeout` plus an election, typically
 * 1-3 s beyond the timeout), more on a cluster with a longer timeout ({@link fitFailoverTries}).
 * Past that the command fails and its owner reports it.
 */
function newCluster(address: ClusterAddress, options: ConnectOptions): Cluster {
  const { host: _host, port: _port, ...perNode } = address.redis;
  const settings: ClusterOptions = {
    redisOptions: { ...perNode, ...options.extra, connectionName: options.name, maxRetriesPerRequest: null, enableReadyCheck: true, connectTimeout: options.connectTimeoutMs },
    lazyConnect: true,
    enableReadyCheck: true,
    clusterRetryStrategy: (times) => Math.min(50 * times, 500),
    retryDelayOnFailover: FAILOVER_RETRY_MS,
    retryDelayOnClusterDown: FAILOVER_RETRY_MS,
    retryDelayOnTryAgain: FAILOVER_RETRY_MS,
    maxRedirections: FAILOVER_RETRIES,
    slotsRefreshTimeout: Math.max(1000, Math.min(options.connectTimeoutMs, 5000)),
  };
  return new Cluster(address.nodes.map((n) => ({ host: n.host, port: n.port })), settings);
}

/** Delay between tries of a command during a Redis Cluster failover. */
export const FAILOVER_RETRY_MS = 200;
/** The fewest tries of a command during a Redis Cluster failover (with {@link FAILOVER_RETRY_MS}: about 13 s). */
export const FAILOVER_RETRIES = 64;
/** How long past `cluster-node-timeout` a failover's tries go on: the replicas' election and the promotion. */
export const FAILOVER_MARGIN_MS = 5000;

/**
 * Tries of a command during a failover on a cluster whose `cluster-node-timeout` is
 * `nodeTimeoutMs`: a replica takes over after that timeout and an election, so the tries last that
 * long and {@link FAILOVER_MARGIN_MS} more, and at least {@link FAILOVER_RETRIES}. With Redis's
 * default 15 s: 100 tries, about 20 s.
 */
export function failoverTries(nodeTimeoutMs: number): number {
  return Math.max(FAILOVER_RETRIES, Math.ceil((nodeTimeoutMs + FAILOVER_MARGIN_MS) / FAILOVER_RETRY_MS));
}

/**
 * Sizes a cluster client's failover tries from the cluster's own `cluster-node-timeout` (ioredis
 * reads `maxRedirections` per command, and `duplicate()` copies it). A cluster that does not answer
 * CONFIG (managed services often rename it) keeps {@link FAILOVER_RETRIES}.
 */
async function fitFailoverTries(redis: Cluster): Promise<void> {
  try {
    const reply = (await redis.config('GET', 'cluster-node-timeout')) as unknown;
    const timeoutMs = Array.isArray(reply) ? Number(reply[1]) : NaN;
    if (Number.isFinite(timeoutMs) && timeoutMs > 0) redis.options.maxRedirections = failoverTries(timeoutMs);
  } catch {
    // CONFIG refused or renamed: the default tries.
  }
}

/** A cluster client's "all nodes failed" error hides the node's own error: that one says why. */
function nodeError(error: unknown): unknown {
  return (error as { lastNodeError?: unknown } | undefined)?.lastNodeError ?? error;
}

/** The address as a Redis Cluster address: same nodes, credentials and prefix, no database. */
function clusterForm(address: ClusterAddress): string {
  return address.display.replace(/^(rediss?):\/\//, '$1+cluster://').replace(/(\/\d+)(?=\?|$)/, '');
}

/** The address as a single-server address (its first node). */
function singleForm(address: ClusterAddress): string {
  return address.display.replace(/^(rediss?)\+cluster:\/\//, '$1://').replace(/(@|\/\/)([^,/?]+),[^/?]*/, '$1$2');
}

/** How often a connection's liveness is checked, and how long a PING may go unanswered. */
export const LIVENESS = { everyMs: 1000, deadlineMs: 3000 } as const;

/**
 * A connection whose peer went silent (a host or link that died: packets dropped, no FIN, no
 * RST) sees no 'close', and its commands wait forever: TCP retransmits for many minutes. So a
 * PING goes out every `everyMs` while the connection is ready, and one unanswered for
 * `deadlineMs` destroys the socket: the connection's 'close' then fires, its owner's loss
 * handling runs (a session fails its pending runs after `reconnectTimeoutMs`, a worker counts
 * its `--death-timeout`), and ioredis reconnects. A blocking command ahead of the PING delays
 * its answer: `deadlineMs` must exceed the longest block on the connection (weft's are 1 s).
 * Worst case from the cut to the 'close': `everyMs + deadlineMs`. Stops when the connection ends.
 */
export function watchLiveness(redis: SingleRedis, { everyMs, deadlineMs }: { everyMs: number; deadlineMs: number } = LIVENESS): void {
  let waiting = false;
  const timer = setInterval(() => {
    if (waiting || redis.status !== 'ready') return;
    waiting = true;
    const stream = redis.stream;
    const deadline = setTimeout(() => stream.destroy(new Error(`no answer to PING within ${deadlineMs} ms (a host that is down, or a link dropping the packets)`)), deadlineMs);
    deadline.unref();
    redis.ping().catch(() => undefined).finally(() => {
      waiting = false;
      clearTimeout(deadline);
    });
  }, everyMs);
  timer.unref();
  redis.once('end', () => clearInterval(timer));
}

/** Why a connection failed, as an operator would act on it. */
export type ConnectFailure = 'refused' | 'host-not-found' | 'authentication' | 'timeout' | 'other';

/** The kind of a connection failure, from the error ioredis reported (a {@link ClusterConnectionError}'s cause). */
export function failureKind(error: unknown): ConnectFailure {
  const cause = error instanceof ClusterConnectionError ? error.cause : error;
  const code = (cause as { code?: unknown } | undefined)?.code;
  const message = cause instanceof Error ? cause.message : String(cause);
  if (code === 'ECONNREFUSED') return 'refused';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME') return 'host-not-found';
  if (/^(NOAUTH|WRONGPASS)|invalid password|ERR AUTH/i.test(message)) return 'authentication';
  if (code === 'ETIMEDOUT' || /no answer within/.test(message)) return 'timeout';
  return 'other';
}

/** Only a refused connection may be worth trying again (a server still starting); the rest will not mend. */
export function mayRetry(error: unknown): boolean {
  return failureKind(error) === 'refused';
}

function explain(cause: unknown, address: ClusterAddress): string {
  const host = address.redis.host ?? '127.0.0.1';
  const where = `${host}:${address.redis.port ?? 6379}`;
  const message = cause instanceof Error ? cause.message : String(cause);
  switch (failureKind(cause)) {
    case 'refused':
      return `connection refused: nothing listens on ${where} (is the cluster up, and is the port right?)`;
    case 'host-not-found':
      return `host not found: '${host}' does not resolve (check the host name)`;
    case 'authentication':
      return /^NOAUTH/.test(message)
        ? 'authentication required: the server needs a password and the address gives none (redis://:password@host:port)'
        : `authentication failed: the password${address.redis.username ? ' or user name' : ''} in the address is wrong (${message.split('\n')[0]})`;
    case 'timeout':
      return `no answer from ${where}: ${message} (a host that is down, or a firewall dropping the packets)`;
    default:
      return message || String(cause);
  }
}
