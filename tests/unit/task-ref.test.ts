/** portableRef: how a task's module is named to a worker on another host. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { portableRef, sourceHash } from '../../src/protocol/task-ref.ts';

test('portableRef: relative to the root with the source hash; outside it, the hash only; as it is when already portable or not a file', (t) => {
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'weft-ref-')));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'a.ts'), 'export {};\n');
  writeFileSync(join(dir, 'b.ts'), 'export const b = 1;\n');
  const ref = { module: pathToFileURL(join(dir, 'a.ts')).href, name: 'a' };
  const portable = portableRef(ref, dir);
  assert.deepEqual(portable, { ...ref, path: 'a.ts', hash: sourceHash(join(dir, 'a.ts')) });
  assert.equal(portableRef(ref, dir), portable, 'computed once per ref');
  assert.notEqual(sourceHash(join(dir, 'a.ts')), sourceHash(join(dir, 'b.ts')));
  const outside = portableRef(ref, join(dir, 'sub'));
  assert.equal(outside.path, undefined);
  assert.equal(outside.hash, portable.hash);
  assert.equal(portableRef(portable, '/elsewhere'), portable, 'a ref passed on keeps the path it came with');
  const notAFile = { module: 'node:fs', name: 'x' };
  assert.equal(portableRef(notAFile, dir), notAFile);
});
