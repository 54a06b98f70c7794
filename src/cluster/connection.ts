import { Redis, type RedisOptions } from './libs.ts';
import { ClusterConnectionError, InvalidOptionError } from '../errors.ts';
import { DEFAULT_PREFIX } from './queues.ts';

/** A cluster address, parsed once: `redis://[user:password@]host:port[/db][?prefix=name]`, or `rediss://` for TLS. */
export interface ClusterAddress {
  /** The address as given. */
  readonly url: string;
  /** The address with any password replaced by `***`, for messages and logs. */
  readonly display: string;
  /** ioredis settings for it (host, port, credentials, db, TLS). */
  readonly redis: RedisOptions;
  /** The key prefix of weft's keys and queues: several clusters can share one Redis under different prefixes. */
  readonly prefix: string;
}

/** Parses and validates an address; throws {@link InvalidOptionError} naming `option` and the fix. */
export function parseAddress(option: string, address: unknown): ClusterAddress {
  const expected = "a Redis URL such as 'redis://127.0.0.1:6379' or 'rediss://:password@host:6380' (what `weft cluster up` prints)";
  if (typeof address !== 'string' || address.length === 0) throw new InvalidOptionError(option, expected, address);
  let url: URL;
  try {
    url = new URL(address);
  } catch {
    throw new InvalidOptionError(option, expected, address);
  }
  if ((url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') throw new InvalidOptionError(option, expected, address);
  const port = url.port === '' ? 6379 : Number(url.port);
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0) throw new InvalidOptionError(`${option} (database number)`, 'an integer ≥ 0 after the port, as in redis://host:6379/2', address);
  const prefix = url.searchParams.get('prefix') ?? DEFAULT_PREFIX;
  if (!/^[\w.-]+$/.test(prefix)) throw new InvalidOptionError(`${option} (prefix)`, 'letters, digits, ".", "-" or "_"', prefix);
  const redis: RedisOptions = {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port,
    db,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: { servername: url.hostname } } : {}),
  };
  const shown = new URL(address);
  if (shown.password) shown.password = '***';
  return { url: address, display: shown.toString(), redis, prefix };
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
 * Opens a connection and checks it with PING within `connectTimeoutMs`: a dead or wrong address
 * fails fast with {@link ClusterConnectionError} naming it, instead of retrying forever. After that
 * first success the connection reconnects on its own; whoever owns it decides how long a loss may last.
 */
export async function connect(address: ClusterAddress, options: ConnectOptions): Promise<Redis> {
  const redis = new Redis({
    ...address.redis,
    ...options.extra,
    connectionName: options.name,
    lazyConnect: true,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    connectTimeout: options.connectTimeoutMs,
    retryStrategy: (times) => Math.min(50 * times, 500),
  });
  // Errors surface through commands and the owner's 'close' handling; without a listener ioredis would print them.
  // The first one is kept: a failed connect() only says "Connection is closed", the event says why.
  let first: Error | undefined;
  redis.on('error', (error: Error) => (first ??= error));
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      redis.connect().then(() => redis.ping()),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${options.connectTimeoutMs} ms`)), options.connectTimeoutMs);
      }),
    ]);
  } catch (error) {
    redis.disconnect();
    const cause = first ?? error;
    throw new ClusterConnectionError(address.display, explain(cause, address), cause);
  } finally {
    clearTimeout(timer);
  }
  watchLiveness(redis);
  return redis;
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
export function watchLiveness(redis: Redis, { everyMs, deadlineMs }: { everyMs: number; deadlineMs: number } = LIVENESS): void {
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
