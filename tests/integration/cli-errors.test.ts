import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const root = fileURLToPath(new URL('../..', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/weft.js', import.meta.url));

function weft(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'run', ...args], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe('weft run prints errors once', () => {
  it("a failed task's error: each layer says its own fact, the task's sentence once, the user's frames first", () => {
    const r = weft('tests/fixtures/cli/failing.ts:failingFlow', '--param', 'text=abc');
    assert.equal(r.code, 1);
    assert.equal(count(r.err, 'not a number of pages: abc'), 1, r.err);
    assert.match(r.err, /^weft run: FlowRunError: Flow run '.+' of flow 'failingFlow' failed: task run 'parse-1' failed\n/);
    assert.match(r.err, /\n {2}caused by TaskRunError: Task run 'parse-1' of task 'parse' failed on attempt 1\n/);
    assert.match(r.err, /\n {2}caused by RangeError: not a number of pages: abc\n/);
    const frames = r.err.split('\n').filter((l) => /^\s+at /.test(l));
    assert.match(frames[0] ?? '', /at checkDigits .*failing\.ts/, 'the first frame is the user code that threw');
    assert.ok(frames.every((f) => !f.includes(`${root}src/`)), `no weft frames:\n${r.err}`);
    assert.match(r.err, /\.\.\. \d+ frames? of weft and Node/);
  });

  it('an unguarded module is its own error, not a task that was not found', () => {
    // The module's own top-level call runs the flow as weft run imports it, and fails the import.
    const r = weft('tests/fixtures/cli/unguarded.ts:unguarded');
    assert.equal(r.code, 2);
    assert.match(r.err, /UnguardedModuleError: Flow 'unguarded' was started while a weft worker imported .*unguarded\.ts to find a task/);
    assert.match(r.err, /if \(isMain\(import\.meta\)\)/);
    assert.doesNotMatch(r.err, /TaskNotFoundError|at the top level of a module/);
  });

  it('Ctrl-C cancels the run and prints one line, no stack', async () => {
    const child = spawn(process.execPath, [bin, 'run', 'tests/fixtures/cli/failing.ts:slowFlow'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let err = '';
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`the flow never started:\n${err}`)), 60_000);
        child.stderr.on('data', (chunk: Buffer) => {
          err += chunk.toString();
          if (err.includes('slow flow started')) {
            clearTimeout(timer);
            resolve();
          }
        });
      });
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      assert.equal(code, 130);
      assert.match(err, /was cancelled \(interrupted from the terminal\)/);
      assert.doesNotMatch(err, /^\s+at /m, 'no stack');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
