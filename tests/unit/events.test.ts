import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EventBus } from '../../src/events/bus.ts';
import type { WeftEvents } from '../../src/events/events.ts';

const joined = (workerId: string): WeftEvents['worker:joined'] => ({ workerId, resources: {}, time: 0 });

describe('EventBus', () => {
  it('calls listeners in order, and not after they unsubscribe', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    const off = bus.on('worker:joined', (e) => seen.push(`a:${e.workerId}`));
    bus.on('worker:joined', (e) => seen.push(`b:${e.workerId}`));
    bus.emit('worker:joined', joined('w1'));
    off();
    bus.emit('worker:joined', joined('w2'));
    assert.deepEqual(seen, ['a:w1', 'b:w1', 'b:w2']);
  });

  it('a listener that unsubscribes itself while called does not make the next one miss the event', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    const off = bus.on('worker:joined', () => {
      seen.push('once');
      off();
    });
    bus.on('worker:joined', (e) => seen.push(`always:${e.workerId}`));
    bus.emit('worker:joined', joined('w1'));
    bus.emit('worker:joined', joined('w2'));
    assert.deepEqual(seen, ['once', 'always:w1', 'always:w2']);
  });

  it('a listener added while an event is emitted hears the next event, not this one', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.on('worker:joined', (e) => {
      if (e.workerId === 'w1') bus.on('worker:joined', (x) => seen.push(`late:${x.workerId}`));
    });
    bus.emit('worker:joined', joined('w1'));
    bus.emit('worker:joined', joined('w2'));
    assert.deepEqual(seen, ['late:w2']);
  });

  it('a listener that throws does not stop the others', () => {
    const bus = new EventBus();
    const seen: string[] = [];
    bus.on('worker:joined', () => {
      throw new Error('listener failed on purpose');
    });
    bus.on('worker:joined', () => seen.push('second'));
    const original = console.error;
    let reported = '';
    console.error = (message: string) => (reported = message);
    try {
      bus.emit('worker:joined', joined('w1'));
    } finally {
      console.error = original;
    }
    assert.deepEqual(seen, ['second']);
    assert.match(reported, /a 'worker:joined' event listener threw; the run goes on/);
  });

  it('forwards to another bus, and has() sees listeners there', () => {
    const child = new EventBus();
    const parent = new EventBus();
    child.forwardTo(parent);
    assert.equal(child.has('worker:left'), false);
    const seen: string[] = [];
    parent.on('worker:left', (e) => seen.push(e.workerId));
    assert.equal(child.has('worker:left'), true);
    child.emit('worker:left', { workerId: 'w9', reason: 'idle', time: 0 });
    assert.deepEqual(seen, ['w9']);
  });
});
