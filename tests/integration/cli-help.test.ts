/**
 * CLI conventions, as a user types them: `--help` on weft and on every command, `--version`,
 * usage that lists every option with its default, and unknown options or bad values as errors
 * that name the option and point to `--help`.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));

/** Runs the CLI (not blocking, so that the cases run side by side). */
function weft(...args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    // A bound for hangs only: on a loaded machine a CLI start can take a minute.
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

/** Every command's help, and what its options' usage lines must say. */
const COMMANDS: Record<string, { args: string[]; options: Record<string, string | undefined> }> = {
  'weft run': { args: ['run'], options: { param: undefined, report: undefined, 'no-history': undefined } },
  'weft report': { args: ['report'], options: { output: 'weft-report-<run>.html, unless --trace is given', trace: undefined } },
  'weft runs': { args: ['runs'], options: { limit: '20' } },
  'weft cluster up': { args: ['cluster', 'up'], options: { workers: 'the core count up to 4 cores, else about √cores', 'threads-per-worker': 'cores / workers', resources: 'none', port: '0', root: "the nearest package.json's directory", 'adapt-min': 'no adaptive scaling', 'adapt-max': 'no adaptive scaling; with --adapt-min, no limit' } },
  'weft worker': { args: ['worker'], options: { address: undefined, concurrency: 'the core count', resources: 'none', root: "the nearest package.json's directory", name: 'host-pid-random', 'death-timeout': '60', 'grace-ms': '30000', 'lock-ms': '30000' } },
};

describe('weft --help and --version', { concurrency: 4 }, () => {
  it('weft --help lists the commands and exits 0; weft alone prints it to stderr and exits 2', async () => {
    const help = await weft('--help');
    assert.equal(help.code, 0, help.err);
    for (const c of ['run', 'cluster', 'worker', 'report', 'runs']) assert.match(help.out, new RegExp(`^  ${c} `, 'm'));
    assert.match(help.out, /--version/);
    const bare = await weft();
    assert.equal(bare.code, 2);
    assert.match(bare.err, /Usage: weft <command>/);
  });

  it('weft --version prints the package name and version', async () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { name: string; version: string };
    const r = await weft('--version');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), `weftjs ${pkg.version}`);
  });

  for (const [command, { args, options }] of Object.entries(COMMANDS)) {
    it(`${command} --help lists every option with its default, and exits 0`, async () => {
      // -h and `weft help <command>` are the same help; one command checks them, to spare processes.
      const variants = command === 'weft worker' ? [weft(...args, '--help'), weft(...args, '-h'), weft('help', ...args)] : [weft(...args, '--help')];
      for (const help of await Promise.all(variants)) {
        assert.equal(help.code, 0, help.err);
        assert.match(help.out, new RegExp(`^Usage: ${command}`));
        const lines = help.out.split('\n');
        for (const [name, fallback] of Object.entries(options)) {
          const line = lines.find((l) => l.trimStart().startsWith(`--${name} `) || l.trim() === `--${name}`);
          assert.ok(line, `--${name} in the help of ${command}:\n${help.out}`);
          if (fallback !== undefined) assert.ok(line.includes(`default: ${fallback}`), `--${name}'s default in: ${line}`);
        }
        const listed = lines.filter((l) => /^ {2}--/.test(l)).map((l) => l.trim().split(/\s/)[0]);
        assert.deepEqual(listed.sort(), [...Object.keys(options).map((n) => `--${n}`), '--help'].sort(), 'the help lists exactly the options the command takes');
      }
    });

    it(`${command}: an unknown option is an error naming it and pointing to --help`, async () => {
      const r = await weft(...args, ...(command === 'weft run' ? ['flow.ts'] : []), '--bogus', '1');
      assert.equal(r.code, 2);
      assert.match(r.err, new RegExp(`${command}: unknown option --bogus\\. Run '${command} --help' for its options\\.`));
    });
  }

  it("the README's CLI section names every option of every command", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const cli = readme.slice(readme.indexOf('\n## CLI'), readme.indexOf('\n## ', readme.indexOf('\n## CLI') + 1));
    for (const [command, { options }] of Object.entries(COMMANDS)) {
      assert.ok(cli.includes(command), `${command} in the README's CLI section`);
      for (const name of Object.keys(options)) assert.ok(cli.includes(`--${name}`), `--${name} (${command}) in the README's CLI section`);
    }
  });

  it('weft cluster --help lists its subcommands; an unknown command or subcommand points to --help', async () => {
    const [help, down, unknown, option] = await Promise.all([weft('cluster', '--help'), weft('cluster', 'down'), weft('frobnicate'), weft('--frobnicate')]);
    assert.equal(help.code, 0);
    assert.match(help.out, /^ {2}up /m);
    assert.match(down.err, /unknown subcommand 'down'\. Run 'weft cluster --help'/);
    assert.match(unknown.err, /unknown command 'frobnicate'\. Run 'weft --help'/);
    assert.match(option.err, /unknown option '--frobnicate'\. Run 'weft --help'/);
  });

  it('bad values and missing options are usage errors (exit 2) that name the option', async () => {
    const cases: [string[], RegExp][] = [
      [['worker'], /weft worker: --address is required\. Run 'weft worker --help'/],
      [['worker', '--address', 'redis://127.0.0.1:1', '--concurrency', '0'], /Expected --concurrency to be an integer ≥ 1, got '0'/],
      [['worker', '--address', 'redis://127.0.0.1:1', '--death-timeout', 'soon'], /Expected --death-timeout to be an integer ≥ 1, got 'soon'/],
      [['worker', '--address', 'http://127.0.0.1:1'], /Expected `--address` to be a Redis URL/],
      [['worker', '--address'], /--address needs a value \(URL\)/],
      [['worker', '--address', 'redis://127.0.0.1:1', '--address', 'redis://127.0.0.1:2'], /--address was given twice/],
      [['cluster', 'up', '--workers', '-1'], /Expected --workers to be an integer ≥ 0, got '-1'/],
      [['run'], /weft run: missing <file.ts>\[:flowName\]/],
      [['run', 'a.ts', 'b.ts'], /weft run: unexpected argument 'b.ts'/],
    ];
    const results = await Promise.all(cases.map(([args]) => weft(...args)));
    for (const [i, [args, expected]] of cases.entries()) {
      const r = results[i] as Awaited<ReturnType<typeof weft>>;
      assert.equal(r.code, 2, `weft ${args.join(' ')}: ${r.err}`);
      assert.match(r.err, expected);
    }
  });
});
