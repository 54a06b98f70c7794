/**
 * A live dashboard, started: a {@link DashboardSource} (a cluster, or one flow run's bus) served
 * by a {@link DashboardServer}. What `weft dashboard`, `weft cluster up`, a LocalCluster with
 * `dashboard` and `weft run --dashboard` start.
 *
 * @module
 */
import type { EventBus } from '../events/bus.ts';
import { checkBinding, type DashboardServerOptions } from './options.ts';
import { DashboardServer } from './server.ts';

export { resolveDashboardOption, type DashboardOption } from './options.ts';
import { BusSource, ClusterSource, type DashboardSource } from './sources.ts';

/** A dashboard being served. */
export interface Dashboard {
  /** The page's address as bound (with `?token=` when it has one). */
  readonly url: string;
  /** Pages open now. */
  readonly viewers: number;
  close(): Promise<void>;
}

async function serve(source: DashboardSource, options: DashboardServerOptions): Promise<Dashboard> {
  let server: DashboardServer;
  try {
    server = new DashboardServer(source, options);
    await server.start();
  } catch (error) {
    await source.close();
    throw error;
  }
  return {
    url: server.url,
    get viewers() {
      return server.viewers;
    },
    close: async () => {
      await server.close();
      await source.close();
    },
  };
}

/** Serves the dashboard of the cluster at `address` (any cluster: its workers publish what it shows). */
export async function clusterDashboard(address: string, options: DashboardServerOptions = {}): Promise<Dashboard> {
  // The binding is checked before connecting: a refused token should not wait on Redis.
  checkBinding(options.host ?? '127.0.0.1', options.token);
  return serve(await ClusterSource.open(address), options);
}

/** Serves the dashboard of one flow run, from its event bus (any runner). */
export function runDashboard(bus: Pick<EventBus, 'on'>, title: string, options: DashboardServerOptions = {}): Promise<Dashboard> {
  return serve(new BusSource(bus, title), options);
}
