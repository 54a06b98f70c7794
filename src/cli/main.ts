#!/usr/bin/env node
/**
 * The `weft` command: `weft run`, `weft cluster up`, `weft worker`.
 * Each subcommand lives in its own module, loaded only when used; each answers `--help`.
 */
import { readFileSync } from 'node:fs';

type Command = (argv: string[]) => Promise<number>;

const COMMANDS: Record<string, { readonly summary: string; readonly load: () => Promise<Command> }> = {
  run: { summary: 'run a flow from a file and print its result', load: async () => (await import('./run.ts')).runCommand },
  cluster: { summary: 'cluster up / status: start a long-lived cluster here, or show one', load: async () => (await import('./cluster.ts')).clusterCommand },
  worker: { summary: 'join this machine to a cluster as a worker', load: async () => (await import('./worker.ts')).workerCommand },
  report: { summary: 'render a kept run\'s report (HTML) or export its trace', load: async () => (await import('./report.ts')).reportCommand },
  runs: { summary: 'list recent runs: state, duration, task runs', load: async () => (await import('./runs.ts')).runsCommand },
};

const USAGE = [
  'Usage: weft <command> [options]',
  '',
  'Commands:',
  ...Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(9)}${c.summary}`),
  '',
  'Options:',
  '  --help     print this help, or a command\'s with weft <command> --help',
  '  --version  print the version of weft (the weftjs package)',
].join('\n');

/** The installed package's version: package.json sits two levels above src/cli/ and dist/cli/. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
  return `${pkg.name} ${pkg.version}`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    console.error(USAGE);
    return 2;
  }
  if (name === '--help' || name === '-h') {
    console.log(USAGE);
    return 0;
  }
  if (name === '--version' || name === '-v') {
    console.log(version());
    return 0;
  }
  if (name === 'help') return main([...rest, '--help']);
  const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  if (!command) {
    console.error(`weft: unknown ${name.startsWith('-') ? 'option' : 'command'} '${name}'. Run 'weft --help' for the commands.`);
    return 2;
  }
  let run: Command;
  try {
    run = await command.load();
  } catch (error) {
    console.error(`weft: the '${name}' command is not available in this build: ${(error as Error).message}`);
    return 2;
  }
  return run(rest);
}

process.exitCode = await main(process.argv.slice(2));
