import { availableParallelism } from 'node:os';
import { intFlag, parseFlags } from '../cluster/cli-args.ts';
import { projectRoot } from '../cluster/cluster.ts';
import { parseAddress } from '../cluster/connection.ts';
import { runWorker } from '../cluster/worker-main.ts';
import { parseResources } from '../schedule/resources.ts';

const USAGE = `Usage: weft worker --address redis://host:port [--concurrency K] [--resources GPU=1,process=1] [--root DIR] [--name ID] [--grace-ms MS] [--lock-ms MS]
  Joins this machine to a cluster as one worker running up to K tasks at once (default: the core
  count). It imports task modules only under DIR (default: the nearest package.json's directory),
  so start it from your project's checkout. Ctrl-C / SIGTERM stops it: running tasks get
  --grace-ms (default 30000) to finish, then go back to the cluster for other workers. If this
  worker dies, its tasks run elsewhere after --lock-ms (default 30000); a task blocking the event
  loop longer than that is taken for dead too.`;

/** `weft worker`: joins a cluster until SIGINT/SIGTERM. Resolves the exit code. */
export async function workerCommand(argv: string[]): Promise<number> {
  let options;
  let graceMs: number;
  try {
    const flags = parseFlags(argv, ['address', 'concurrency', 'resources', 'root', 'name', 'grace-ms', 'lock-ms'], USAGE);
    const address = flags.get('address');
    if (address === undefined) throw new Error(`--address is required.\n${USAGE}`);
    parseAddress('--address', address);
    const resources = flags.get('resources');
    options = {
      address,
      concurrency: intFlag(flags, 'concurrency', 1, availableParallelism()) as number,
      resources: resources === undefined ? {} : parseResources('--resources', resources),
      root: flags.get('root') ?? projectRoot(),
      id: flags.get('name'),
      lockMs: intFlag(flags, 'lock-ms', 500, undefined),
    };
    graceMs = intFlag(flags, 'grace-ms', 0, 30_000) as number;
  } catch (error) {
    console.error(`weft worker: ${(error as Error).message}`);
    return 2;
  }
  try {
    const code = await runWorker(options, {
      graceMs,
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
