import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));

function weft(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

describe('weft run', () => {
  it('runs a TypeScript flow file and prints its result', () => {
    const r = weft('run', 'examples/quickstart/flow.ts:sumOfSquares');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), 'sum of squares: 285');
  });

  it('binds --param values to the flow parameters by name, parsing JSON', () => {
    const r = weft('run', 'examples/quickstart/flow.ts:sumOfSquares', '--param', 'n=4', '--param', 'label=squares');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out.trim(), 'squares: 14');
  });

  it('does not run the isMain-guarded top-level flow call a second time', () => {
    const r = weft('run', 'examples/quickstart/flow.ts:sumOfSquares', '--param', 'n=3');
    assert.deepEqual(r.out.trim().split('\n'), ['sum of squares: 5']);
  });

  it('exits non-zero with the error when the flow fails', () => {
    const r = weft('run', 'examples/quickstart/flow.ts:failing');
    assert.equal(r.code, 1);
    assert.match(r.err, /Flow run '.+' of flow 'failing' failed/);
    assert.match(r.err, /RangeError: this flow fails on purpose/);
  });

  it('names the flows to choose from when a file exports several', () => {
    const r = weft('run', 'examples/quickstart/flow.ts');
    assert.equal(r.code, 2);
    assert.match(r.err, /exports several flows \(failing, sumOfSquares\)/);
  });

  it('rejects an unknown flow, an unknown parameter and a missing file with what to do', () => {
    assert.match(weft('run', 'examples/quickstart/flow.ts:nope').err, /exports no flow named 'nope'; it exports: failing, sumOfSquares/);
    assert.match(weft('run', 'examples/quickstart/flow.ts:sumOfSquares', '--param', 'm=1').err, /has no parameter 'm'; its parameters are: n, label/);
    assert.match(weft('run', 'examples/quickstart/nope.ts').err, /no such file/);
    assert.match(weft('run', 'examples/quickstart/flow.ts:sumOfSquares', '--bogus', '1').err, /unknown option --bogus. Run 'weft run --help'/);
  });

  it('prints usage for an unknown command', () => {
    const r = weft('frobnicate');
    assert.equal(r.code, 2);
    assert.match(r.err, /unknown command 'frobnicate'/);
  });
});
