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
  redis.on('error', () => undefined);
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
    throw new ClusterConnectionError(address.display, (error as Error).message || String(error), error);
  } finally {
    clearTimeout(timer);
  }
  return redis;
}
