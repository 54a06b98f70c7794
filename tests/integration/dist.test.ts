import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const root = fileURLToPath(new URL('../..', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../../dist/index.js', import.meta.url)));

// CI builds before it tests (`npm run build && npm test`); on a person's machine without a build
// this is skipped with the command that makes it run.
describe('the built package (dist/)', { skip: built ? false : 'no dist/: run `npm run build` first' }, () => {
  it('runs a flow through the compiled CLI', () => {
    const r = spawnSync(process.execPath, ['bin/weft.js', 'run', 'examples/quickstart/flow.ts:sumOfSquares', '--param', 'n=4'], {
      cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, WEFT_USE_DIST: '1' },
    });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'sum of squares: 14');
  });

  it('exports the public API from dist/index.js with plain node (no TypeScript loader)', () => {
    const script = `import('./dist/index.js').then(async (w) => {
      const double = w.task(async function double(x) { return 2 * x; });
      const f = w.flow(async function f() { return Promise.all(double.map([1, 2, 3])); }, { taskRunner: new w.ParallelTaskRunner({ scheduler: 'async', workers: 2 }) });
      console.log(JSON.stringify(await f()));
    })`;
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '[2,4,6]');
  });
});
