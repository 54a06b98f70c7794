/**
 * The live dashboard's options and the binding rule, apart from the server so that checking them
 * loads no HTTP code.
 *
 * @module
 */
import { InvalidOptionError, UsageError } from '../errors.ts';
import * as v from '../util/validate.ts';

export interface DashboardServerOptions {
  /** The interface to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** The port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Required of every request (`?token=` or `Authorization: Bearer`); required to bind beyond loopback. */
  readonly token?: string;
  /** How often pages are updated. @default 250 */
  readonly tickMs?: number;
}

/** Where a dashboard listens: `true` for the defaults (127.0.0.1, a free port, no token). */
export type DashboardOption = boolean | DashboardServerOptions;

/** Checks a `dashboard` option: undefined when off. */
export function resolveDashboardOption(option: string, value: unknown): DashboardServerOptions | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  const o = v.plainObject(option, value);
  v.knownKeys(option, o, ['host', 'port', 'token', 'tickMs']);
  const port = o.port === undefined ? undefined : v.integer(`${option}.port`, o.port, 0);
  if (port !== undefined && port > 65535) throw new InvalidOptionError(`${option}.port`, 'an integer from 0 to 65535', port);
  return {
    ...(o.host === undefined ? {} : { host: v.string(`${option}.host`, o.host) }),
    ...(port === undefined ? {} : { port }),
    ...(o.token === undefined ? {} : { token: v.string(`${option}.token`, o.token) }),
    ...(o.tickMs === undefined ? {} : { tickMs: v.integer(`${option}.tickMs`, o.tickMs, 10) }),
  };
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

/** Whether an interface name is loopback only. */
export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\./.test(host);
}

/** Throws when a dashboard would be bound beyond loopback without a token, saying why. */
export function checkBinding(host: string, token: string | undefined): void {
  if (!isLoopback(host) && (token === undefined || token === '')) {
    throw new UsageError(
      `A dashboard bound to '${host}' is reachable from other machines, and it shows the cluster's task names, flow runs and workers: ` +
        `give it a token (--token, or the \`token\` option; the URL then carries it), or leave it on 127.0.0.1 and reach it through an SSH tunnel.`,
    );
  }
}

