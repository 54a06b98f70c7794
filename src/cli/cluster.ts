import { WeftError } from '../errors.ts';
import type { AdaptOptions } from '../cluster/cluster.ts';
import { LocalCluster } from '../cluster/local-cluster.ts';
import { parseResources } from '../schedule/resources.ts';
import { intOption, optionValue, parseCommand, type CommandSpec } from './args.ts';

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
    { name: 'port', value: 'P', help: 'the Redis port; 0 picks a free port', default: '0' },
    { name: 'host', value: 'ADDR', help: "an address of this machine Redis listens on besides loopback, for workers on other hosts ('0.0.0.0': all); needs --password", default: '127.0.0.1' },
    { name: 'password', value: 'SECRET', help: 'the password Redis requires; the printed address carries it (or set WEFT_CLUSTER_PASSWORD, kept out of ps)', default: 'none' },
    { name: 'root', value: 'DIR', help: 'workers import task modules only under DIR', default: "the nearest package.json's directory" },
    { name: 'adapt-min', value: 'N', help: 'scale adaptively, by backlog and task durations, from N workers (starts with N unless --workers)', default: 'no adaptive scaling' },
    { name: 'adapt-max', value: 'M', help: 'scale adaptively up to M workers', default: 'no adaptive scaling; with --adapt-min, no limit' },
  ],
};

const CLUSTER_USAGE = `Usage: weft cluster <subcommand> [options]

Subcommands:
  up  start a long-lived cluster on this machine (weft cluster up --help for its options)`;

/** `--adapt-min N --adapt-max M` as `adapt` options, checked; undefined when neither is given. */
function adaptOptions(parsed: Exclude<ReturnType<typeof parseCommand>, number>): Required<Pick<AdaptOptions, 'minimum' | 'maximum'>> | undefined {
  if (optionValue(parsed, 'adapt-min') === undefined && optionValue(parsed, 'adapt-max') === undefined) return undefined;
  const minimum = intOption(parsed, 'adapt-min', 0, 0);
  const maximum = intOption(parsed, 'adapt-max', Math.max(1, minimum), Infinity);
  return { minimum, maximum };
}

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
  let adapt: ReturnType<typeof adaptOptions>;
  try {
    const resources = optionValue(parsed, 'resources');
    adapt = adaptOptions(parsed);
    cluster = new LocalCluster({
      workers: intOption(parsed, 'workers', 0, adapt?.minimum),
      threadsPerWorker: intOption(parsed, 'threads-per-worker', 1, undefined),
      resources: resources === undefined ? undefined : parseResources('--resources', resources),
      port: intOption(parsed, 'port', 0, 0),
      host: optionValue(parsed, 'host'),
      password: optionValue(parsed, 'password') ?? process.env.WEFT_CLUSTER_PASSWORD,
      root: optionValue(parsed, 'root'),
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
  if (adapt) {
    console.log(`adaptive: ${adapt.minimum} to ${adapt.maximum === Infinity ? 'any number of' : adapt.maximum} workers`);
    cluster.adapt(adapt, (from, to, reason) => console.log(`weft cluster: scale ${from} → ${to} workers (${reason})`));
  }
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
