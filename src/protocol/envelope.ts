import type { ClassRef } from './serializable.ts';

/**
 * How a value holding instances of classes marked `serializable()` travels: the value as it is,
 * beside the list of its classes and, for each marked object, its order in the walk of the value
 * (see prototypes.ts). A plain object with an unlikely key, since only plain data crosses.
 */
export const ENVELOPE = 'weft.serializable';

export interface Envelope {
  /** The classes, each once. */
  readonly [ENVELOPE]: readonly ClassRef[];
  /** Pairs: an object's order in the walk, then the index of its class. */
  readonly marks: readonly number[];
  readonly value: unknown;
}

/** Whether `value` is an envelope (a value sent with marked class instances in it). */
export function isEnvelope(value: unknown): value is Envelope {
  return typeof value === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype && ENVELOPE in value;
}

/** The value inside an envelope (as the user gave it), or the value itself: for naming paths. */
export function unwrap(value: unknown): unknown {
  return isEnvelope(value) ? value.value : value;
}
