import { availableParallelism } from 'node:os';
import { projectRoot } from '../cluster/cluster.ts';
import { parseAddress } from '../cluster/connection.ts';
import { runWorker } from '../cluster/worker-main.ts';
import { parseResources } from '../schedule/resources.ts';
import { intOption, optionValue, parseCommand, type CommandSpec } from './args.ts';

const SPEC: CommandSpec = {
  command: 'weft worker',
  summary: [
    'Joins this machine to a cluster as one worker running up to K tasks at once. It imports task',
    'modules only under --root, so start it from your project\'s checkout. A bad address fails at',
    'once, saying why (connection refused, host not found, authentication). If the cluster goes away,',
    'the worker tries again for --death-timeout seconds, then exits 1. Ctrl-C / SIGTERM stops it:',
    'running tasks get --grace-ms to finish (a second Ctrl-C hands them back at once), then go back',
    'to the cluster for other workers. If this worker dies, its tasks run elsewhere after --lock-ms;',
    'a task blocking the event loop longer than that is taken for dead too.',
  ].join('\n'),
  options: [
    { name: 'address', value: 'URL', required: true, help: "the cluster's Redis: redis://[:password@]host:port[/db][?prefix=name] (weft cluster up prints it), or a Redis Cluster: redis+cluster://host1:port1,host2:port2[?prefix=name&shards=N]" },
    { name: 'concurrency', value: 'K', help: 'tasks run at once', default: 'the core count' },
    { name: 'resources', value: 'GPU=1,...', help: 'what this worker has, for tasks that ask for resources', default: 'none' },
    { name: 'root', value: 'DIR', help: 'import task modules only under DIR', default: "the nearest package.json's directory" },
    { name: 'name', value: 'ID', help: "the worker's id in events and task runs", default: 'host-pid-random' },
    { name: 'death-timeout', value: 'S', help: 'seconds the cluster may be unreachable before the worker exits', default: '60' },
    { name: 'grace-ms', value: 'MS', help: 'how long running tasks may finish when the worker stops', default: '30000' },
    { name: 'lock-ms', value: 'MS', help: "how long a dead worker's tasks wait before they run elsewhere", default: '30000' },
  ],
};

/** How long a refused first connection is tried again: a cluster restarting, not a wrong address. */
const CONNECT_MS = 2000;

/** `weft worker`: joins a cluster until SIGINT/SIGTERM (or the cluster is gone). Resolves the exit code. */
export async function workerCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, SPEC);
  if (typeof parsed === 'number') return parsed;
  let options;
  let graceMs: number;
  let deathTimeoutMs: number;
  try {
    const address = optionValue(parsed, 'address') as string;
    parseAddress('--address', address);
    const resources = optionValue(parsed, 'resources');
    options = {
      address,
      concurrency: intOption(parsed, 'concurrency', 1, availableParallelism()),
      resources: resources === undefined ? {} : parseResources('--resources', resources),
      root: optionValue(parsed, 'root') ?? projectRoot(),
      id: optionValue(parsed, 'name'),
      lockMs: intOption(parsed, 'lock-ms', 500, undefined),
      connectMs: CONNECT_MS,
    };
    graceMs = intOption(parsed, 'grace-ms', 0, 30_000);
    deathTimeoutMs = intOption(parsed, 'death-timeout', 1, 60) * 1000;
  } catch (error) {
    const message = (error as Error).message.replace(/([^.])$/, '$1.');
    console.error(`weft worker: ${message} Run 'weft worker --help' for its options.`);
    return 2;
  }
  try {
    const code = await runWorker(options, {
      graceMs,
      deathTimeoutMs,
      onReady: (w) => console.log(`weft worker ${w.id}: joined ${w.address.display} (concurrency ${options.concurrency}, resources ${JSON.stringify(options.resources)}, root ${options.root})`),
    });
    console.log('weft worker: stopped.');
    // Anything still holding the event loop (a reconnecting client after Redis died) must not keep a stopped worker alive.
    setTimeout(() => process.exit(code), 500).unref();
    return code;
  } catch (error) {
    console.error(`weft worker: ${(error as Error).message}`);
    return 1;
  }
}
