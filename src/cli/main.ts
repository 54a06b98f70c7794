#!/usr/bin/env node
/**
 * The `weft` command: `weft run`, `weft cluster up`, `weft worker`.
 * Each subcommand lives in its own module, loaded only when used.
 */
const USAGE = `Usage:
  weft run <file.ts>[:flowName] [--param key=value ...]   run a flow and print its result
  weft cluster up [--workers N] [--threads-per-worker K] [--resources GPU=1,process=1] [--port P]
  weft worker --address redis://host:port [--concurrency K] [--resources GPU=1]
  weft report <run id | file> [--output report.html] [--trace trace.json[.gz]]   a kept run's report or trace
  weft runs [--limit N]                                   recent runs: state, duration, task runs
  weft --help`;

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, () => Promise<Command>> = {
  run: async () => (await import('./run.ts')).runCommand,
  cluster: async () => (await import('./cluster.ts')).clusterCommand,
  worker: async () => (await import('./worker.ts')).workerCommand,
  report: async () => (await import('./report.ts')).reportCommand,
  runs: async () => (await import('./runs.ts')).runsCommand,
};

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const load = COMMANDS[name];
  if (!load) {
    console.error(`weft: unknown command '${name}'.\n${USAGE}`);
    return 2;
  }
  let command: Command;
  try {
    command = await load();
  } catch (error) {
    console.error(`weft: the '${name}' command is not available in this build: ${(error as Error).message}`);
    return 2;
  }
  return command(rest);
}

process.exitCode = await main(process.argv.slice(2));
