import { InvalidOptionError } from '../errors.ts';
import { isTaskFuture, type TaskFuture } from './future.ts';

/**
 * Futures wherever they sit in a task's arguments: found at submit, waited for, and replaced by
 * their values before the task runs. weft looks inside arrays, plain objects, Maps and Sets (nested
 * to any depth), as Prefect does in lists, tuples, sets and dicts; it does not look inside class
 * instances, typed arrays or anything {@link quote}d.
 *
 * @module
 */

const kQuote = Symbol.for('weft.quote');
const kAllowFailure = Symbol.for('weft.allow-failure');

/** A value passed to a task as it is, without weft looking inside it: see {@link quote}. */
export interface Quoted<T> {
  readonly [kQuote]: true;
  readonly value: T;
}

/**
 * Passes `value` to the task as it is, without looking inside it for futures (Prefect's `quote`):
 * for a large argument, whose traversal would cost more than the task. A future inside it is not
 * waited for; on a runner that sends arguments elsewhere it is a `SerializationError` naming it.
 *
 * @example
 * const total = sum.submit(quote(millionNumbers));
 */
export function quote<T>(value: T): Quoted<T> {
  return { [kQuote]: true, value };
}

/** An upstream future whose failure does not stop the downstream run: see {@link allowFailure}. */
export interface AllowFailure<T> {
  readonly [kAllowFailure]: true;
  readonly future: TaskFuture<T>;
}

/**
 * Lets a downstream run go on after `future` failed (Prefect's `allow_failure`): the task receives
 * the future's value, or, if it did not complete, the upstream's own error in its place (what its
 * task threw, or `WorkerCrashedError` / `CancelledError`): not the `TaskRunError` wrapper, whose
 * cause would not survive a structured clone to another thread. Also in `waitFor`.
 *
 * @example
 * const report = summarize.submit(allowFailure(download.submit(url))); // (page: string | Error) => ...
 */
export function allowFailure<T>(future: TaskFuture<T>): AllowFailure<T> {
  if (!isTaskFuture(future)) throw new InvalidOptionError('allowFailure(future)', 'a TaskFuture (what task.submit() returns)', future);
  return { [kAllowFailure]: true, future };
}

/** The futures a run's arguments hold, found by {@link findFutures}. */
export interface Upstream {
  /** Futures the run needs: if one does not complete, neither does the run. */
  readonly required: TaskFuture<unknown>[];
  /** Futures reached only through `allowFailure`: their errors take their places. */
  readonly tolerated: TaskFuture<unknown>[];
  /** False when the futures are only in `waitFor`: the arguments go as they are. @default true */
  readonly rewrite?: boolean;
}

/** Whether `value` is an {@link allowFailure} mark. */
export function isAllowFailure(value: unknown): value is AllowFailure<unknown> {
  return typeof value === 'object' && value !== null && kAllowFailure in value;
}

/**
 * The futures in `args`, or undefined when there is nothing to wait for or unwrap: the common case, flat arguments, costs a `typeof` per argument.
 * `check` sees each future once it is found (the engine refuses another flow run's futures).
 */
export function findFutures(args: readonly unknown[], check: (future: TaskFuture<unknown>) => void): Upstream | undefined {
  // Flat arguments (no object among them) hold nothing to find: no walker is made for them.
  return holdsObjects(args) ? walk(args, check) : undefined;
}

/** Whether any of `args` is an object (where a future or a mark could be). */
export function holdsObjects(args: readonly unknown[]): boolean {
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (typeof a === 'object' && a !== null) return true;
  }
  return false;
}

function walk(args: readonly unknown[], check: (future: TaskFuture<unknown>) => void): Upstream | undefined {
  let found: { required: TaskFuture<unknown>[]; tolerated: TaskFuture<unknown>[] } | undefined;
  let seen: Set<object> | undefined;
  const visit = (value: unknown): void => {
    if (typeof value !== 'object' || value === null) return;
    if (isTaskFuture(value)) {
      check(value);
      (found ??= { required: [], tolerated: [] }).required.push(value);
      return;
    }
    if (kQuote in value) {
      found ??= { required: [], tolerated: [] }; // nothing to wait for, but a mark to unwrap
      return;
    }
    if (kAllowFailure in value) {
      const future = (value as AllowFailure<unknown>).future;
      check(future);
      (found ??= { required: [], tolerated: [] }).tolerated.push(future);
      return;
    }
    const kind = containerKind(value);
    if (kind === undefined) return;
    // Cycles are legal in structured-cloned data: each container is looked into once.
    if ((seen ??= new Set()).has(value)) return;
    seen.add(value);
    if (kind === 'array') for (const item of value as unknown[]) visit(item);
    else if (kind === 'map') {
      for (const [k, v] of value as Map<unknown, unknown>) {
        visit(k);
        visit(v);
      }
    }
    else if (kind === 'set') for (const item of value as Set<unknown>) visit(item);
    else for (const key in value) visit((value as Record<string, unknown>)[key]);
  };
  for (const arg of args) visit(arg);
  if (!found) return undefined;
  // A future needed anywhere is needed, even if it is also passed through allowFailure elsewhere.
  const required = found.required;
  const tolerated = found.tolerated.filter((f) => !required.includes(f));
  return { required, tolerated };
}

/**
 * `args` with every future replaced by `valueOf(future)` and every mark ({@link quote},
 * {@link allowFailure}) unwrapped. Containers on the way to a replaced value are copied (the
 * caller's data is never changed); the others are passed as they are.
 */
export function replaceFutures(args: readonly unknown[], valueOf: (future: TaskFuture<unknown>, tolerated: boolean) => unknown): unknown[] {
  const onPath = new Set<object>();
  const rebuild = (value: unknown): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    if (isTaskFuture(value)) return valueOf(value, false);
    if (kQuote in value) return (value as Quoted<unknown>).value;
    if (kAllowFailure in value) return valueOf((value as AllowFailure<unknown>).future, true);
    const kind = containerKind(value);
    if (kind === undefined || onPath.has(value)) return value; // a cycle is left as it is
    onPath.add(value);
    let copy: unknown;
    if (kind === 'array') {
      const items = value as unknown[];
      items.forEach((item, i) => {
        const next = rebuild(item);
        if (next !== item) ((copy ??= items.slice()) as unknown[])[i] = next;
      });
    } else if (kind === 'map') {
      const entries = [...(value as Map<unknown, unknown>)].map(([k, v]) => [k, v, rebuild(k), rebuild(v)] as const);
      if (entries.some(([k, v, k2, v2]) => k !== k2 || v !== v2)) copy = new Map(entries.map(([, , k2, v2]) => [k2, v2]));
    } else if (kind === 'set') {
      const items = [...(value as Set<unknown>)];
      const next = items.map(rebuild);
      if (next.some((item, i) => item !== items[i])) copy = new Set(next);
    } else {
      const record = value as Record<string, unknown>;
      for (const key in record) {
        const next = rebuild(record[key]);
        if (next !== record[key]) ((copy ??= Object.assign(Object.create(Object.getPrototypeOf(value) as object | null) as object, record)) as Record<string, unknown>)[key] = next;
      }
    }
    onPath.delete(value);
    return copy ?? value;
  };
  return rebuild(args) as unknown[];
}

/** The plain-data containers weft looks inside; anything else (class instances included) is passed whole. */
function containerKind(value: object): 'array' | 'map' | 'set' | 'object' | undefined {
  if (Array.isArray(value)) return 'array';
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto === Object.prototype || proto === null) return 'object';
  if (value instanceof Map) return 'map';
  if (value instanceof Set) return 'set';
  return undefined;
}
