import { InvalidOptionError } from '../errors.ts';
import { callerModule } from './task-ref.ts';

/**
 * Classes whose instances cross threads, processes and machines with their prototype. Like a
 * task, a class is known across boundaries by the URL of the module that marks it and its name:
 * the receiving side imports that module (which marks its classes as it loads) and looks the
 * name up.
 */

/** A class's identity across boundaries. */
export interface ClassRef {
  /** `file:///…/money.ts`, `node:buffer` for built-ins, or `undefined` where it could not be read. */
  readonly module: string | undefined;
  readonly name: string;
  /**
   * Across hosts (to and from cluster workers, see portable-classes.ts): the module's path relative
   * to the sender's project root, so the receiver finds it in its own checkout.
   */
  readonly path?: string;
}

type AnyClass = abstract new (...args: never[]) => object;

interface Registry {
  /** By prototype, for the sending side. */
  readonly refs: WeakMap<object, ClassRef>;
  /** By module and name, for the receiving side. */
  readonly classes: Map<string, Map<string, AnyClass | 'ambiguous'>>;
}

// One registry per realm, shared by every copy of weft loaded in it (as the task registry is).
const kRegistry = Symbol.for('weft.class-registry');
const registry: Registry = ((globalThis as { [kRegistry]?: Registry })[kRegistry] ??= { refs: new WeakMap(), classes: new Map() });

/**
 * Marks a class so that its instances cross threads, processes and machines with their
 * prototype: methods keep working and `instanceof` holds on the other side. Call it at the top
 * level of the module that defines the class (the other side imports that module to find it).
 * The instance's own enumerable properties are what crosses, by structured clone: state kept in
 * `#private` fields or closures does not. Returns the class, so it can wrap a class expression.
 *
 * @example
 * export class Money {
 *   constructor(readonly cents: number, readonly currency: string) {}
 *   add(other: Money) { return new Money(this.cents + other.cents, this.currency); }
 * }
 * serializable(Money);
 */
export function serializable<C extends AnyClass>(cls: C, options: { name?: string } = {}): C {
  if (typeof cls !== 'function' || typeof cls.prototype !== 'object' || cls.prototype === null) {
    throw new InvalidOptionError('cls', 'a class, as in serializable(Money)', cls);
  }
  const name = options.name ?? cls.name;
  if (typeof name !== 'string' || name === '') {
    throw new InvalidOptionError('name', 'a name for an anonymous class: serializable(class Money {}) or serializable(cls, { name: "Money" })', options.name);
  }
  register({ module: callerModule(serializable as (...args: never[]) => unknown), name }, cls);
  return cls;
}

/** Records a class under its ref. Two classes of one name in one module make the name ambiguous. */
function register(ref: ClassRef, cls: AnyClass): void {
  registry.refs.set(cls.prototype as object, ref);
  if (ref.module === undefined) return;
  let classes = registry.classes.get(ref.module);
  if (!classes) registry.classes.set(ref.module, (classes = new Map()));
  const known = classes.get(ref.name);
  classes.set(ref.name, known === undefined || known === cls ? cls : 'ambiguous');
}

// Buffer crosses as a Uint8Array on threads (postMessage knows no Buffer): weft carries it back.
register({ module: 'node:buffer', name: 'Buffer' }, Buffer);

/** The ref of a prototype marked serializable, or undefined. */
export function classRefOf(prototype: object): ClassRef | undefined {
  return registry.refs.get(prototype);
}

/** A class found on the receiving side, or why it was not. */
export type FoundClass = { readonly prototype: object } | { readonly missing: string };

/** Finds a marked class by module and name, importing its module first if nothing of it is known yet. */
export async function loadClass(ref: ClassRef): Promise<FoundClass> {
  if (ref.module !== undefined && !registry.classes.has(ref.module)) {
    try {
      await import(ref.module);
    } catch (error) {
      return { missing: `its module ${ref.module} failed to import (${error instanceof Error ? error.message : String(error)})` };
    }
  }
  return findClass(ref);
}

/** Finds a marked class whose module is already loaded; `undefined` when its module must be imported first. */
export function findClass(ref: ClassRef): FoundClass {
  if (ref.module === undefined) return { missing: 'weft could not tell which module marks it' };
  const found = registry.classes.get(ref.module)?.get(ref.name);
  if (found === 'ambiguous') return { missing: `module ${ref.module} marks more than one class of that name; give each a unique name: serializable(cls, { name })` };
  if (!found) return { missing: `module ${ref.module} imported, but marks no class of that name with serializable() at its top level` };
  return { prototype: found.prototype as object };
}

/** Whether the module of `ref` is known here (marked classes of it are registered), so no import is needed. */
export function isLoaded(ref: ClassRef): boolean {
  return ref.module !== undefined && registry.classes.has(ref.module);
}
