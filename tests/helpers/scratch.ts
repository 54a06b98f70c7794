/**
 * Scratch directories for tests, removed when the test file's process exits, however its tests
 * ended: a test that fails (or times out) before its own cleanup leaves nothing in the temp dir.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const made: string[] = [];

/** A new directory under the temp dir, named `<prefix>-…`, gone when this process exits. */
export function scratchDir(prefix: string): string {
  if (made.length === 0) process.once('exit', removeAll);
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  made.push(dir);
  return dir;
}

function removeAll(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}
