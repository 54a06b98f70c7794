import { parseAddress } from '../cluster/connection.ts';
import type { EventBus } from '../events/bus.ts';
import { clusterDashboard, runDashboard, type Dashboard } from '../dashboard/dashboard.ts';
import { checkBinding, type DashboardServerOptions } from '../dashboard/options.ts';
import { intOption, optionValue, parseCommand, type CommandSpec, type ParsedArgs } from './args.ts';

const SPEC: CommandSpec = {
  command: 'weft dashboard',
  summary: [
    "Serves the live dashboard of any cluster: its workers (resources, state, current tasks), queued and",
    'running task runs per queue, flow runs in progress, and the task stream of the last minutes. It',
    "reads what the cluster's workers and clients publish (a capped Redis stream), so it can start at any",
    'time and on any machine that reaches the Redis. Prints the URL it bound; runs until Ctrl-C / SIGTERM.',
  ].join('\n'),
  options: [
    { name: 'address', value: 'URL', required: true, help: "the cluster's Redis (weft cluster up prints it)" },
    ...dashboardOptions(''),
  ],
};

/** The --host/--port/--token options of a command serving a dashboard, named with `prefix` (`dashboard-` in weft cluster up). */
export function dashboardOptions(prefix: string): CommandSpec['options'] {
  return [
    { name: `${prefix}host`, value: 'HOST', help: 'the interface the dashboard listens on; beyond loopback it needs a token', default: '127.0.0.1' },
    { name: `${prefix}port`, value: 'P', help: "the dashboard's port; 0 picks a free one", default: '0' },
    { name: `${prefix}token`, value: 'T', help: 'required of every request (the printed URL carries it)', default: '$WEFT_DASHBOARD_TOKEN, else none' },
  ];
}

/** The dashboard options given to a command (checked: a host beyond loopback needs a token). */
export function dashboardSettings(parsed: ParsedArgs, prefix: string): DashboardServerOptions {
  const host = optionValue(parsed, `${prefix}host`) ?? '127.0.0.1';
  const token = optionValue(parsed, `${prefix}token`) ?? (process.env.WEFT_DASHBOARD_TOKEN || undefined);
  checkBinding(host, token);
  return { host, port: intOption(parsed, `${prefix}port`, 0, 0), ...(token === undefined ? {} : { token }) };
}

/** `weft dashboard --address URL`: serves a cluster's dashboard until SIGINT/SIGTERM. */
export async function dashboardCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, SPEC);
  if (typeof parsed === 'number') return parsed;
  let settings: DashboardServerOptions;
  const address = optionValue(parsed, 'address') as string;
  try {
    parseAddress('--address', address);
    settings = dashboardSettings(parsed, '');
  } catch (error) {
    console.error(`weft dashboard: ${(error as Error).message}`);
    return 2;
  }
  let dashboard;
  try {
    dashboard = await clusterDashboard(address, settings);
  } catch (error) {
    console.error(`weft dashboard: ${(error as Error).message}`);
    return 1;
  }
  console.log(`weft dashboard: ${parseAddress('--address', address).display}`);
  console.log(`dashboard: ${dashboard.url}`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await dashboard.close();
  return 0;
}

/** The dashboard `weft run` was asked for (--dashboard or any --dashboard-* option), checked; undefined when none. */
export function runDashboardSettings(parsed: ParsedArgs): DashboardServerOptions | undefined {
  const asked = parsed.flags.has('dashboard') || ['dashboard-host', 'dashboard-port', 'dashboard-token'].some((o) => parsed.options.has(o));
  return asked ? dashboardSettings(parsed, 'dashboard-') : undefined;
}

/**
 * `weft run --dashboard`: serves the run's own dashboard, from its events (any runner), and prints
 * the URL on stderr. Resolves undefined when it could not start (said on stderr: the run goes on).
 */
export async function serveRunDashboard(settings: DashboardServerOptions | undefined, run: Pick<EventBus, 'on'>, title: string): Promise<Dashboard | undefined> {
  if (!settings) return undefined;
  try {
    const dashboard = await runDashboard(run, title, settings);
    console.error(`weft run: dashboard: ${dashboard.url}`);
    return dashboard;
  } catch (error) {
    console.error(`weft run: the dashboard could not start: ${(error as Error).message}`);
    return undefined;
  }
}
