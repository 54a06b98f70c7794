import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { annotate, DistributedTaskRunner, flow, InvalidOptionError, ParallelTaskRunner, SequentialTaskRunner, task } from '../../src/index.ts';
import { resolveTaskOptions, retryDelay } from '../../src/core/options.ts';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** Asserts that `fn` throws InvalidOptionError for `option`, and that the message names the field, the expectation and the value. */
function rejects(fn: () => unknown, option: string, expected: RegExp, received: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InvalidOptionError, String(e));
    assert.equal(e.option, option);
    assert.equal(e.code, 'WEFT_INVALID_OPTION');
    assert.ok(e.message.startsWith(`Expected \`${option}\` to be `), e.message);
    assert.match(e.message, expected);
    assert.ok(e.message.endsWith(`, got ${received}`), `${e.message} ends with the received value ${received}`);
    return true;
  });
}

async function noop(): Promise<void> {}

describe('task options', () => {
  it('resolves defaults and given values', () => {
    const t = task(noop);
    assert.equal(t.taskName, 'noop');
    assert.deepEqual(t.options, { name: 'noop', retries: 0, retryDelayMs: [0], timeoutMs: Infinity, priority: 0, resources: {}, tags: [] });
    const u = task(noop, { name: 'renamed', retries: 2, retryDelayMs: 500, timeoutMs: 30_000, priority: -3, resources: { GPU: 1 }, tags: ['io'] });
    assert.deepEqual(u.options, { name: 'renamed', retries: 2, retryDelayMs: [500], timeoutMs: 30_000, priority: -3, resources: { GPU: 1 }, tags: ['io'] });
    assert.equal(u.taskName, 'renamed');
  });

  it('withOptions overrides some options and keeps the rest', () => {
    const t = task(noop, { retries: 2, tags: ['a'] });
    const u = t.withOptions({ priority: 5, retryDelayMs: [1, 2] });
    assert.deepEqual(u.options, { ...t.options, priority: 5, retryDelayMs: [1, 2] });
    assert.equal(t.options.priority, 0, 'the original is untouched');
    rejects(() => t.withOptions({ waitFor: 'x' as never }), 'waitFor', /a list of futures/, '`"x"` (string)');
  });

  it('retryDelay picks one delay per retry, the last repeating', () => {
    const o = resolveTaskOptions({ retryDelayMs: [10, 20, 40] }, undefined, 't');
    assert.deepEqual([1, 2, 3, 4, 5].map((n) => retryDelay(o, n)), [10, 20, 40, 40, 40]);
    assert.deepEqual([1, 2].map((n) => retryDelay(resolveTaskOptions({ retryDelayMs: 7 }, undefined, 't'), n)), [7, 7]);
  });

  it('each bad value is an error naming the field, the expectation and the value', () => {
    rejects(() => task(noop, { retries: -1 }), 'retries', /an integer ≥ 0/, '`-1` (number)');
    rejects(() => task(noop, { retries: 1.5 }), 'retries', /an integer ≥ 0/, '`1.5` (number)');
    rejects(() => task(noop, { retries: '2' as never }), 'retries', /an integer ≥ 0/, '`"2"` (string)');
    rejects(() => task(noop, { timeoutMs: 0 }), 'timeoutMs', /a number > 0 \(milliseconds\) or Infinity/, '`0` (number)');
    rejects(() => task(noop, { timeoutMs: -5 }), 'timeoutMs', /a number > 0/, '`-5` (number)');
    rejects(() => task(noop, { timeoutMs: NaN }), 'timeoutMs', /a number > 0/, '`NaN` (number)');
    rejects(() => task(noop, { timeoutMs: 3e9 }), 'timeoutMs', /at most 2147483647/, '`3000000000` (number)');
    rejects(() => task(noop, { retryDelayMs: [10, 2 ** 31] }), 'retryDelayMs[1]', /at most 2147483647/, '`2147483648` (number)');
    rejects(() => task(noop, { retryDelayMs: 2 ** 31 }), 'retryDelayMs', /at most 2147483647/, '`2147483648` (number)');
    assert.equal(task(noop, { timeoutMs: 2_147_483_647 }).options.timeoutMs, 2_147_483_647);
    rejects(() => task(noop, { retryDelayMs: [-1] }), 'retryDelayMs[0]', /a finite number ≥ 0/, '`-1` (number)');
    rejects(() => task(noop, { retryDelayMs: [1, -2] }), 'retryDelayMs[1]', /a finite number ≥ 0/, '`-2` (number)');
    rejects(() => task(noop, { retryDelayMs: -1 }), 'retryDelayMs', /a finite number ≥ 0/, '`-1` (number)');
    rejects(() => task(noop, { retryDelayMs: [] }), 'retryDelayMs', /a number ≥ 0 or a non-empty list of them/, '`[]` (array)');
    rejects(() => task(noop, { priority: Infinity }), 'priority', /a finite number/, '`Infinity` (number)');
    rejects(() => task(noop, { resources: { GPU: -1 } }), 'resources.GPU', /a finite number ≥ 0/, '`-1` (number)');
    rejects(() => task(noop, { resources: 'GPU' as never }), 'resources', /an object of resource amounts/, '`"GPU"` (string)');
    rejects(() => task(noop, { tags: ['a', 1] as never }), 'tags', /a list of strings/, '`["a",1]` (array)');
    rejects(() => task(noop, { name: '' }), 'name', /a non-empty string/, '`""` (string)');
    rejects(() => task(noop, { retry: 3 } as never), 'options.retry', /one of the known options \(name, retries, /, '`3` (number)');
    rejects(() => task(noop, 'fast' as never), 'options', /an object/, '`"fast"` (string)');
  });

  it('an anonymous task function without a name is a clear error; a name option fixes it', () => {
    rejects(() => task(async () => 1), 'name', /a name for an anonymous task function: task\(async function myTask\(\) \{ \.\.\. \}\) or task\(fn, \{ name: "myTask" \}\)/, '`undefined` (undefined)');
    assert.equal(task(async () => 1, { name: 'named' }).taskName, 'named');
  });

  it('a task of a non-function is a clear error', () => {
    rejects(() => task(42 as never), 'fn', /a function, as in task\(async function name/, '`42` (number)');
    rejects(() => task(undefined as never), 'fn', /a function/, '`undefined` (undefined)');
  });
});

describe('annotate options', () => {
  it('each bad value is an error naming the field, the expectation and the value', () => {
    rejects(() => annotate({ priority: 'high' as never }, () => 0), 'annotations.priority', /^Expected `annotations\.priority` to be a finite number,/, '`"high"` (string)');
    rejects(() => annotate({ priority: Infinity }, () => 0), 'annotations.priority', /a finite number/, '`Infinity` (number)');
    rejects(() => annotate({ retries: 0.5 }, () => 0), 'annotations.retries', /an integer ≥ 0/, '`0.5` (number)');
    rejects(() => annotate({ resources: { GPU: -1 } }, () => 0), 'annotations.resources.GPU', /a finite number ≥ 0/, '`-1` (number)');
    rejects(() => annotate({ timeoutMs: 1 } as never, () => 0), 'annotations.timeoutMs', /one of the known options \(priority, resources, retries\)/, '`1` (number)');
    rejects(() => annotate(null as never, () => 0), 'annotations', /an object/, '`null` (null)');
  });
});

describe('flow options', () => {
  it('names an arrow flow after its module; rejects a non-function, a bad runner, a bad hook and a bad parameters schema', () => {
    assert.equal(flow(async () => 1).flowName, 'options.test');
    rejects(() => flow(noop, { parameters: { validate: () => true } as never }), 'parameters', /a Standard Schema/, '`{}` (object)');
    rejects(() => flow('main' as never), 'fn', /a function/, '`"main"` (string)');
    rejects(() => flow(noop, { taskRunner: {} as never }), 'taskRunner', /a task runner such as new ParallelTaskRunner\(\)/, '`{}` (object)');
    rejects(() => flow(noop, { onCompletion: 'log' as never }), 'onCompletion', /a function/, '`"log"` (string)');
    rejects(() => flow(noop, { runner: 1 } as never), 'options.runner', /one of the known options/, '`1` (number)');
    assert.equal(flow(async () => 1, { name: 'named' }).flowName, 'named');
  });
});

describe('runner options', () => {
  it('ParallelTaskRunner validates workers, scheduler, resources and unknown keys', () => {
    rejects(() => new ParallelTaskRunner({ workers: 0 }), 'workers', /an integer ≥ 1/, '`0` (number)');
    rejects(() => new ParallelTaskRunner({ workers: 2.5 }), 'workers', /an integer ≥ 1/, '`2.5` (number)');
    rejects(() => new ParallelTaskRunner({ scheduler: 'gpu' as never }), 'scheduler', /one of 'async', 'threads', 'processes'/, '`"gpu"` (string)');
    rejects(() => new ParallelTaskRunner({ resources: { GPU: -1 } }), 'resources.GPU', /a finite number ≥ 0/, '`-1` (number)');
    rejects(() => new ParallelTaskRunner({ threads: 2 } as never), 'options.threads', /one of the known options \(scheduler, workers, resources/, '`2` (number)');
  });

  it('ParallelTaskRunner defaults and duplicates', () => {
    const r = new ParallelTaskRunner({ workers: 3, resources: { GPU: 1 } });
    assert.equal(r.options.scheduler, 'async');
    assert.equal(r.name, 'parallel(async, 3)');
    assert.deepEqual(r.capacity, { GPU: 1 });
    assert.equal(r.state, 'idle');
    const d = r.duplicate();
    assert.notEqual(d, r);
    assert.deepEqual(d.options, r.options);
    assert.ok(new ParallelTaskRunner().options.workers >= 1);
  });

  it('SequentialTaskRunner validates its options', () => {
    rejects(() => new SequentialTaskRunner({ workers: 2 } as never), 'options.workers', /one of the known options \(resources, performanceReport\)/, '`2` (number)');
    rejects(() => new SequentialTaskRunner({ resources: { GPU: NaN } }), 'resources.GPU', /a finite number/, '`NaN` (number)');
    assert.deepEqual(new SequentialTaskRunner({ resources: { GPU: 1 } }).capacity, { GPU: 1 });
  });
});

describe('performanceReport', () => {
  it('every runner takes it and checks the path at construction: a missing or unwritable directory is an error before the run', () => {
    const makers = [
      (p: string) => new SequentialTaskRunner({ performanceReport: p }),
      (p: string) => new ParallelTaskRunner({ scheduler: 'threads', performanceReport: p }),
      (p: string) => new DistributedTaskRunner({ performanceReport: p }),
    ];
    for (const make of makers) {
      assert.equal(make('report.html').performanceReport, resolve('report.html'));
      rejects(() => make('/no/such/dir/report.html'), 'performanceReport', /a path in a directory that exists: \/no\/such\/dir does not; create it first/, '`"/no/such/dir/report.html"` (string)');
      rejects(() => make(tmpdir()), 'performanceReport', /is a directory/, `\`${JSON.stringify(tmpdir())}\` (string)`);
      rejects(() => make(''), 'performanceReport', /a file path/, '`""` (string)');
    }
    if (process.getuid?.() !== 0) {
      const dir = mkdtempSync(join(tmpdir(), 'weft-ro-'));
      chmodSync(dir, 0o500);
      try {
        rejects(() => new SequentialTaskRunner({ performanceReport: join(dir, 'r.html') }), 'performanceReport', /is not writable/, `\`${JSON.stringify(join(dir, 'r.html'))}\` (string)`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });
});
