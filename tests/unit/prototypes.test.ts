import assert from 'node:assert/strict';
import * as v8 from 'node:v8';
import { describe, it } from 'node:test';
import { SerializationError } from '../../src/errors.ts';
import { serializable } from '../../src/index.ts';
import { decodeArgs, decodeValue, encodeArgs, encodeValue } from '../../src/protocol/prototypes.ts';
import { Money, Unmarked } from '../fixtures/core/money.ts';

/** Sends a value as the transports do (v8 structured clone), through the check on both sides. */
async function cross<T>(value: T, path = 'result'): Promise<T> {
  const sent = v8.deserialize(v8.serialize(encodeValue(value, path)));
  return (await decodeValue(sent, path)) as T;
}

function misfit(value: unknown, path = 'args[0]'): { path: string; valueType: string; problem: string } {
  try {
    encodeValue(value, path);
  } catch (error) {
    assert.ok(error instanceof SerializationError, String(error));
    return { path: error.path, valueType: error.valueType, problem: error.problem };
  }
  assert.fail('expected a SerializationError');
}

class Point {
  constructor(readonly x: number, readonly y: number) {}
}
class Tagged extends Map<string, number> {

  sum(): number {
    return [...this.values()].reduce((a, b) => a + b, 0);
  }
}
serializable(Tagged);

describe('the prototype check', () => {
  it('names the path and class of an unmarked instance, wherever it sits', () => {
    assert.deepEqual(misfit(new Point(1, 2)), { path: 'args[0]', valueType: 'Point', problem: 'prototype' });
    assert.deepEqual(misfit({ a: [0, { b: new Point(1, 2) }] }), { path: 'args[0].a[1].b', valueType: 'Point', problem: 'prototype' });
    assert.deepEqual(misfit(new Map([['k', new Point(0, 0)]])).path, 'args[0].get("k")');
    assert.deepEqual(misfit(new Map([[new Point(0, 0), 1]])).path, 'args[0].keys[0]');
    assert.deepEqual(misfit(new Set([1, new Unmarked(3)])), { path: 'args[0].values[1]', valueType: 'Unmarked', problem: 'prototype' });
    assert.deepEqual(misfit({ 'content-type': new Point(0, 0) }).path, 'args[0]["content-type"]');
    assert.deepEqual(misfit({ money: new Money(1, 'EUR'), url: new URL('https://example.com') }).path, 'args[0].url');
    assert.equal(misfit(Object.create({ inherited: 1 }) as object).valueType, 'Object');
    assert.equal(misfit(Object.create(Object.create(null) as object) as object).valueType, 'object with a custom prototype');
  });

  it('a marked class inside an unmarked one is not enough', () => {
    assert.deepEqual(misfit([new Money(1, 'EUR'), { p: new Point(1, 1) }], 'result'), { path: 'result[1].p', valueType: 'Point', problem: 'prototype' });
  });

  it('the message names the class and the fix', () => {
    assert.throws(() => encodeArgs([1, { p: new Point(1, 2) }]), (e: unknown) => e instanceof SerializationError &&
      e.path === 'args[1].p' && /Cannot send args\[1\]\.p to another thread, process or machine: it is a `Point`/.test(e.message) &&
      /serializable\(Point\)/.test(e.message));
  });

  it('lets through every structured-clone type, unchanged and unwrapped', () => {
    const plain = {
      o: { a: 1 }, n: Object.assign(Object.create(null) as object, { x: 1 }), arr: [1, 'a', null, undefined], map: new Map([[{ k: 1 }, new Set([1])]]),
      date: new Date(0), re: /x/g, err: new RangeError('r'), own: new (class MyError extends Error {})('e'), bytes: new Float64Array(2),
      buf: new ArrayBuffer(4), view: new DataView(new ArrayBuffer(2)), boxed: [Object(1), Object('s'), Object(true), Object(1n)], big: 1n,
    };
    assert.equal(encodeValue(plain, 'args[0]'), plain, 'no envelope: the same object goes');
    const args = [plain, 2];
    assert.equal(encodeArgs(args), args);
  });

  it('a cycle and shared objects are walked once', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = a;
    a.twice = [a, a];
    assert.equal(encodeValue(a, 'args[0]'), a);
  });

  it('marked instances come back with their prototypes: nested, shared, cyclic, in Maps and Sets, subclasses of Map', async () => {
    const m = new Money(5, 'EUR');
    const cyclic = { m, list: [m, new Money(7, 'USD')], set: new Set([m]), map: new Map<unknown, unknown>([[m, new Money(1, 'GBP')]]), self: undefined as unknown };
    cyclic.self = cyclic;
    const back = await cross(cyclic);
    assert.ok(back.m instanceof Money);
    assert.equal(back.m.add(back.m).format(), '0.10 EUR');
    assert.equal(back.list[0], back.m, 'sharing survives');
    assert.ok(back.list[1] instanceof Money);
    assert.equal(back.self, back);
    assert.ok([...back.set][0] instanceof Money);
    assert.ok([...back.map.keys()][0] instanceof Money && [...back.map.values()][0] instanceof Money);
    const tagged = new Tagged([['a', 1], ['b', 2]]);
    const t = await cross({ t: tagged });
    assert.ok(t.t instanceof Tagged);
    assert.equal(t.t.sum(), 3);
    const top = await cross(new Money(3, 'EUR'));
    assert.equal(top.format(), '0.03 EUR');
  });

  it('arguments are encoded one by one; only those with marked instances are wrapped', async () => {
    const args = [1, { plain: true }, new Money(2, 'EUR')];
    const sent = encodeArgs(args);
    assert.notEqual(sent, args);
    assert.equal(sent[1], args[1]);
    const back = (await decodeArgs(v8.deserialize(v8.serialize(sent)) as unknown[])) as typeof args;
    assert.deepEqual(back.slice(0, 2), [1, { plain: true }]);
    assert.ok(back[2] instanceof Money);
  });

  it('a class that cannot be found on the receiving side is a SerializationError saying why', () => {
    const envelope = { 'weft.serializable': [{ module: import.meta.url, name: 'Nowhere' }], marks: [0, 0], value: { x: 1 } };
    assert.throws(() => decodeValue(envelope, 'args[0]'), (e: unknown) => e instanceof SerializationError && e.problem === 'class-not-found' &&
      e.valueType === 'Nowhere' && /marks no class of that name with serializable\(\) at its top level/.test(e.message));
  });

  it('serializable() rejects what is not a class', () => {
    assert.throws(() => serializable(42 as never), /Expected `cls` to be a class/);
  });
});
