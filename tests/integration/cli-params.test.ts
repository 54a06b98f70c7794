import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));
const file = 'tests/fixtures/cli/params.ts';

function weft(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'run', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr };
}

describe('weft run --param with a parameters schema', () => {
  it('zod coerces a number and keeps a number-like string a string', () => {
    const r = weft(`${file}:zodReport`, '--param', 'pages=3', '--param', 'date=20240101');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), { pages: 3, date: '20240101', draft: false, types: ['number', 'string', 'boolean'] });
  });

  it('bad values exit 2 naming each parameter, what was expected and what was typed, and nothing runs', () => {
    const r = weft(`${file}:zodReport`, '--param', 'pages=abc', '--param', 'date=2024');
    assert.equal(r.code, 2);
    assert.equal(r.out, '', 'the flow did not run');
    assert.match(r.err, /Flow 'zodReport' was given invalid parameters: `pages`: [^;]*expected number[^;]*\(got `"abc"` \(string\)\); `date`: [^;]*pattern[^;]*\(got `"2024"`/);
  });

  it('a missing required parameter is named, by the schema', () => {
    const r = weft(`${file}:zodReport`, '--param', 'date=20240101');
    assert.equal(r.code, 2);
    assert.match(r.err, /`pages`: .*\(not given\)/);
  });

  it('valibot, on an arrow function, with a transform that runs once', () => {
    const r = weft(`${file}:valibotReport`, '--param', 'pages=2', '--param', 'when=20240131');
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out), { pages: 2, when: '2024-01-31' });
  });

  it('a destructured parameter gets the validated object', () => {
    const r = weft(`${file}:destructured`, '--param', 'city=Oslo', '--param', 'days=3');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'Oslo for 3 days');
  });
});

describe('weft run --param without a schema', () => {
  it('a parameter without a default that --param does not give is an error', () => {
    const r = weft(`${file}:plain`);
    assert.equal(r.code, 2);
    assert.match(r.err, /`pages`: required \(pass --param pages=VALUE\) \(not given\)/);
  });

  it('a string default keeps text text; a number default must parse as a number; a boolean default as true or false', () => {
    const ok = weft(`${file}:plain`, '--param', 'pages=3', '--param', 'date=20240101', '--param', 'copies=2', '--param', 'color=true');
    assert.equal(ok.code, 0, ok.err);
    assert.deepEqual(JSON.parse(ok.out), { pages: 3, date: '20240101', copies: 2, color: true });
    const bad = weft(`${file}:plain`, '--param', 'pages=3', '--param', 'copies=x', '--param', 'color=yes');
    assert.equal(bad.code, 2);
    assert.match(bad.err, /`copies`: expected a number \(its default is one\) \(got `"x"` \(string\)\); `color`: expected true or false/);
  });

  it('an arrow function takes --param like a named one', () => {
    const r = weft(`${file}:arrow`, '--param', 'pages=5');
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, 'pages: 5');
  });

  it('rejects a malformed and a repeated --param', () => {
    assert.match(weft(`${file}:arrow`, '--param', 'pages').err, /--param must be key=value, got 'pages'/);
    assert.match(weft(`${file}:arrow`, '--param', 'pages=1', '--param', 'pages=2').err, /--param pages was given twice/);
  });
});
