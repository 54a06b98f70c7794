import { InvalidOptionError } from '../errors.ts';

/** Options validation helpers: each throws {@link InvalidOptionError} naming the field. */

/** Node's longest timer (about 24.8 days): a longer delay fires after 1 ms instead, with only a warning. */
export const MAX_TIMER_MS = 2_147_483_647;

export function integer(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new InvalidOptionError(option, `an integer ≥ ${min}`, value);
  }
  return value;
}

export function number(option: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InvalidOptionError(option, `a finite number ≥ ${min}`, value);
  }
  return value;
}

export function positiveOrInfinity(option: string, value: unknown): number {
  if (value === Infinity) return value;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new InvalidOptionError(option, 'a number > 0 (milliseconds) or Infinity', value);
  }
  return value;
}

export function string(option: string, value: unknown): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new InvalidOptionError(option, 'a non-empty string', value);
  }
  return value;
}

export function func(option: string, value: unknown): (...args: never[]) => unknown {
  if (typeof value !== 'function') throw new InvalidOptionError(option, 'a function', value);
  return value as (...args: never[]) => unknown;
}

export function plainObject(option: string, value: unknown): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new InvalidOptionError(option, 'an object', value);
  }
  return value as Record<string, unknown>;
}

/** Throws for keys of `value` that are not in `known`, naming the unknown one. */
export function knownKeys(option: string, value: Record<string, unknown>, known: readonly string[]): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) {
      throw new InvalidOptionError(`${option}.${key}`, `one of the known options (${known.join(', ')})`, value[key]);
    }
  }
}
