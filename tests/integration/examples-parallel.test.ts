/**
 * Runs examples/parallel-cpu and examples/parallel-io as a user would (`tsx file.ts`), small
 * (WEFT_EXAMPLE_SCALE), and checks that every runner gives the same answer and nothing is left.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { within } from '../helpers/eventually.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

function runExample(path: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path], { cwd: root, env: { ...process.env, WEFT_EXAMPLE_SCALE: '0.02' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

for (const [example, unit] of [['examples/parallel-cpu/flow.ts', 'primes'], ['examples/parallel-io/flow.ts', 'bytes']] as const) {
  test(`${example} runs on sequential, async, threads and processes with the same result`, async () => {
    // The example exits on its own only if every runner stopped its threads and processes.
    const { code, stdout, stderr } = await within(runExample(example), 120_000, example);
    assert.equal(code, 0, stderr);
    const lines = stdout.split('\n').filter((l) => l.includes(` ${unit} in `));
    assert.deepEqual(lines.map((l) => l.trim().split(/\s+/)[0]), ['sequential', 'async', 'threads', 'processes']);
    const answers = new Set(lines.map((l) => l.match(new RegExp(`(\\d+) ${unit}`))?.[1]));
    assert.equal(answers.size, 1, stdout);
  });
}
