/**
 * Runs the type tests (api.test-d.ts) under `npm test`, so a type regression in the public API
 * fails the suite. The project-wide `tsc --noEmit -p .` (npm run lint) checks them too.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

describe('public types', () => {
  it('has negative cases: lines that must not type-check', () => {
    const source = readFileSync(here('./api.test-d.ts'), 'utf8');
    assert.ok(source.split('\n').filter((line) => line.includes('@ts-expect-error')).length >= 10);
  });

  it('api.test-d.ts type-checks, every @ts-expect-error included', () => {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '--noEmit', '-p', here('./tsconfig.json')], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`);
  });
});
