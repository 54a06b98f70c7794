import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as v from 'valibot';
import { z } from 'zod';
import { FlowParametersError, FlowRunError, flow } from '../../src/index.ts';
import { readParameters } from '../../src/core/parameters.ts';

const names = (fn: (...args: never[]) => unknown) => readParameters(fn)?.map((p) => `${p.rest ? '...' : ''}${p.name}${p.optional ? '?' : ''}:${p.defaultType ?? '-'}`);

describe('reading parameters from the source', () => {
  it('named, async, arrow, bare arrow, with defaults of every kind', () => {
    assert.deepEqual(names(function f(a: number, b = 'x,y)', c = 3, d = true) { return [a, b, c, d]; }), ['a:-', 'b?:string', 'c?:number', 'd?:boolean']);
    assert.deepEqual(names(async (pages: number, label = `p(${1})`) => [pages, label]), ['pages:-', 'label?:string']);
    assert.deepEqual(names(((x: number) => x) as never), ['x:-']);
    assert.deepEqual(names(async function g(a = [1, 2], b = { c: 1 }, ...rest: number[]) { return [a, b, rest]; }), ['a?:other', 'b?:other', '...rest?:-']);
    assert.deepEqual(names(function h(/* a comment, with ( */ n = -1.5e3) { return n; }), ['n?:number']);
    assert.deepEqual(names(() => 1), []);
  });

  it('a destructured parameter cannot be named', () => {
    assert.equal(readParameters(({ a }: { a: number }) => a), undefined);
  });
});

describe('a direct call validates through the parameters schema', () => {
  it('coerces with zod and passes the output in order', async () => {
    const f = flow(async function report(pages: number, date: string) {
      return [pages, date, typeof pages];
    }, { parameters: z.object({ pages: z.coerce.number(), date: z.string() }) });
    assert.deepEqual(await f('7' as never, '20240101'), [7, '20240101', 'number']);
  });

  it('rejects with FlowRunError whose cause is FlowParametersError naming parameter, expectation and value; nothing runs', async () => {
    let ran = false;
    const f = flow(async function strict(pages: number) {
      ran = true;
      return pages;
    }, { parameters: v.object({ pages: v.pipe(v.number(), v.integer()) }) });
    const run = f.run(1.5);
    await assert.rejects(run.result(), (e: unknown) => {
      assert.ok(e instanceof FlowRunError);
      assert.ok(e.cause instanceof FlowParametersError, String(e.cause));
      assert.deepEqual(e.cause.issues.map((i) => [i.parameter, i.received]), [['pages', 1.5]]);
      assert.match(e.cause.message, /`pages`: .*integer.*\(got `1\.5` \(number\)\)/i);
      return true;
    });
    assert.equal(ran, false);
    assert.equal((await run).state, 'Failed');
  });

  it('an async schema is awaited; withOptions({ parameters: null }) drops it', async () => {
    const schema = z.object({ n: z.number().refine(async (n) => n > 0, 'must be positive') });
    const f = flow(async function positive(n: number) {
      return n;
    }, { parameters: schema });
    await assert.rejects(f(-1), (e: unknown) => e instanceof FlowRunError && e.cause instanceof FlowParametersError && /must be positive/.test(e.cause.message));
    assert.equal(await f(2), 2);
    assert.equal(await f.withOptions({ parameters: null })(-1), -1);
  });
});
