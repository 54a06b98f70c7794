import { WeftError } from '../errors.ts';
import { intFlag, parseFlags } from '../cluster/cli-args.ts';
import { LocalCluster } from '../cluster/local-cluster.ts';
import { parseResources } from '../schedule/resources.ts';

const USAGE = `Usage: weft cluster up [--workers N] [--threads-per-worker K] [--resources GPU=1,process=1] [--port P] [--root DIR]
  Starts a long-lived cluster on this machine (a private redis-server and N workers), prints its
  address, and runs until Ctrl-C / SIGTERM. Point runners at it with
  new DistributedTaskRunner({ address }), and add workers from other machines with weft worker.`;

/** `weft cluster up`: runs a LocalCluster until SIGINT/SIGTERM. Resolves the exit code. */
export async function clusterCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'up') {
    console.error(sub === undefined || sub === '--help' ? USAGE : `weft cluster: unknown subcommand '${sub}'.\n${USAGE}`);
    return sub === '--help' ? 0 : 2;
  }
  let cluster: LocalCluster;
  try {
    const flags = parseFlags(rest, ['workers', 'threads-per-worker', 'resources', 'port', 'root'], USAGE);
    const resources = flags.get('resources');
    cluster = new LocalCluster({
      workers: intFlag(flags, 'workers', 0, undefined),
      threadsPerWorker: intFlag(flags, 'threads-per-worker', 1, undefined),
      resources: resources === undefined ? undefined : parseResources('--resources', resources),
      port: intFlag(flags, 'port', 0, 0),
      root: flags.get('root'),
    });
  } catch (error) {
    console.error(`weft cluster: ${(error as Error).message}`);
    return 2;
  }
  try {
    await cluster.start();
  } catch (error) {
    console.error(`weft cluster: could not start: ${(error as Error).message}`);
    return error instanceof WeftError ? 1 : 3;
  }
  const { workers, threadsPerWorker, resources } = cluster.options;
  const declared = Object.keys(resources).length > 0 ? `, resources ${JSON.stringify(resources)} each` : '';
  console.log(`weft cluster up: ${workers} worker${workers === 1 ? '' : 's'} × ${threadsPerWorker} thread${threadsPerWorker === 1 ? '' : 's'}${declared}`);
  console.log(`address: ${cluster.address}`);
  console.log('Connect with new DistributedTaskRunner({ address }) or `weft worker --address <address>`; Ctrl-C stops the cluster.');
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  console.log('weft cluster: stopping (running tasks get 10 s to finish)...');
  await cluster.close(10_000);
  console.log('weft cluster: stopped.');
  return 0;
}
