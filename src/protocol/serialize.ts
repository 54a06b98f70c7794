import * as v8 from 'node:v8';
import { SerializationError } from '../errors.ts';
import { unwrap } from './envelope.ts';

/**
 * Values cross threads, processes and the network by the structured-clone algorithm
 * (`v8.serialize`). Sending is tried first; only when it fails does weft walk the value to name
 * the path that cannot cross, so the common case pays nothing extra.
 */

const kTransfer = Symbol.for('weft.transfer');

/** A value marked to be moved to a worker thread rather than copied. */
export interface Transferable<T> {
  readonly [kTransfer]: true;
  readonly value: T;
}

/**
 * Marks an ArrayBuffer (or a typed array's buffer) to be moved, not copied, when it is passed to a
 * task on a worker thread. After the move it is detached (empty) in the sender. Elsewhere (in
 * process, across processes, on a cluster) it is passed as the value itself.
 *
 * @example
 * const f = sum.submit(transfer(new Float64Array(1e6)));
 */
export function transfer<T extends ArrayBufferLike | ArrayBufferView>(value: T): T {
  // The mark travels beside the value: the pool collects marked buffers into the transfer list.
  const buffer = ArrayBuffer.isView(value) ? value.buffer : value;
  transferMarks.add(buffer as ArrayBufferLike);
  return value;
}

/** Buffers marked with {@link transfer}, taken (and forgotten) by the pool that sends them. */
const transferMarks = new WeakSet<ArrayBufferLike>();

/** The marked buffers in `args` (top level and one level into arrays), to pass as a transfer list. */
export function takeTransferList(args: readonly unknown[]): ArrayBuffer[] {
  const list: ArrayBuffer[] = [];
  const visit = (value: unknown) => {
    const buffer = ArrayBuffer.isView(value) ? value.buffer : value instanceof ArrayBuffer ? value : undefined;
    if (buffer && transferMarks.has(buffer)) {
      transferMarks.delete(buffer);
      if (!list.includes(buffer as ArrayBuffer)) list.push(buffer as ArrayBuffer);
    }
  };
  for (const sent of args) {
    const arg = unwrap(sent);
    visit(arg);
    if (Array.isArray(arg)) for (const item of arg) visit(item);
  }
  return list;
}

export function isTransferMarked(value: ArrayBufferLike): boolean {
  return transferMarks.has(value);
}

/** The own property (and its value, which cannot be cloned) that marks a TaskFuture. */
export const UNSENDABLE_KEY = '__weftFuture';
export const UNSENDABLE_FUTURE: symbol = Symbol.for('weft.unresolved-future');

function isFuture(value: object): boolean {
  return (value as { [UNSENDABLE_KEY]?: unknown })[UNSENDABLE_KEY] === UNSENDABLE_FUTURE;
}

const FUTURE_HINT = 'It is a TaskFuture that weft did not wait for (it was inside quote() or a class instance): pass it on its own or in plain data (arrays, objects, Map, Set), where weft waits for it and passes its value, or await it first.';

/** Serializes `value`, throwing {@link SerializationError} naming the path (`args[1].callback`) on failure. */
export function serialize(value: unknown, path: string): Buffer {
  try {
    return v8.serialize(value);
  } catch (error) {
    throw explain(value, path, error);
  }
}

/** How {@link encodeBatch} encodes a batch, and what it does with an item that cannot cross. */
export interface BatchEncoding<T, R> {
  /** Encodes (or sends) items together; throws, having sent nothing, if one cannot cross. */
  readonly encode: (items: readonly T[]) => R;
  /** Throws {@link SerializationError} naming the path if this item cannot cross alone. */
  readonly check: (item: T) => void;
  /** What goes instead of an item that cannot cross (a Failed result), or undefined to drop it (its run is settled by the caller). */
  readonly culprit: (item: T, error: SerializationError) => T | undefined;
  /** How the items left after the culprits go out, if not with `encode`; called even with none left (to reset state). */
  readonly rest?: (items: readonly T[]) => R;
}

/**
 * Encodes a batch in one go (the fast path: one structured clone for many items); only when that
 * fails is each item checked alone, so the ones that cannot cross are named (`args[1].callback`)
 * and only they fail, and the rest go together. Undefined when nothing was left to encode. Every
 * batch that crosses a boundary (jobs to a worker, results back, tasks to a cluster, a cluster
 * worker's events) goes through here.
 */
export function encodeBatch<T, R>(items: readonly T[], how: BatchEncoding<T, R>): R | undefined {
  try {
    return how.encode(items);
  } catch {
    const kept: T[] = [];
    for (const item of items) {
      try {
        how.check(item);
        kept.push(item);
      } catch (error) {
        const instead = how.culprit(item, error instanceof SerializationError ? error : explain(item, 'value', error));
        if (instead !== undefined) kept.push(instead);
      }
    }
    if (how.rest) return how.rest(kept);
    return kept.length === 0 ? undefined : how.encode(kept);
  }
}

export function deserialize<T>(buffer: Buffer | Uint8Array): T {
  return v8.deserialize(buffer) as T;
}

/** Builds the {@link SerializationError} for a value that failed to clone, naming the deepest path at fault. */
export function explain(value: unknown, path: string, cause?: unknown): SerializationError {
  const found = findUncloneable(value, path, new Set());
  return found ? new SerializationError(found.path, found.type, cause, found.hint) : new SerializationError(path, typeName(value), cause);
}

/** The path of the first value inside `value` that cannot be structured-cloned, or undefined. */
export function findUncloneable(sent: unknown, path: string, seen: Set<object>): { path: string; type: string; hint?: string } | undefined {
  const value = unwrap(sent); // paths name the value as the user gave it, not weft's envelope around it
  if (typeof value === 'function' || typeof value === 'symbol') return { path, type: typeName(value) };
  if (typeof value !== 'object' || value === null || seen.has(value)) return undefined;
  if (isFuture(value)) return { path, type: 'TaskFuture', hint: FUTURE_HINT };
  seen.add(value);
  if (cloneable(value)) return undefined;
  // The value fails as a whole: look for the culprit among its parts, else it is the culprit.
  if (value instanceof Map) {
    let i = 0;
    for (const [k, v] of value) {
      const hit = findUncloneable(k, `${path}.keys[${i}]`, seen) ?? findUncloneable(v, `${path}.get(${keyText(k)})`, seen);
      if (hit) return hit;
      i++;
    }
  } else if (value instanceof Set) {
    let i = 0;
    for (const item of value) {
      const hit = findUncloneable(item, `${path}.values[${i++}]`, seen);
      if (hit) return hit;
    }
  } else {
    for (const key of Object.keys(value)) {
      const hit = findUncloneable((value as Record<string, unknown>)[key], Array.isArray(value) ? `${path}[${key}]` : `${path}${propertyText(key)}`, seen);
      if (hit) return hit;
    }
  }
  return { path, type: typeName(value) };
}

/** Whether `value` survives structured clone (functions and symbols do not; an object is tried). */
export function cloneable(value: unknown): boolean {
  if (value === null || typeof value !== 'object') return typeof value !== 'function' && typeof value !== 'symbol';
  try {
    v8.serialize(value);
    return true;
  } catch {
    return false;
  }
}

function propertyText(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function keyText(key: unknown): string {
  return typeof key === 'string' ? JSON.stringify(key) : String(key);
}

function typeName(value: unknown): string {
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'symbol') return 'symbol';
  if (typeof value === 'object' && value !== null) return value.constructor?.name ?? 'object';
  return typeof value;
}
