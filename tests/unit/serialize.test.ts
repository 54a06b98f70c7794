import assert from 'node:assert/strict';
import { Socket } from 'node:net';
import { describe, it } from 'node:test';
import * as v8 from 'node:v8';
import { SerializationError } from '../../src/errors.ts';
import { deserialize, encodeBatch, explain, findUncloneable, serialize, takeTransferList, transfer } from '../../src/protocol/serialize.ts';

function pathOf(value: unknown, root = 'args'): { path: string; valueType: string } {
  try {
    serialize(value, root);
  } catch (error) {
    assert.ok(error instanceof SerializationError, String(error));
    return { path: error.path, valueType: error.valueType };
  }
  assert.fail('expected a SerializationError');
}

describe('serialize', () => {
  it('round-trips what structured clone carries', () => {
    const value = {
      map: new Map<unknown, unknown>([['a', 1], [2, new Set([3n])]]), date: new Date(0), bytes: new Float64Array([1.5, 2.5]),
      error: new RangeError('r'), nested: [{ deep: [null, undefined, NaN] }], big: 10n ** 20n,
    };
    const back = deserialize<typeof value>(serialize(value, 'args'));
    assert.deepEqual(back.map, value.map);
    assert.deepEqual(back.date, value.date);
    assert.deepEqual([...back.bytes], [1.5, 2.5]);
    assert.ok(back.error instanceof RangeError);
    assert.equal(back.error.message, 'r');
    assert.deepEqual(back.nested, value.nested);
    assert.equal(back.big, value.big);
  });

  it('names the path of what cannot cross, as args[1].callback', () => {
    const callback = function onDone(): void {};
    assert.deepEqual(pathOf([1, { callback }]), { path: 'args[1].callback', valueType: 'function onDone' });
    assert.deepEqual(pathOf([() => 1]), { path: 'args[0]', valueType: 'function (anonymous)' });
    assert.deepEqual(pathOf([{ a: { b: [0, 0, { c: Symbol('s') }] } }]), { path: 'args[0].a.b[2].c', valueType: 'symbol' });
    assert.deepEqual(pathOf([{ 'content-type': callback }]), { path: 'args[0]["content-type"]', valueType: 'function onDone' });
  });

  it('names paths inside Maps and Sets', () => {
    assert.deepEqual(pathOf([new Map([['handler', callback()]])]), { path: 'args[0].get("handler")', valueType: 'function cb' });
    assert.deepEqual(pathOf([new Map<number, unknown>([[1, 'ok'], [2, { f: callback() }]])]), { path: 'args[0].get(2).f', valueType: 'function cb' });
    assert.deepEqual(pathOf([new Map([[callback(), 1]])]), { path: 'args[0].keys[0]', valueType: 'function cb' });
    assert.deepEqual(pathOf([new Set([1, 2, callback()])]), { path: 'args[0].values[2]', valueType: 'function cb' });
  });

  it('names an uncloneable object itself when none of its parts is to blame', () => {
    const socket = new Socket();
    try {
      // The deepest part at fault: a function somewhere inside the socket.
      const found = pathOf([{ conn: socket }]);
      assert.ok(found.path.startsWith('args[0].conn'), found.path);
    } finally {
      socket.destroy();
    }
    assert.deepEqual(pathOf([{ p: Promise.resolve(1) }]), { path: 'args[0].p', valueType: 'Promise' });
    assert.deepEqual(pathOf({ w: new WeakMap() }, 'result'), { path: 'result.w', valueType: 'WeakMap' });
  });

  it('handles cycles, finding the culprit inside them', () => {
    const a: Record<string, unknown> = { name: 'a' };
    const b: Record<string, unknown> = { name: 'b', a };
    a.b = b;
    assert.deepEqual(deserialize<typeof a>(serialize(a, 'args')).name, 'a', 'a cloneable cycle crosses');
    b.fn = callback();
    assert.deepEqual(pathOf([a]), { path: 'args[0].b.fn', valueType: 'function cb' });
    assert.equal(findUncloneable(a, 'x', new Set())?.path, 'x.b.fn');
  });

  it('the SerializationError message names the path and says what to do; explain keeps the cause', () => {
    const cause = new Error('could not be cloned');
    const error = explain([{ callback: callback() }], 'args', cause);
    assert.equal(error.cause, cause);
    assert.match(error.message, /^Cannot send args\[0\]\.callback \(function cb\) to another thread, process or machine/);
  });

  it('transfer marks buffers; takeTransferList takes them once, top level and in lists', () => {
    const a = transfer(new Float64Array(4));
    const b = transfer(new ArrayBuffer(8));
    const unmarked = new Uint8Array(2);
    const list = takeTransferList([a, [b, unmarked], { nested: transfer(new ArrayBuffer(1)) }]);
    assert.deepEqual(list, [a.buffer, b]);
    assert.deepEqual(takeTransferList([a, [b]]), [], 'marks are taken once');
  });
});

function callback(): () => void {
  return function cb(): void {};
}

describe('encodeBatch', () => {
  const encode = (items: readonly unknown[]) => v8.serialize(items);
  it('encodes the whole batch at once when it can, without checking items one by one', () => {
    let checked = 0;
    const out = encodeBatch([1, { a: 2 }], { encode, check: () => void checked++, culprit: () => undefined });
    assert.deepEqual(v8.deserialize(out as Buffer), [1, { a: 2 }]);
    assert.equal(checked, 0);
  });

  it('names each item that cannot cross, replaces or drops it, and sends the rest together', () => {
    const named: string[] = [];
    const items: unknown[] = [1, { f: () => 1 }, 3, { g: Symbol('s') }];
    const out = encodeBatch(items, {
      encode,
      check: (item) => void serialize(item, 'result'),
      culprit: (item, error) => {
        named.push(error.path);
        return item === items[1] ? 'replaced' : undefined;
      },
    });
    assert.deepEqual(named, ['result.f', 'result.g']);
    assert.deepEqual(v8.deserialize(out as Buffer), [1, 'replaced', 3]);
  });

  it('gives undefined when no item is left, and calls rest (even with none left) instead of encode', () => {
    const bad = { f: () => 1 };
    assert.equal(encodeBatch([bad], { encode, check: (i) => void serialize(i, 'x'), culprit: () => undefined }), undefined);
    const rests: number[] = [];
    encodeBatch([bad], { encode, check: (i) => void serialize(i, 'x'), culprit: () => undefined, rest: (kept) => void rests.push(kept.length) });
    assert.deepEqual(rests, [0]);
  });
});
