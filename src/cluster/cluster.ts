import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Resources } from '../schedule/resources.ts';

/**
 * Adaptive scaling (dask's `cluster.adapt`): enough workers to finish the backlog within
 * `targetMs` at the tasks' recent durations, added at once, retired only after fewer have sufficed
 * for `scaleDownMs`, between the bounds.
 */
export interface AdaptOptions {
  /** Fewest workers. Minimum 0. @default 0 */
  minimum?: number;
  /** Most workers. @default Infinity */
  maximum?: number;
  /** Workers are wanted to finish the backlog (waiting and running task runs) within this. @default 5000 */
  targetMs?: number;
  /** Fewer workers must have sufficed this long, without a break, before any is retired. @default 3000 */
  scaleDownMs?: number;
}

/**
 * What a `DistributedTaskRunner` needs of a temporary cluster (its `clusterClass`): start it, read
 * its address, close it. `LocalCluster` is one; a cluster on machines you manage can be another.
 */
export interface Cluster {
  /** The `redis://` address workers and runners connect to; read after `start()`. */
  readonly address: string;
  start(): Promise<void>;
  /** Stops everything the cluster started. */
  close(): Promise<void>;
  /** Stops at once, without letting running tasks finish (cancelling a flow run on a temporary cluster). @default close() */
  kill?(): Promise<void>;
  /**
   * What each of its workers declares, when every worker declares the same (a cluster it starts
   * itself): the runner then fails at once a task needing more, which could never run. Left out
   * when workers may differ or come from elsewhere; such tasks wait, with a warning.
   */
  readonly workerResources?: Resources;
  /** Turns on adaptive scaling between the bounds; `onScale` hears each change of size and why. */
  adapt?(options: AdaptOptions, onScale?: (from: number, to: number, reason: string) => void): void;
}

/** The directory of the nearest package.json above `from` (the user's project), or `from` itself. */
export function projectRoot(from: string = process.cwd()): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir;
    if (dirname(dir) === dir) return from;
  }
}
