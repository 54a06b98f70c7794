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

/** Serializes `value`, throwing {@link SerializationError} naming the path (`args[1].callback`) on failure. */
export function serialize(value: unknown, path: string): Buffer {
  try {
    return v8.serialize(value);
  } catch (error) {
    throw explain(value, path, error);
  }
}

export function deserialize<T>(buffer: Buffer | Uint8Array): T {
  return v8.deserialize(buffer) as T;
}

/** Builds the {@link SerializationError} for a value that failed to clone, naming the deepest path at fault. */
export function explain(value: unknown, path: string, cause?: unknown): SerializationError {
  const found = findUncloneable(value, path, new Set());
  return found ? new SerializationError(found.path, found.type, cause) : new SerializationError(path, typeName(value), cause);
}

/** The path of the first value inside `value` that cannot be structured-cloned, or undefined. */
export function findUncloneable(sent: unknown, path: string, seen: Set<object>): { path: string; type: string } | undefined {
  const value = unwrap(sent); // paths name the value as the user gave it, not weft's envelope around it
  if (typeof value === 'function' || typeof value === 'symbol') return { path, type: typeName(value) };
  if (typeof value !== 'object' || value === null || seen.has(value)) return undefined;
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
