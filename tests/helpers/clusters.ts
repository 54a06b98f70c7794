/** A `clusterClass` factory that makes LocalClusters and records each in `into`, so a test can check they all closed. */
import { LocalCluster } from '../../src/index.ts';

export function recordedLocalCluster(into: LocalCluster[]): (options: ConstructorParameters<typeof LocalCluster>[0]) => LocalCluster {
  return (options) => {
    const c = new LocalCluster(options);
    into.push(c);
    return c;
  };
}
