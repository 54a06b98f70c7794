import { Worker } from 'node:worker_threads';
import type { ClusterAddress } from './connection.ts';

/** How often a worker's pulse key is written, and how long it lives: a worker silent longer than `ttlMs` is dead. */
export const PULSE = { everyMs: 1000, ttlMs: 4000 } as const;

/**
 * The pulse thread's program (plain JS, evaluated: no loader needed). It speaks RESP on its own
 * socket and ignores the replies but one: `SET key 1 PX ttl` every `everyMs`. On a Redis Cluster a
 * `-MOVED slot host:port` reply names the master of the key's slot (after a failover, the new
 * one): the thread connects there instead. A task blocking
 * the worker's event loop (synchronous CPU work) does not stop it; a dead process, a frozen one
 * or a cut link does, and the key lapses.
 */
const PROGRAM = `
const { parentPort, workerData: d } = require('node:worker_threads');
const net = require('node:net');
const tls = require('node:tls');
const resp = (...args) => '*' + args.length + '\\r\\n' + args.map((a) => '$' + Buffer.byteLength(String(a)) + '\\r\\n' + a + '\\r\\n').join('');
let socket;
function open() {
  socket = d.tls ? tls.connect({ host: d.host, port: d.port, servername: d.host }) : net.connect(d.port, d.host);
  socket.setNoDelay(true);
  socket.on('error', () => undefined);
  socket.on('close', () => { socket = undefined; });
  socket.on('data', (chunk) => {
    const moved = /-MOVED \\d+ (\\S+):(\\d+)/.exec(chunk.toString());
    if (!moved) return;
    d.host = moved[1];
    d.port = Number(moved[2]);
    socket.destroy();
    socket = undefined;
  });
  let hello = '';
  if (d.password !== undefined) hello += d.username !== undefined ? resp('AUTH', d.username, d.password) : resp('AUTH', d.password);
  if (d.db) hello += resp('SELECT', d.db);
  socket.write(hello);
}
function beat() {
  if (!socket) open();
  socket.write(resp('SET', d.key, '1', 'PX', d.ttlMs));
}
beat();
const timer = setInterval(beat, d.everyMs);
// Stopped once Redis has the DEL and closes its end, or after 200 ms (Redis away): says so, then goes.
const stopped = () => {
  parentPort.postMessage('stopped');
  process.exit(0);
};
parentPort.once('message', () => {
  clearInterval(timer);
  if (!socket) return stopped();
  socket.once('close', stopped);
  socket.on('data', (chunk) => /(^|\\n):\\d/.test(chunk.toString()) && stopped()); // DEL's integer reply
  socket.end(resp('DEL', d.key));
  setTimeout(stopped, 200).unref();
});
`;

/**
 * A worker's pulse, on a thread of its own: the key `key` exists while this worker lives and
 * reaches Redis. Other workers take the jobs of one whose pulse lapsed ({@link reapDead}).
 */
export class Pulse {
  readonly #thread: Worker;
  /** Whether the thread runs its program yet (a thread takes tens of ms to boot, more under load). */
  #online = false;

  constructor(address: ClusterAddress, key: string) {
    const r = address.redis;
    this.#thread = new Worker(PROGRAM, {
      eval: true,
      workerData: { host: r.host ?? '127.0.0.1', port: r.port ?? 6379, tls: r.tls !== undefined, username: r.username, password: r.password, db: r.db ?? 0, key, ...PULSE },
      stdout: false, stderr: false,
    });
    this.#thread.unref();
    this.#thread.on('error', () => undefined);
    this.#thread.once('online', () => (this.#online = true));
  }

  /**
   * Stops pulsing and deletes the key (a worker leaving cleanly). Resolves once the key is gone
   * (or the thread is): the thread's own teardown, tens of milliseconds, is not waited for.
   */
  async stop(): Promise<void> {
    const thread = this.#thread;
    // Still booting (a worker stopped as soon as it started): it has written nothing worth a DEL
    // round trip; a SET it might still send lapses within `ttlMs`, and this worker has left the registry.
    if (!this.#online) return void thread.terminate();
    const done = new Promise<void>((resolve) => {
      thread.once('message', () => resolve());
      thread.once('exit', () => resolve());
    });
    thread.postMessage('stop');
    const timer = setTimeout(() => void thread.terminate(), 1000);
    await done;
    clearTimeout(timer);
  }
}
