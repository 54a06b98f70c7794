import { ClusterConnectionError } from '../errors.ts';
import { connect, parseAddress } from '../cluster/connection.ts';
import { clusterStatus, formatStatus } from '../cluster/status.ts';
import { optionValue, parseCommand, type CommandSpec } from './args.ts';

const SPEC: CommandSpec = {
  command: 'weft cluster status',
  summary: [
    "Prints a cluster's state once: its workers (host, resources, tasks running, last heartbeat),",
    'the depth of each queue (task runs waiting and running, and the jobs holding them), and the flow runs in progress on it.',
  ].join('\n'),
  options: [
    { name: 'address', value: 'URL', required: true, help: "the cluster's Redis: redis://[:password@]host:port[/db][?prefix=name]" },
    { name: 'json', help: 'print it as one JSON object instead' },
  ],
};

/** `weft cluster status --address URL`: resolves the exit code (1: the cluster cannot be reached). */
export async function clusterStatusCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, SPEC);
  if (typeof parsed === 'number') return parsed;
  let address;
  try {
    address = parseAddress('--address', optionValue(parsed, 'address'));
  } catch (error) {
    console.error(`weft cluster status: ${(error as Error).message}`);
    return 2;
  }
  try {
    const redis = await connect(address, { connectTimeoutMs: 5000, name: 'weft-status' });
    try {
      const status = await clusterStatus(redis, address.prefix);
      console.log(parsed.flags.has('json') ? JSON.stringify(status) : formatStatus(status, address.display));
    } finally {
      redis.disconnect();
    }
    return 0;
  } catch (error) {
    console.error(`weft cluster status: ${error instanceof ClusterConnectionError ? error.message : (error as Error).message}`);
    return 1;
  }
}
