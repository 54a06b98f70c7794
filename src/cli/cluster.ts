import { WeftError } from '../errors.ts';
import { LocalCluster } from '../cluster/local-cluster.ts';
import { parseResources } from '../schedule/resources.ts';
import { intOption, optionValue, parseCommand, type CommandSpec } from './args.ts';
import { dashboardOptions, dashboardSettings } from './dashboard.ts';

const SPEC: CommandSpec = {
  command: 'weft cluster up',
  summary: [
    'Starts a long-lived cluster on this machine (a private redis-server and N workers), prints its',
    'address, and runs until Ctrl-C / SIGTERM (running tasks then get 10 s to finish). Point runners at',
    'it with new DistributedTaskRunner({ address }); add workers from other machines with weft worker.',
  ].join('\n'),
  options: [
    { name: 'workers', value: 'N', help: 'worker processes', default: 'the core count up to 4 cores, else about √cores' },
    { name: 'threads-per-worker', value: 'K', help: 'tasks each worker runs at once', default: 'cores / workers' },
    { name: 'resources', value: 'GPU=1,...', help: 'what each worker declares, for tasks that ask for resources', default: 'none' },
    { name: 'port', value: 'P', help: 'the Redis port; 0 picks a free loopback port', default: '0' },
    { name: 'root', value: 'DIR', help: 'workers import task modules only under DIR', default: "the nearest package.json's directory" },
    ...dashboardOptions('dashboard-'),
  ],
};

const CLUSTER_USAGE = `Usage: weft cluster <subcommand> [options]

Subcommands:
  up  start a long-lived cluster on this machine (weft cluster up --help for its options)`;

/** `weft cluster up`: runs a LocalCluster until SIGINT/SIGTERM. Resolves the exit code. */
export async function clusterCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') {
    console.log(CLUSTER_USAGE);
    return 0;
  }
  if (sub !== 'up') {
    console.error(sub === undefined ? CLUSTER_USAGE : `weft cluster: unknown subcommand '${sub}'. Run 'weft cluster --help' for the subcommands.`);
    return 2;
  }
  const parsed = parseCommand(rest, SPEC);
  if (typeof parsed === 'number') return parsed;
  let cluster: LocalCluster;
  try {
    const resources = optionValue(parsed, 'resources');
    cluster = new LocalCluster({
      workers: intOption(parsed, 'workers', 0, undefined),
      threadsPerWorker: intOption(parsed, 'threads-per-worker', 1, undefined),
      resources: resources === undefined ? undefined : parseResources('--resources', resources),
      port: intOption(parsed, 'port', 0, 0),
      root: optionValue(parsed, 'root'),
      dashboard: dashboardSettings(parsed, 'dashboard-'),
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
  console.log(`dashboard: ${cluster.dashboardUrl}`);
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
