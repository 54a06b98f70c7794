import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { ClusterConnectionError, UsageError } from '../errors.ts';
import { stopProcess } from '../util/process.ts';
import { killWithParent } from '../util/watchdog.ts';

/** Options of a private `redis-server`. */
export interface RedisServerOptions {
  /** The port; 0 picks a free loopback port. @default 0 */
  port?: number;
  /** The `redis-server` binary. @default process.env.WEFT_REDIS_SERVER ?? 'redis-server' */
  binary?: string;
  /** How long to wait for the server to answer PING. @default 5000 */
  startTimeoutMs?: number;
  /**
   * The interface to listen on besides loopback (where the server always listens): `0.0.0.0`
   * for every interface, or one address, for workers on other hosts. @default '127.0.0.1'
   */
  bind?: string;
  /** A password clients must give (`requirepass`); it appears in {@link RedisServer.address}. @default none */
  password?: string;
}

const LOOPBACK = '127.0.0.1';
const WILDCARDS = new Set(['0.0.0.0', '*', '::', '::0']);

/**
 * A `redis-server` process on a loopback port, without persistence (`--save "" --appendonly no`):
 * a temporary cluster's data lives exactly as long as the cluster, and the server never outlives
 * the process that started it (see util/watchdog.ts).
 */
export class RedisServer {
  #child: ChildProcess | undefined;
  #port = 0;
  #bind = LOOPBACK;
  #password: string | undefined;
  #exited: Promise<void> = Promise.resolve();

  get port(): number {
    return this.#port;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The address to give clients: on the bound interface (loopback unless `bind` says otherwise), with the password. */
  get address(): string {
    return this.#url(WILDCARDS.has(this.#bind) ? LOOPBACK : this.#bind);
  }

  /** The address on loopback, for clients on this machine. */
  get localAddress(): string {
    return this.#url(LOOPBACK);
  }

  #url(host: string): string {
    const auth = this.#password === undefined ? '' : `:${encodeURIComponent(this.#password)}@`;
    return `redis://${auth}${host.includes(':') ? `[${host}]` : host}:${this.#port}`;
  }

  /** Starts the server and resolves once it answers PING. */
  async start(options: RedisServerOptions = {}): Promise<void> {
    const binary = options.binary ?? process.env.WEFT_REDIS_SERVER ?? 'redis-server';
    this.#port = options.port || (await freePort());
    this.#bind = options.bind ?? LOOPBACK;
    this.#password = options.password;
    // Loopback always: workers started here and readiness checks connect there.
    const bind = this.#bind === LOOPBACK || WILDCARDS.has(this.#bind) ? [this.#bind] : [LOOPBACK, this.#bind];
    const auth = this.#password === undefined ? [] : ['--requirepass', this.#password];
    const child = spawn(binary, ['--port', String(this.#port), '--bind', ...bind, ...auth, '--save', '', '--appendonly', 'no', '--protected-mode', 'no'], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    this.#child = child;
    // Private to this process: it goes when this process dies, however (a temporary cluster never outlives its flow).
    killWithParent(child);
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<{ code: number | null; error?: NodeJS.ErrnoException }>((resolve) => {
      child.once('error', (error: NodeJS.ErrnoException) => resolve({ code: null, error }));
      child.once('exit', (code) => resolve({ code }));
    });
    this.#exited = exited.then(() => undefined);
    const timeoutMs = options.startTimeoutMs ?? 5000;
    const ready = waitForPing(this.#port, timeoutMs);
    const result = await Promise.race([ready.then(() => undefined), exited]);
    if (result === undefined) return;
    this.#child = undefined;
    if (result.error?.code === 'ENOENT') {
      throw new UsageError(
        `Cannot start a local cluster: the '${binary}' program was not found. Install Redis (Debian/Ubuntu: apt-get install redis-server; macOS: brew install redis), ` +
          'or set WEFT_REDIS_SERVER to its path, or point the runner at an existing cluster with { address }.',
      );
    }
    throw new ClusterConnectionError(this.address, `redis-server exited before it was ready (exit ${result.code ?? result.error?.message}): ${stderr.trim().slice(0, 300)}`);
  }

  /**
   * Stops the server: `SHUTDOWN NOSAVE` (it has nothing to save), SIGTERM if that cannot be sent,
   * SIGKILL after `graceMs`. Safe to call twice. Not SIGTERM first: Redis acts on a signal only at
   * its next cron tick, up to 100 ms later, where the command takes effect at once.
   */
  async stop(graceMs = 1000): Promise<void> {
    const child = this.#child;
    // A second caller (close racing kill) waits for the same exit.
    if (!child) return this.#exited;
    this.#child = undefined;
    const ask = () => void shutdownRedis(LOOPBACK, this.#port, this.#password).then((sent) => sent || child.kill('SIGTERM'));
    await stopProcess(child, graceMs, { exited: this.#exited, ask });
  }
}

/** A free TCP port on the loopback interface. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** Resolves once a Redis on `port` answers PING; a raw socket, so no client library is loaded for it. */
async function waitForPing(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ping(port)) return;
    if (Date.now() > deadline) throw new ClusterConnectionError(`redis://127.0.0.1:${port}`, `redis-server did not answer PING within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      data += chunk.toString();
      // A server with a password answers NOAUTH: up all the same.
      if (data.includes('\r\n')) done(data.startsWith('+PONG') || data.startsWith('-NOAUTH'));
    });
  });
}

/** A Redis command in RESP (binary-safe: a password may hold spaces). */
function command(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

/**
 * Sends `SHUTDOWN NOSAVE` to the Redis at `host:port` on a raw socket (no client library, and
 * none of the caller's connections, which may be closed by now). Resolves whether it was sent to a
 * server that took it: true once the server closes the connection, false on an error or after
 * 500 ms without an answer.
 */
export function shutdownRedis(host: string, port: number, password?: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, host);
    let settled = false;
    const done = (sent: boolean) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      resolve(sent);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    // An error reply means it was refused (a wrong password, NOAUTH): a server shutting down closes without a reply.
    socket.on('data', (chunk: Buffer) => {
      if (/^-/m.test(chunk.toString())) done(false);
    });
    socket.once('close', () => done(true));
    socket.once('connect', () => socket.write((password === undefined ? '' : command('AUTH', password)) + command('SHUTDOWN', 'NOSAVE')));
  });
}
