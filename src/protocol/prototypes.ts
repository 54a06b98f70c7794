import { SerializationError } from '../errors.ts';
import { ENVELOPE, isEnvelope, type Envelope } from './envelope.ts';
import { cloneable } from './serialize.ts';
import { classRefOf, findClass, isLoaded, loadClass, type ClassRef, type FoundClass } from './serializable.ts';

/**
 * The prototype check at every boundary. Structured clone keeps the data of a class instance but
 * drops its prototype, silently: the task would get a plain object whose methods are gone. So
 * before a value is sent, weft walks it: a value whose prototype is not one structured clone
 * carries is a {@link SerializationError} naming its path and class, unless the class is marked
 * with `serializable()`. Then the value travels in an envelope that says which objects (by their
 * order in the walk) get which class back, and the receiving side restores their prototypes.
 *
 * Cost: values without objects (numbers, strings) are not walked; plain data is walked once,
 * beside the clone that copies it anyway; only values with marked classes are wrapped and, on the
 * other side, walked again.
 */

/** Prototypes whose objects are walked into: structured clone carries them and their contents. */
const CONTAINERS = new Set<object | null>([Object.prototype, null, Array.prototype, Map.prototype, Set.prototype]);

/** Prototypes structured clone carries whole (and whose contents need no check). */
const LEAVES = new Set<object>([
  Date.prototype, RegExp.prototype, ArrayBuffer.prototype, Boolean.prototype, Number.prototype, String.prototype, BigInt.prototype,
  ...(typeof SharedArrayBuffer === 'function' ? [SharedArrayBuffer.prototype] : []),
]);

/** A misfit found deep in a value; its path is built up as the walk unwinds. */
class Misfit {
  constructor(
    public path: string,
    readonly valueType: string,
  ) {}
}

/** Walk state: the objects seen (values may share and cycle), their count, and the marks so far. */
interface Walk {
  readonly seen: Set<object>;
  count: number;
  marks: number[] | undefined;
  refs: ClassRef[] | undefined;
}

/**
 * The value as it must be sent: itself, or an envelope when it holds instances of marked classes.
 * Throws {@link SerializationError} (problem `prototype`) for any other class instance.
 */
export function encodeValue(value: unknown, path: string): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const walk: Walk = { seen: new Set(), count: 0, marks: undefined, refs: undefined };
  try {
    visit(value, walk);
  } catch (error) {
    if (!(error instanceof Misfit)) throw error;
    throw new SerializationError(path + error.path, error.valueType, undefined, undefined, 'prototype');
  }
  if (!walk.marks) return value;
  const envelope: Envelope = { [ENVELOPE]: walk.refs as ClassRef[], marks: walk.marks, value };
  return envelope;
}

/** {@link encodeValue} for each argument (`args[0]`, `args[1]`, ...): the same array when none needs an envelope. */
export function encodeArgs(args: readonly unknown[], path = 'args'): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg !== 'object' || arg === null) continue;
    const encoded = encodeValue(arg, `${path}[${i}]`);
    if (encoded !== arg) (out ??= [...args])[i] = encoded;
  }
  return out ?? (args as unknown[]);
}

function visit(value: object, walk: Walk): void {
  if (walk.seen.has(value)) return;
  walk.seen.add(value);
  const order = walk.count++;
  const proto: object | null = Object.getPrototypeOf(value);
  if (!CONTAINERS.has(proto)) {
    if (LEAVES.has(proto as object) || value instanceof Error) return;
    const ref = classRefOf(proto as object);
    if (ArrayBuffer.isView(value)) {
      if (ref) mark(walk, order, ref); // a Buffer
      return;
    }
    // Only what would cross silently changed is this check's: what cannot be cloned at all (a
    // socket, a future) fails when it is sent, and that error names it with its own advice.
    if (!ref) {
      if (!cloneable(value)) return;
      throw new Misfit('', className(value));
    }
    mark(walk, order, ref);
  }
  // By shape, not by prototype: a marked subclass of Map crosses as a Map, and the receiving side
  // (which sees only the shape) must walk the same objects in the same order.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item === 'object' && item !== null) within(item, walk, `[${i}]`);
    }
  } else if (value instanceof Map) {
    let i = 0;
    for (const [k, v] of value) {
      if (typeof k === 'object' && k !== null) within(k, walk, `.keys[${i}]`);
      if (typeof v === 'object' && v !== null) within(v, walk, `.get(${keyText(k)})`);
      i++;
    }
  } else if (value instanceof Set) {
    let i = 0;
    for (const item of value) {
      if (typeof item === 'object' && item !== null) within(item, walk, `.values[${i}]`);
      i++;
    }
  } else {
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      if (typeof item === 'object' && item !== null) within(item, walk, propertyText(key));
    }
  }
}

/** Visits a part of a value; a misfit inside gets the part's path segment in front of its path. */
function within(value: object, walk: Walk, segment: string): void {
  try {
    visit(value, walk);
  } catch (error) {
    if (error instanceof Misfit) error.path = segment + error.path;
    throw error;
  }
}

function mark(walk: Walk, order: number, ref: ClassRef): void {
  const refs = (walk.refs ??= []);
  let index = refs.indexOf(ref);
  if (index === -1) index = refs.push(ref) - 1;
  (walk.marks ??= []).push(order, index);
}

/**
 * A received value with its marked instances' prototypes restored; a promise only when a class's
 * module must be imported first. Rejects (or throws) {@link SerializationError} (problem
 * `class-not-found`) when a class cannot be found here.
 */
export function decodeValue(value: unknown, path: string): unknown {
  if (!isEnvelope(value)) return value;
  const refs = value[ENVELOPE];
  if (refs.every(isLoaded)) return restore(value, refs.map(findClass), path);
  return Promise.all(refs.map(loadClass)).then((found) => restore(value, found, path));
}

/**
 * Hands a received outcome on with its value decoded: at once unless a class's module must be
 * imported first; a value that cannot be decoded makes the outcome Failed with the error saying why.
 */
export function withDecoded<O extends { readonly state: string; readonly value?: unknown; readonly workerId?: string }>(
  outcome: O, onOutcome: (outcome: O | { state: 'Failed'; error: Error; workerId?: string }) => void,
): void {
  if (outcome.state !== 'Completed' || !isEnvelope(outcome.value)) return onOutcome(outcome);
  const failed = (error: unknown) => onOutcome({ state: 'Failed', error: error as Error, workerId: outcome.workerId });
  let value: unknown;
  try {
    value = decodeValue(outcome.value, 'result');
  } catch (error) {
    return failed(error);
  }
  // A promise only when a module must be imported: structured clone never carries one.
  if (value instanceof Promise) value.then((v: unknown) => onOutcome({ ...outcome, value: v }), failed);
  else onOutcome({ ...outcome, value });
}

/** {@link decodeValue} for each argument; a promise only when a class's module must be imported first. */
export function decodeArgs(args: unknown[], path = 'args'): unknown[] | Promise<unknown[]> {
  let pending: Promise<unknown>[] | undefined;
  let out: unknown[] | undefined;
  for (let i = 0; i < args.length; i++) {
    if (!isEnvelope(args[i])) continue;
    out ??= [...args];
    const decoded = decodeValue(args[i], `${path}[${i}]`);
    if (decoded instanceof Promise) (pending ??= []).push(decoded.then((v) => void ((out as unknown[])[i] = v)));
    else out[i] = decoded;
  }
  if (!out) return args;
  return pending ? Promise.all(pending).then(() => out as unknown[]) : out;
}

/** The classes marked in these arguments, with their modules (to vet before anything imports them). */
export function markedClasses(args: readonly unknown[]): ClassRef[] {
  const refs: ClassRef[] = [];
  for (const arg of args) if (isEnvelope(arg)) refs.push(...arg[ENVELOPE].filter((ref) => ref.module !== undefined && !ref.module.startsWith('node:')));
  return refs;
}

function restore(envelope: Envelope, found: FoundClass[], path: string): unknown {
  for (let i = 0; i < found.length; i++) {
    const f = found[i] as FoundClass;
    if ('missing' in f) throw new SerializationError(path, (envelope[ENVELOPE][i] as ClassRef).name, undefined, undefined, 'class-not-found', f.missing);
  }
  const prototypes = found.map((f) => (f as { prototype: object }).prototype);
  const { marks, value } = envelope;
  // The same walk, in the same order, over the copy: the n-th object here is the n-th one there.
  const targets = new Map<number, object>();
  for (let i = 0; i < marks.length; i += 2) targets.set(marks[i] as number, prototypes[marks[i + 1] as number] as object);
  const walk: Walk = { seen: new Set(), count: 0, marks: undefined, refs: undefined };
  revisit(value, walk, targets);
  return value;
}

/** The receiving side's walk: as {@link visit}, over objects that are all plain now; marked ones get their prototype back. */
function revisit(value: unknown, walk: Walk, targets: Map<number, object>): void {
  if (typeof value !== 'object' || value === null || walk.seen.has(value) || targets.size === 0) return;
  walk.seen.add(value);
  const order = walk.count++;
  const proto = targets.get(order);
  if (proto) targets.delete(order);
  if (CONTAINERS.has(Object.getPrototypeOf(value))) {
    if (Array.isArray(value)) for (const item of value) revisit(item, walk, targets);
    else if (value instanceof Map) {
      for (const [k, v] of value) {
        revisit(k, walk, targets);
        revisit(v, walk, targets);
      }
    } else if (value instanceof Set) for (const item of value) revisit(item, walk, targets);
    else for (const key of Object.keys(value)) revisit((value as Record<string, unknown>)[key], walk, targets);
  }
  if (proto) Object.setPrototypeOf(value, proto);
}

function className(value: object): string {
  const ctor = (value as { constructor?: unknown }).constructor;
  return typeof ctor === 'function' && ctor.name ? ctor.name : 'object with a custom prototype';
}

function propertyText(key: string): string {
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

function keyText(key: unknown): string {
  return typeof key === 'string' ? JSON.stringify(key) : String(key);
}
