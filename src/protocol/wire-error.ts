import { cloneable } from './serialize.ts';
import {
  AsCompletedTimeoutError, CancelledError, ClusterConnectionError, FlowParametersError, FlowRunError, InvalidOptionError, SerializationError, TaskNotFoundError,
  TaskRunError, TaskTimeoutError, UnguardedModuleError, UpstreamFailedError, UsageError, WeftError, WorkerCrashedError, WorkerStartError, CodeVersionError,
} from '../errors.ts';

/**
 * An error as plain data, to cross a boundary and be rebuilt on the other side with its name,
 * message, own fields, cause and the stack from where it was thrown.
 */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly stack: string | undefined;
  /** Own enumerable fields that can be cloned (`code`, `errno`, a user's `statusCode`). */
  readonly fields: Record<string, unknown>;
  readonly cause?: WireError | { readonly value: unknown };
}

const WEFT_CLASSES: Record<string, { prototype: object }> = {
  TaskRunError, FlowRunError, WorkerCrashedError, TaskNotFoundError, SerializationError, ClusterConnectionError,
  CancelledError, TaskTimeoutError, UpstreamFailedError, InvalidOptionError, UsageError, WeftError, AsCompletedTimeoutError, WorkerStartError,
  FlowParametersError, UnguardedModuleError, CodeVersionError,
};
const BUILTIN: Record<string, { prototype: object }> = {
  Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError,
};

export function toWireError(error: unknown, depth = 0): WireError {
  if (!(error instanceof Error)) {
    return { name: 'Error', message: `A non-Error value was thrown: ${String(error)}`, stack: undefined, fields: { thrown: cloneable(error) ? error : String(error) } };
  }
  const fields: Record<string, unknown> = {};
  for (const key of Object.keys(error)) {
    if (key === 'cause' || key === 'stack' || key === 'message') continue;
    const value = (error as unknown as Record<string, unknown>)[key];
    if (cloneable(value)) fields[key] = value;
  }
  // weft's errors carry their code on the prototype: send it, so the other side can tell weft's
  // CancelledError from a user's class of the same name.
  if (error instanceof WeftError && fields.code === undefined) fields.code = error.code;
  const wire: { -readonly [K in keyof WireError]: WireError[K] } = { name: error.name, message: error.message, stack: error.stack, fields };
  if (error.cause !== undefined && depth < 8) {
    wire.cause = error.cause instanceof Error ? toWireError(error.cause, depth + 1) : { value: cloneable(error.cause) ? error.cause : String(error.cause) };
  }
  return wire;
}

/** Rebuilds an error from its wire form: weft's own classes and the built-in ones keep their class. */
export function fromWireError(wire: WireError): Error {
  const weft = WEFT_CLASSES[wire.name];
  const isWeft = weft !== undefined && wire.fields.code === (weft.prototype as { code?: unknown }).code;
  const proto = ((isWeft ? weft : undefined) ?? BUILTIN[wire.name] ?? Error).prototype;
  // A real Error (with V8's error slot), given the class's prototype: an object made by
  // Object.create(proto) is not an Error to structured clone, and would cross a boundary again as
  // a plain object without its message (allowFailure hands such errors on to other tasks).
  const error = new Error(wire.message);
  Object.setPrototypeOf(error, proto);
  if (error.name !== wire.name) Object.defineProperty(error, 'name', { value: wire.name, writable: true, configurable: true });
  Object.defineProperty(error, 'stack', { value: wire.stack ?? `${wire.name}: ${wire.message}`, writable: true, configurable: true });
  Object.assign(error, wire.fields);
  if (wire.cause !== undefined) {
    const cause = 'value' in wire.cause ? wire.cause.value : fromWireError(wire.cause);
    Object.defineProperty(error, 'cause', { value: cause, writable: true, configurable: true });
  }
  return error;
}
