import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CancelledError, InvalidOptionError, TaskRunError, TaskTimeoutError, UpstreamFailedError, WeftError } from '../../src/errors.ts';
import { fromWireError, toWireError, type WireError } from '../../src/protocol/wire-error.ts';

/** Through the wire form and a structured clone, as across a thread or process. */
const roundTrip = (error: unknown): Error => fromWireError(structuredClone(toWireError(error)) as WireError);

class HttpError extends Error {
  constructor(message: string, readonly statusCode: number) {
    super(message);
    this.name = 'HttpError';
  }
}

describe('wire errors', () => {
  it('keeps name, message, own fields and the stack', () => {
    const original = new HttpError('service unavailable', 503);
    Object.assign(original, { headers: { retryAfter: 5 }, when: new Date(0) });
    const back = roundTrip(original) as Error & { statusCode?: number; headers?: unknown; when?: unknown };
    assert.equal(back.name, 'HttpError');
    assert.equal(back.message, 'service unavailable');
    assert.equal(back.statusCode, 503);
    assert.deepEqual(back.headers, { retryAfter: 5 });
    assert.deepEqual(back.when, new Date(0));
    assert.equal(back.stack, original.stack);
    assert.ok(back instanceof Error);
    assert.equal(String(back), 'HttpError: service unavailable');
  });

  it('keeps the class of built-in errors', () => {
    for (const E of [Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError]) {
      const back = roundTrip(new E('m'));
      assert.ok(back instanceof E, E.name);
      assert.equal(back.name, E.name);
    }
    const aggregate = roundTrip(new AggregateError([new Error('one')], 'many'));
    assert.ok(aggregate instanceof AggregateError);
  });

  it("keeps weft's classes and their fields", () => {
    const timeout = roundTrip(new TaskTimeoutError('download', 50));
    assert.ok(timeout instanceof TaskTimeoutError);
    assert.ok(timeout instanceof WeftError);
    assert.equal((timeout as TaskTimeoutError).timeoutMs, 50);
    assert.equal((timeout as TaskTimeoutError).taskName, 'download');
    assert.equal((timeout as TaskTimeoutError).code, 'WEFT_TASK_TIMEOUT');
    const invalid = roundTrip(new InvalidOptionError('retries', 'an integer ≥ 0', -1)) as InvalidOptionError;
    assert.ok(invalid instanceof InvalidOptionError);
    assert.deepEqual([invalid.option, invalid.expected, invalid.received], ['retries', 'an integer ≥ 0', -1]);
    const cancelled = roundTrip(new CancelledError('stop')) as CancelledError;
    assert.ok(cancelled instanceof CancelledError);
    assert.equal(cancelled.reason, 'stop');
  });

  it('keeps the cause chain, errors and plain values alike', () => {
    const root = new TypeError('root cause');
    const middle = new UpstreamFailedError('render', 'download', 'download-1', 'Failed', root);
    const top = new TaskRunError('report', 'report-1', middle);
    const back = roundTrip(top);
    assert.ok(back instanceof TaskRunError);
    assert.ok(back.cause instanceof UpstreamFailedError);
    assert.equal((back.cause as UpstreamFailedError).upstreamTaskName, 'download');
    assert.ok((back.cause as Error).cause instanceof TypeError);
    assert.equal(((back.cause as Error).cause as Error).message, 'root cause');
    assert.equal(((back.cause as Error).cause as Error).stack, root.stack);
    assert.deepEqual(roundTrip(new Error('x', { cause: { status: 3 } })).cause, { status: 3 });
    assert.equal(roundTrip(new Error('x', { cause: 'text' })).cause, 'text');
    const fnCause = roundTrip(new Error('x', { cause: function handler() {} })).cause;
    assert.equal(typeof fnCause, 'string', 'an uncloneable cause becomes its text');
  });

  it('stops at a cyclic cause chain', () => {
    const a = new Error('a');
    const b = new Error('b', { cause: a });
    Object.defineProperty(a, 'cause', { value: b, configurable: true });
    const back = roundTrip(a);
    let depth = 0;
    for (let e: unknown = back; e instanceof Error; e = e.cause) depth++;
    assert.ok(depth >= 2 && depth <= 10, `depth ${depth}`);
  });

  it('drops fields that cannot be cloned and keeps the rest', () => {
    const error = Object.assign(new Error('with a socket'), { socket: { write() {} }, retry: () => 1, code: 'ECONNRESET', errno: -104 });
    const back = roundTrip(error) as Error & Record<string, unknown>;
    assert.equal(back.code, 'ECONNRESET');
    assert.equal(back.errno, -104);
    assert.equal('socket' in back, false);
    assert.equal('retry' in back, false);
  });

  it('turns a thrown non-Error into an Error that keeps the value', () => {
    const back = roundTrip('just a string') as Error & { thrown?: unknown };
    assert.ok(back instanceof Error);
    assert.match(back.message, /A non-Error value was thrown: just a string/);
    assert.equal(back.thrown, 'just a string');
    assert.deepEqual((roundTrip({ code: 7 }) as Error & { thrown?: unknown }).thrown, { code: 7 });
  });

  it("does not turn a user's error that shares a weft class's name into weft's class", () => {
    class CancelledError extends Error {
      override name = 'CancelledError';
    }
    const back = roundTrip(new CancelledError('the user cancelled the upload'));
    assert.equal(back.name, 'CancelledError');
    assert.equal(back.message, 'the user cancelled the upload');
    assert.ok(!(back instanceof WeftError), "a user's CancelledError is not weft's");
    const usage = new Error('bad call');
    usage.name = 'UsageError';
    assert.ok(!(roundTrip(usage) instanceof WeftError));
  });

  it('keeps an unknown class as an Error with its name', () => {
    class QuotaExceeded extends Error {
      override name = 'QuotaExceeded';
    }
    const back = roundTrip(new QuotaExceeded('over'));
    assert.equal(back.name, 'QuotaExceeded');
    assert.ok(back instanceof Error);
    assert.equal(String(back), 'QuotaExceeded: over');
  });
});
