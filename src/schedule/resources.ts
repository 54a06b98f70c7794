import { InvalidOptionError } from '../errors.ts';

/**
 * Abstract resources, as Dask's: `{ GPU: 1, memory: 4e9 }`. A worker declares what it has; a
 * task declares what it holds while it runs. Pure functions, no I/O.
 */
export type Resources = Readonly<Record<string, number>>;

export const NO_RESOURCES: Resources = Object.freeze({});

/** Validates a resources map: every value a finite number ≥ 0. */
export function resolveResources(option: string, value: unknown): Resources {
  if (value === undefined) return NO_RESOURCES;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(option, 'an object of resource amounts such as { GPU: 1 }', value);
  }
  const out: Record<string, number> = {};
  for (const [name, amount] of Object.entries(value)) {
    if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
      throw new InvalidOptionError(`${option}.${name}`, 'a finite number ≥ 0', amount);
    }
    if (amount > 0) out[name] = amount;
  }
  return Object.keys(out).length === 0 ? NO_RESOURCES : Object.freeze(out);
}

/** Parses `GPU=1,process=1` (the CLI's form). */
export function parseResources(option: string, text: string): Resources {
  const out: Record<string, number> = {};
  for (const part of text.split(',').filter(Boolean)) {
    const [name, amount, extra] = part.split('=');
    const value = Number(amount);
    // Number('') and Number(' ') are 0: an empty amount is malformed, not zero.
    if (!name?.trim() || amount === undefined || amount.trim() === '' || extra !== undefined || !Number.isFinite(value)) {
      throw new InvalidOptionError(option, 'a list such as GPU=1,process=1', text);
    }
    out[name.trim()] = value;
  }
  return resolveResources(option, out);
}

export function isEmpty(resources: Resources): boolean {
  return resources === NO_RESOURCES || Object.keys(resources).length === 0;
}

/** The first resource that `need` wants more of than `capacity` has, or undefined if it fits. */
export function shortfall(need: Resources, capacity: Resources): { name: string; need: number; have: number } | undefined {
  for (const name in need) {
    const want = need[name] ?? 0;
    const have = capacity[name] ?? 0;
    if (want > have) return { name, need: want, have };
  }
  return undefined;
}

/**
 * Tasks of a requirement one worker runs at once: its slots, or fewer when its resources allow
 * fewer (0: it cannot run them at all).
 */
export function slotsFor(need: Resources, workerResources: Resources, slotsPerWorker: number): number {
  if (shortfall(need, workerResources)) return 0;
  let slots = slotsPerWorker;
  for (const [name, amount] of Object.entries(need)) if (amount > 0) slots = Math.min(slots, Math.floor((workerResources[name] ?? 0) / amount));
  return Math.max(0, slots);
}

/** Mutable amounts left, for a pool that hands resources out and takes them back. */
export class ResourcePool {
  readonly #free: Record<string, number>;

  constructor(readonly capacity: Resources) {
    this.#free = { ...capacity };
  }

  fits(need: Resources): boolean {
    for (const name in need) if ((this.#free[name] ?? 0) < (need[name] ?? 0)) return false;
    return true;
  }

  acquire(need: Resources): void {
    for (const name in need) this.#free[name] = (this.#free[name] ?? 0) - (need[name] ?? 0);
  }

  release(need: Resources): void {
    for (const name in need) this.#free[name] = (this.#free[name] ?? 0) + (need[name] ?? 0);
  }

  get free(): Resources {
    return { ...this.#free };
  }
}
