/**
 * The live dashboard's web server: `node:http` and Server-Sent Events. Every `tickMs` the model
 * gives one update, serialised once and written to every open page (the opposite of a callback per
 * viewer); a page that connects gets a snapshot first. Bound to 127.0.0.1 unless told otherwise;
 * bound beyond loopback it refuses to start without a token, and every request must carry it.
 * The page uses relative URLs only, so it works behind a path-prefix proxy.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { checkBinding, isLoopback, type DashboardServerOptions } from './options.ts';
import { dashboardPage } from './page.ts';
import type { DashboardSource } from './sources.ts';

export type { DashboardServerOptions } from './options.ts';

/** A page that falls this far behind (bytes not yet sent) is dropped; its EventSource reconnects to a snapshot. */
const MAX_BACKLOG = 8 << 20;
/** A tick is sent at least this often even when nothing changed (clocks, "updated" times). */
const IDLE_TICK_MS = 1000;
/** A comment line keeps proxies from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;

export class DashboardServer {
  readonly #source: DashboardSource;
  readonly #host: string;
  readonly #port: number;
  readonly #token: string | undefined;
  readonly #tickMs: number;
  readonly #clients = new Set<ServerResponse>();
  readonly #server: Server;
  #timer: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #lastSent = 0;
  #url = '';
  #page: string | undefined;

  constructor(source: DashboardSource, options: DashboardServerOptions = {}) {
    this.#source = source;
    this.#host = options.host ?? '127.0.0.1';
    this.#port = options.port ?? 0;
    this.#token = options.token === '' ? undefined : options.token;
    this.#tickMs = options.tickMs ?? 250;
    checkBinding(this.#host, this.#token);
    this.#server = createServer((req, res) => this.#handle(req, res));
  }

  /** The page's address as bound (the real port when 0 was asked), with the token when there is one. */
  get url(): string {
    return this.#url;
  }

  /** Pages connected now. */
  get viewers(): number {
    return this.#clients.size;
  }

  /** Listens; resolves the URL. */
  async start(): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.#port, this.#host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    const address = this.#server.address() as AddressInfo;
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    this.#url = `http://${host}:${address.port}/${this.#token ? `?token=${encodeURIComponent(this.#token)}` : ''}`;
    this.#timer = setInterval(() => this.#tick(), this.#tickMs);
    this.#timer.unref();
    this.#heartbeat = setInterval(() => this.#broadcast(':\n\n'), HEARTBEAT_MS);
    this.#heartbeat.unref();
    return this.#url;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    clearInterval(this.#heartbeat);
    for (const res of this.#clients) res.end();
    this.#clients.clear();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #tick(): void {
    const model = this.#source.model;
    const time = this.#source.now();
    // Ticked with no page open too: bars move into the window, so a page that opens sees the last minutes.
    if (!model.changed && time - this.#lastSent < IDLE_TICK_MS) return;
    const update = model.tick(time);
    this.#lastSent = time;
    if (this.#clients.size === 0) return;
    // One encoding for every page: written as bytes, not converted once per page.
    this.#broadcast(Buffer.from(`event: tick\ndata: ${JSON.stringify({ ...update, offset: time - Date.now() })}\n\n`));
  }

  #broadcast(text: string | Buffer): void {
    for (const res of this.#clients) {
      if (res.writableLength > MAX_BACKLOG) {
        res.end();
        this.#clients.delete(res);
        continue;
      }
      res.write(text);
    }
  }

  #authorised(req: IncomingMessage, url: URL): boolean {
    if (this.#token === undefined) return true;
    const given = url.searchParams.get('token') ?? req.headers.authorization?.replace(/^Bearer\s+/i, '') ?? '';
    const a = Buffer.from(given);
    const b = Buffer.from(this.#token);
    return a.length === b.length && timingSafeEqual(a, b);
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (req.method !== 'GET' && req.method !== 'HEAD') return end(res, 405, 'Only GET is served here.');
    // On loopback without a token, a page on another site must not read it through a rebound DNS name.
    if (this.#token === undefined && !isLoopback((req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, ''))) {
      return end(res, 403, 'This dashboard answers only to loopback host names (127.0.0.1, localhost); behind a proxy, forward the Host header or give the dashboard a token.');
    }
    if (!this.#authorised(req, url)) return end(res, 401, 'This dashboard needs its token: open the URL it printed (…/?token=…), or send Authorization: Bearer <token>.');
    const path = url.pathname.replace(/^.*\//, '');
    if (path === '' || path === 'index.html') {
      this.#page ??= dashboardPage(this.#source.title);
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store', 'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:" });
      res.end(this.#page);
      return;
    }
    if (path === 'events') return this.#subscribe(req, res);
    if (path === 'snapshot.json') {
      res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      res.end(JSON.stringify(this.#source.model.snapshot(this.#source.now())));
      return;
    }
    end(res, 404, 'Not found: the dashboard serves ./, ./events and ./snapshot.json.');
  }

  #subscribe(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    res.socket?.setNoDelay(true);
    const time = this.#source.now();
    res.write(`retry: 1000\nevent: snapshot\ndata: ${JSON.stringify({ ...this.#source.model.snapshot(time), offset: time - Date.now() })}\n\n`);
    this.#clients.add(res);
    req.on('close', () => this.#clients.delete(res));
  }
}

function end(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${message}\n`);
}
