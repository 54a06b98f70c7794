// @needs redis-server
/**
 * The package tier: weft as a user gets it. Builds weft into a staging copy, `npm pack`s it, and
 * installs the tarball into two scratch projects under os.tmpdir(), outside the repository:
 *
 * - `ts-app`: weftjs, tsx and typescript, TypeScript sources (`flow.ts` importing `./tasks.ts`);
 * - `js-app`: weftjs only (no tsx anywhere), the same flow compiled by tsc to JavaScript.
 *
 * There one small flow runs on each of the five runners under each way of starting it
 * (`npx tsx flow.ts`, `node --import tsx flow.ts`, `npx weft run flow.ts`, `node flow.js`, and
 * `npx weft run flow.js`), the README's tsconfig type-checks the flow, and every examples/* entry
 * runs from the installed package. Nothing here reaches back into the repository's src/.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RUNNERS = ['sequential', 'async', 'threads', 'processes', 'cluster'] as const;
const EXPECTED = 'sum of squares: 30';

let scratch: string;
let tsApp: string;
let jsApp: string;

type Result = Pick<SpawnSyncReturns<string>, 'status' | 'signal' | 'stdout' | 'stderr' | 'error'>;

function environment(env: Record<string, string>): NodeJS.ProcessEnv {
  // `npm_config_*` from the `npm test` that started this would point the scratch installs back at the repository.
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_') && k !== 'NODE_OPTIONS' && k !== 'INIT_CWD'));
  return { ...clean, ...env };
}

function sh(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Result {
  // Generous: these bound hangs, not speed (a build under a loaded machine takes minutes).
  return spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: 600_000, env: environment(env) });
}

/** Like {@link sh}, without blocking: the cases run a few at a time. */
function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Result> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd, env: environment(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
    child.once('error', (error) => resolve({ status: null, signal: null, stdout, stderr, error }));
    child.once('exit', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
  });
}

function ok(r: Result, what: string): string {
  assert.equal(r.status, 0, `${what} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}${r.error ? `\n${r.error.message}` : ''}`);
  return r.stdout;
}

function devVersion(name: string): string {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as { devDependencies?: Record<string, string>; dependencies?: Record<string, string> };
  return (pkg.devDependencies?.[name] ?? pkg.dependencies?.[name]) as string;
}

/** Stages what `npm pack` would pack from a fresh build (without touching the repository's dist/), and packs it. */
function pack(): string {
  const stage = join(scratch, 'stage');
  mkdirSync(stage);
  for (const f of ['package.json', 'README.md', 'bin']) cpSync(join(REPO, f), join(stage, f), { recursive: true });
  ok(sh(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(stage, 'dist')], REPO), 'tsc (build)');
  // The rest of `npm run build`: weft's chunks and the BullMQ + ioredis bundle (what the package runs).
  ok(sh(process.execPath, [join(REPO, 'scripts/bundle.mjs'), join(stage, 'dist')], REPO), 'bundle (build)');
  const out = ok(sh('npm', ['pack', '--silent', '--pack-destination', scratch], stage), 'npm pack');
  return join(scratch, out.trim().split('\n').pop() as string);
}

function install(dir: string, packages: string[]): void {
  mkdirSync(dir);
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'scratch-app', private: true, type: 'module' }, null, 2));
  ok(sh('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', ...packages], dir), `npm install in ${dir}`);
}

const TASKS = `import { task } from 'weftjs';

/** A task in its own TypeScript module: workers must load it by themselves. */
export const square = task(async function square(x: number): Promise<number> {
  return x * x;
});
`;

const FLOW = `import { DistributedTaskRunner, flow, isMain, ParallelTaskRunner, SequentialTaskRunner, type TaskRunner } from 'weftjs';
import { square } from './tasks.ts';

const runners: Record<string, () => TaskRunner> = {
  sequential: () => new SequentialTaskRunner(),
  async: () => new ParallelTaskRunner({ scheduler: 'async', workers: 2 }),
  threads: () => new ParallelTaskRunner({ scheduler: 'threads', workers: 2 }),
  processes: () => new ParallelTaskRunner({ scheduler: 'processes', workers: 2 }),
  cluster: () => new DistributedTaskRunner({ clusterOptions: { workers: 1, threadsPerWorker: 2 } }),
};
const make = runners[process.env.RUNNER ?? ''];
if (!make) throw new Error('set RUNNER to one of ' + Object.keys(runners).join(', '));

export const sumOfSquares = flow(async function sumOfSquares(n: number): Promise<string> {
  const squares = await Promise.all(square.map(Array.from({ length: n }, (_, i) => i + 1)));
  return 'sum of squares: ' + squares.reduce((a, b) => a + b, 0);
}, { taskRunner: make() });

if (isMain(import.meta)) console.log(await sumOfSquares(4));
`;

/** Many small task runs with a performance report: its chunks go to the report thread, which dist must ship. */
const REPORT_FLOW = `import { gunzipSync } from 'node:zlib';
import { flow, ParallelTaskRunner, task } from 'weftjs';

const noop = task(async function noop(x: number): Promise<number> {
  return x;
});

const many = flow(async function many(n: number): Promise<number> {
  const futures = [];
  for (let i = 0; i < n; i++) futures.push(noop.submit(i));
  let s = 0;
  for (const f of futures) s += await f;
  return s;
}, { taskRunner: new ParallelTaskRunner({ scheduler: 'async', workers: 8, performanceReport: process.env.REPORT as string }) });

const record = await many.run(30_000);
// The payload's JSON part (html.ts): [u32 length][JSON]..., gzipped, base64 in the page.
const data = /id="weft-data"[^>]*>([^<]*)</.exec(record.performanceReport ?? '')?.[1] ?? '';
const raw = gunzipSync(Buffer.from(data, 'base64'));
const payload = JSON.parse(raw.subarray(4, 4 + raw.readUInt32LE(0)).toString('utf8')) as { summary: { taskRuns: number } };
console.log(record.state, 'task runs in the report:', payload.summary.taskRuns);
`;

/** The tsconfig the Install section of the README (as packed) gives TypeScript users. */
function readmeTsconfig(readme: string): object {
  const install = readme.slice(readme.indexOf('## Install'));
  const block = /```json\n([\s\S]*?)\n```/.exec(install);
  assert.ok(block, "a tsconfig in the README's Install section");
  return JSON.parse(block[1] as string) as object;
}

before(() => {
  scratch = mkdtempSync(join(tmpdir(), 'weft-package-'));
  const tarball = pack();
  tsApp = join(scratch, 'ts-app');
  jsApp = join(scratch, 'js-app');
  install(tsApp, [tarball, `tsx@${devVersion('tsx')}`, `typescript@${devVersion('typescript')}`, `@types/node@${devVersion('@types/node')}`]);
  install(jsApp, [tarball]);
  writeFileSync(join(tsApp, 'tasks.ts'), TASKS);
  writeFileSync(join(tsApp, 'flow.ts'), FLOW);
  writeFileSync(join(tsApp, 'report.ts'), REPORT_FLOW);
  const readme = readFileSync(join(tsApp, 'node_modules/weftjs/README.md'), 'utf8');
  writeFileSync(join(tsApp, 'tsconfig.json'), JSON.stringify({ ...readmeTsconfig(readme), include: ['*.ts'] }, null, 2));
  // Compiled JavaScript, as a project with a build step ships it: the same sources through tsc.
  writeFileSync(join(tsApp, 'tsconfig.build.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { noEmit: false, rewriteRelativeImportExtensions: true, outDir: jsApp }, include: ['*.ts'] }, null, 2));
  ok(sh(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], tsApp), 'tsc (compile the flow)');
  cpSync(join(REPO, 'examples'), join(tsApp, 'examples'), { recursive: true });
}, { timeout: 900_000 });

after(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the installed package', () => {
  it('is installed as weftjs, with its CLI as weft, and no tsx where the user did not install it', () => {
    assert.ok(existsSync(join(tsApp, 'node_modules/weftjs/dist/index.js')));
    assert.ok(existsSync(join(tsApp, 'node_modules/.bin/weft')));
    assert.ok(!existsSync(join(jsApp, 'node_modules/tsx')), 'the compiled-JavaScript project has no tsx installed');
    assert.ok(!existsSync(join(tsApp, 'node_modules/weftjs/src')), 'the package ships no sources');
  });

  it("type-checks the flow with the README's tsconfig, and with its Bundler variant", () => {
    ok(sh(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], tsApp), 'tsc --noEmit');
    writeFileSync(join(tsApp, 'tsconfig.bundler.json'), JSON.stringify({ extends: './tsconfig.json', compilerOptions: { module: 'Preserve', moduleResolution: 'Bundler' }, include: ['*.ts'] }));
    ok(sh(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.bundler.json'], tsApp), 'tsc --noEmit (Bundler)');
  });

  for (const runner of RUNNERS) {
    describe(`on ${runner}`, { concurrency: 3 }, () => {
      it('npx tsx flow.ts', async () => {
        assert.equal(ok(await run('npx', ['--no', 'tsx', 'flow.ts'], tsApp, { RUNNER: runner }), 'npx tsx').trim(), EXPECTED);
      });
      it('node --import tsx flow.ts', async () => {
        assert.equal(ok(await run(process.execPath, ['--import', 'tsx', 'flow.ts'], tsApp, { RUNNER: runner }), 'node --import tsx').trim(), EXPECTED);
      });
      it('npx weft run flow.ts', async () => {
        assert.equal(ok(await run('npx', ['--no', 'weft', 'run', 'flow.ts', '--param', 'n=4'], tsApp, { RUNNER: runner }), 'weft run').trim(), EXPECTED);
      });
      it('node flow.js (compiled, no tsx installed)', async () => {
        assert.equal(ok(await run(process.execPath, ['flow.js'], jsApp, { RUNNER: runner }), 'node flow.js').trim(), EXPECTED);
      });
      it('npx weft run flow.js (compiled, no tsx installed)', async () => {
        assert.equal(ok(await run('npx', ['--no', 'weft', 'run', 'flow.js', '--param', 'n=4'], jsApp, { RUNNER: runner }), 'weft run flow.js').trim(), EXPECTED);
      });
    });
  }

  it('says tsx is needed when a TypeScript task module is asked for where tsx is not installed', () => {
    cpSync(join(tsApp, 'tasks.ts'), join(jsApp, 'tasks-ts.ts'));
    const r = sh('npx', ['--no', 'weft', 'run', 'tasks-ts.ts'], jsApp);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /tsx/);
    assert.match(r.stderr, /npm install --save-dev tsx/);
  });

  for (const [how, app, file] of [['npx tsx report.ts', () => tsApp, 'report.ts'], ['node report.js (compiled, no tsx installed)', () => jsApp, 'report.js']] as const) {
    it(`writes a performance report, built in the report thread from dist: ${how}`, async () => {
      const out = join(app(), 'report.html');
      const r = file.endsWith('.ts') ? await run('npx', ['--no', 'tsx', file], app(), { REPORT: out }) : await run(process.execPath, [file], app(), { REPORT: out });
      assert.match(ok(r, how), /Completed task runs in the report: 30000/);
      assert.doesNotMatch(r.stderr, /report thread/, 'the report thread started from the installed package');
      assert.ok(readFileSync(out, 'utf8').includes('id="weft-data"'), 'the file is written');
    });
  }

  describe('the examples, from the installed package', { concurrency: 3 }, () => {
    for (const example of readdirSync(join(REPO, 'examples')).sort()) {
      const entry = existsSync(join(REPO, 'examples', example, 'main.ts')) ? 'main.ts' : 'flow.ts';
      it(`examples/${example}/${entry}`, async () => {
        const r = await run(process.execPath, ['--import', 'tsx', join('examples', example, entry)], tsApp, { WEFT_EXAMPLE_SCALE: '0.02', PLUMES_DELAY_MS: '20' });
        ok(r, `examples/${example}`);
        assert.notEqual(r.stdout.trim(), '', `examples/${example} printed nothing`);
      });
    }
  });
});

// Guard for the tier's own honesty: the scratch projects resolve weftjs to the installed copy.
it('resolves weftjs inside the scratch project, not the repository', () => {
  const resolved = execFileSync(process.execPath, ['--input-type=module', '-e', "console.log(import.meta.resolve('weftjs'))"], { cwd: jsApp, encoding: 'utf8' }).trim();
  assert.ok(resolved.startsWith(`file://${jsApp}/node_modules/weftjs/`), resolved);
});
