import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ReadyQueue } from '../../src/schedule/ready-queue.ts';

describe('ReadyQueue', () => {
  it('pops higher priority first, first-in first-out within a priority', () => {
    const q = new ReadyQueue<string>();
    q.push('a0', 0);
    q.push('b5', 5);
    q.push('c0', 0);
    q.push('d-1', -1);
    q.push('e5', 5);
    q.push('f2.5', 2.5);
    q.push('g0', 0);
    assert.equal(q.size, 7);
    assert.equal(q.peek(), 'b5');
    assert.deepEqual(q.drain(), ['b5', 'e5', 'f2.5', 'a0', 'c0', 'g0', 'd-1']);
    assert.equal(q.size, 0);
    assert.equal(q.pop(), undefined);
    assert.equal(q.peek(), undefined);
  });

  it('stays FIFO within a priority across many interleaved pushes and pops', () => {
    const q = new ReadyQueue<{ p: number; n: number }>();
    const pushed: { p: number; n: number }[] = [];
    let n = 0;
    const popped: { p: number; n: number }[] = [];
    for (let round = 0; round < 200; round++) {
      for (let k = 0; k < 7; k++) {
        const item = { p: (round * 7 + k * 3) % 4, n: n++ };
        pushed.push(item);
        q.push(item, item.p);
      }
      for (let k = 0; k < 3; k++) popped.push(q.pop() as { p: number; n: number });
    }
    popped.push(...q.drain());
    assert.equal(popped.length, pushed.length);
    for (let p = 0; p < 4; p++) {
      const order = popped.filter((x) => x.p === p).map((x) => x.n);
      assert.deepEqual(order, [...order].sort((a, b) => a - b), `priority ${p} kept its order`);
    }
  });

  it('popFirst takes the first item in queue order that fits; the skipped keep their places', () => {
    const q = new ReadyQueue<string>();
    q.push('gpu-high', 9);
    q.push('cpu-1', 1);
    q.push('gpu-low', 1);
    q.push('cpu-2', 1);
    q.push('cpu-3', 0);
    assert.equal(q.popFirst((x) => x.startsWith('cpu')), 'cpu-1');
    assert.equal(q.size, 4);
    assert.equal(q.popFirst((x) => x === 'cpu-3'), 'cpu-3');
    assert.equal(q.popFirst(() => false), undefined);
    assert.equal(q.size, 3);
    assert.deepEqual(q.drain(), ['gpu-high', 'gpu-low', 'cpu-2']);
  });

  it('popFirst keeps FIFO order among skipped items of the same priority', () => {
    const q = new ReadyQueue<number>();
    for (let i = 0; i < 10; i++) q.push(i, 0);
    assert.equal(q.popFirst((x) => x === 7), 7);
    q.push(10, 0);
    assert.deepEqual(q.drain(), [0, 1, 2, 3, 4, 5, 6, 8, 9, 10]);
  });
});
