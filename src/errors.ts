/**
 * Every error weft throws is a {@link WeftError}: it has a stable `code`, structured fields, a
 * standard `cause`, and a message that says what happened and what to do about it.
 *
 * `instanceof` works across worker threads, child processes (after the error is rebuilt from the
 * wire) and duplicate copies of weft, through a `Symbol.for` marker rather than prototype identity.
 *
 * @module
 */

const kCode = Symbol.for('weft.error.code');

/** The codes of weft's errors, one per class. */
export const ErrorCode = {
  TaskRun: 'WEFT_TASK_RUN_FAILED',
  FlowRun: 'WEFT_FLOW_RUN_FAILED',
  WorkerCrashed: 'WEFT_WORKER_CRASHED',
  TaskNotFound: 'WEFT_TASK_NOT_FOUND',
  Serialization: 'WEFT_SERIALIZATION',
  ClusterConnection: 'WEFT_CLUSTER_CONNECTION',
  Cancelled: 'WEFT_CANCELLED',
  TaskTimeout: 'WEFT_TASK_TIMEOUT',
  UpstreamFailed: 'WEFT_UPSTREAM_FAILED',
  InvalidOption: 'WEFT_INVALID_OPTION',
  Usage: 'WEFT_USAGE',
  FlowParameters: 'WEFT_FLOW_PARAMETERS',
  UnguardedModule: 'WEFT_UNGUARDED_MODULE',
  AsCompletedTimeout: 'WEFT_AS_COMPLETED_TIMEOUT',
  WorkerStart: 'WEFT_WORKER_START',
  ClusterMode: 'WEFT_CLUSTER_MODE',
  CodeVersion: 'WEFT_CODE_VERSION',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The base of every weft error. Match on `instanceof` or on `code`. */
export class WeftError extends Error {
  declare readonly code: ErrorCode;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (typeof value !== 'object' || value === null) return false;
    const code = (value as { [kCode]?: unknown })[kCode];
    if (typeof code !== 'string') return false;
    if (this === WeftError) return true;
    // A user's subclass of a weft class has no code of its own: match it by prototype, so that
    // weft's own CancelledError is not an instance of the user's MyCancelledError.
    if (!Object.prototype.hasOwnProperty.call(this.prototype, kCode)) return Function.prototype[Symbol.hasInstance].call(this, value);
    return code === (this.prototype as { [kCode]?: unknown })[kCode];
  }
}

/** Sets `name`, `code` and the cross-realm marker on an error class's prototype. */
function define(cls: { prototype: object }, name: string, code: ErrorCode): void {
  Object.defineProperties(cls.prototype, {
    name: { value: name, writable: true, configurable: true },
    code: { value: code, writable: true, configurable: true },
    [kCode]: { value: code, configurable: true },
  });
}
Object.defineProperty(WeftError.prototype, 'name', { value: 'WeftError', writable: true, configurable: true });

/** The state a task run ended in when its future rejects. */
export type FailedTaskRunState = 'Failed' | 'Crashed' | 'Cancelled';

/**
 * A task run failed because the task's own code threw (or timed out). `cause` is the task's
 * error as thrown, rebuilt with its name, own fields and stack from wherever it ran.
 */
export class TaskRunError extends WeftError {
  constructor(
    readonly taskName: string,
    readonly taskRunId: string,
    cause: unknown,
    /** The attempt that failed last (1 for a task without retries); 0 when it never ran. */
    readonly attempt?: number,
  ) {
    // Its own fact only: the cause's message is the cause's to tell (printed once, below it).
    super(`Task run '${taskRunId}' of task '${taskName}' failed${attempt ? ` on attempt ${attempt}` : ''}`, { cause });
  }
}
define(TaskRunError, 'TaskRunError', ErrorCode.TaskRun);

/** A flow run ended in a state other than Completed; `cause` says why. */
export class FlowRunError extends WeftError {
  constructor(
    readonly flowName: string,
    readonly flowRunId: string,
    readonly state: 'Failed' | 'Cancelled' | 'Crashed',
    cause: unknown,
  ) {
    const how = state === 'Cancelled' ? 'was cancelled' : state === 'Crashed' ? 'crashed' : 'failed';
    // Which task run, not what it said: its error, the cause, says that once.
    const why = cause instanceof TaskRunError ? `: task run '${cause.taskRunId}' failed` : '';
    super(`Flow run '${flowRunId}' of flow '${flowName}' ${how}${why}`, { cause });
  }
}
define(FlowRunError, 'FlowRunError', ErrorCode.FlowRun);

/**
 * The worker running a task died (exit, crash, out of memory, SIGKILL). This is infrastructure,
 * not the task's code: the task run's state is Crashed.
 */
export class WorkerCrashedError extends WeftError {
  constructor(
    readonly taskName: string,
    readonly workerId: string,
    readonly reason: string,
    readonly attempts = 1,
  ) {
    super(
      `Task '${taskName}' crashed: worker ${workerId} ${reason}` +
        (attempts > 1 ? ` (${attempts} times)` : '') +
        '. The task itself did not throw; look at what the worker was doing (memory, process.exit, signals).',
    );
  }
}
define(WorkerCrashedError, 'WorkerCrashedError', ErrorCode.WorkerCrashed);

/** A worker could not find a task by its module and name. */
export class TaskNotFoundError extends WeftError {
  constructor(
    readonly taskName: string,
    readonly module: string,
    readonly reason: string,
    cause?: unknown,
  ) {
    super(
      `Task '${taskName}' was not found in module ${module}: ${reason}. ` +
        'Tasks that run outside the flow process (threads, processes, cluster) must be created with ' +
        'task() at the top level of a module that imports without errors, so a worker can import it and find them by name.',
      cause === undefined ? undefined : { cause },
    );
  }
}
define(TaskNotFoundError, 'TaskNotFoundError', ErrorCode.TaskNotFound);

/**
 * What kept a value from crossing: it cannot be structured-cloned at all (`uncloneable`: a
 * function, a socket); it is a class instance that would arrive as a plain object (`prototype`);
 * or it arrived marked with a class the receiving side cannot find (`class-not-found`).
 */
export type SerializationProblem = 'uncloneable' | 'prototype' | 'class-not-found';

/**
 * A value cannot cross a thread, process or network boundary: `path` names it (`args[1].callback`,
 * `result.total`), `valueType` says what it is (`function callback`, `Money`), `problem` why.
 */
export class SerializationError extends WeftError {
  constructor(
    readonly path: string,
    readonly valueType: string,
    cause?: unknown,
    /** What to do instead, when the value's type calls for other advice than the usual. */
    hint?: string,
    readonly problem: SerializationProblem = 'uncloneable',
    /** For `class-not-found`: the module the class was looked for in, and why it was not there. */
    readonly detail?: string,
  ) {
    super(serializationMessage(path, valueType, problem, detail, hint), cause === undefined ? undefined : { cause });
  }
}

function serializationMessage(path: string, valueType: string, problem: SerializationProblem, detail: string | undefined, hint: string | undefined): string {
  if (problem === 'prototype') {
    return `Cannot send ${path} to another thread, process or machine: it is a \`${valueType}\`, and a class instance would arrive ` +
      `as a plain object, without its methods (instanceof ${valueType} would be false there). Mark the class at the top level of the ` +
      `module that defines it with serializable(${valueType}) (from 'weftjs') so it crosses with its prototype, or pass plain data.`;
  }
  if (problem === 'class-not-found') {
    return `Cannot rebuild ${path}: it holds a \`${valueType}\` marked serializable, but ${detail ?? 'its class was not found here'}. ` +
      'A serializable class must be created and marked with serializable() at the top level of a module that imports without errors.';
  }
  return `Cannot send ${path} (${valueType}) to another thread, process or machine: it cannot be structured-cloned. ` +
    (hint ?? 'Pass plain data (objects, arrays, Maps, Sets, Dates, typed arrays, Errors) and create functions, ' +
    'sockets and handles inside the task instead.');
}
define(SerializationError, 'SerializationError', ErrorCode.Serialization);

/** The cluster's Redis could not be reached, or was lost. */
export class ClusterConnectionError extends WeftError {
  constructor(
    readonly address: string,
    reason: string,
    cause?: unknown,
  ) {
    super(
      `Cannot reach the weft cluster at ${address}: ${reason}. ` +
        'Check that Redis is running there (weft cluster up prints the address) and that the address is right.',
      cause === undefined ? undefined : { cause },
    );
  }
}
define(ClusterConnectionError, 'ClusterConnectionError', ErrorCode.ClusterConnection);

/**
 * The address is of the wrong kind for the Redis it reaches: a single-node `redis://` address for
 * a Redis Cluster (whose other shards it cannot reach: MOVED replies), or a `redis+cluster://`
 * address for a Redis that runs no cluster. The message names the address to use instead.
 */
export class ClusterModeError extends WeftError {
  constructor(
    readonly address: string,
    /** What the Redis there is. */
    readonly found: 'cluster' | 'server',
    /** The address to use instead. */
    readonly suggested: string,
    cause?: unknown,
  ) {
    super(
      found === 'cluster'
        ? `The Redis at ${address} is a Redis Cluster (cluster mode is on there), and a redis:// address reaches only one of its nodes. ` +
          `Use a Redis Cluster address naming its nodes: ${suggested} (more seed nodes may follow, comma-separated).`
        : `The Redis at ${address} is not a Redis Cluster (cluster support is disabled there). Use a single-server address: ${suggested}.`,
      cause === undefined ? undefined : { cause },
    );
  }
}
define(ClusterModeError, 'ClusterModeError', ErrorCode.ClusterMode);

/** A task run or flow run was cancelled before it finished. */
export class CancelledError extends WeftError {
  constructor(readonly reason: string = 'cancelled') {
    super(`Cancelled: ${reason}`);
  }
}
define(CancelledError, 'CancelledError', ErrorCode.Cancelled);

/**
 * weft's own timeout: a task attempt ran past its `timeoutMs`. Distinct from any `TimeoutError`
 * the task's own code throws, which reaches the user unchanged.
 */
export class TaskTimeoutError extends WeftError {
  constructor(
    readonly taskName: string,
    readonly timeoutMs: number,
  ) {
    super(`Task '${taskName}' did not finish within timeoutMs (${timeoutMs} ms); raise timeoutMs if it needs longer.`);
  }
}
define(TaskTimeoutError, 'TaskTimeoutError', ErrorCode.TaskTimeout);

/** A task did not run because a future it depends on did not complete. */
export class UpstreamFailedError extends WeftError {
  constructor(
    readonly taskName: string,
    readonly upstreamTaskName: string,
    readonly upstreamTaskRunId: string,
    readonly upstreamState: string,
    cause?: unknown,
  ) {
    super(
      `Task '${taskName}' did not run: its upstream task run '${upstreamTaskRunId}' ('${upstreamTaskName}') ended ${upstreamState}.`,
      cause === undefined ? undefined : { cause },
    );
  }
}
define(UpstreamFailedError, 'UpstreamFailedError', ErrorCode.UpstreamFailed);

/** An option had a bad value. The message names the option, what was expected and what was received. */
export class InvalidOptionError extends WeftError {
  constructor(
    readonly option: string,
    readonly expected: string,
    readonly received: unknown,
  ) {
    super(`Expected \`${option}\` to be ${expected}, got ${showValue(received)}`);
  }
}
define(InvalidOptionError, 'InvalidOptionError', ErrorCode.InvalidOption);

/** One thing wrong with a flow's parameters, as its parameters schema reported it. */
export interface ParameterIssue {
  /** The parameter (`pages`), or a path into it (`range.start`); `(parameters)` for the whole. */
  readonly parameter: string;
  /** What the schema expected, in its own words (`Invalid input: expected number, received NaN`). */
  readonly message: string;
  /** The value the parameter had. */
  readonly received: unknown;
}

/**
 * A flow was called (or `weft run` was given `--param`s) with parameters it does not accept: one
 * missing, of the wrong type, or rejected by the flow's `parameters` schema. Nothing ran.
 */
export class FlowParametersError extends WeftError {
  constructor(
    readonly flowName: string,
    readonly issues: readonly ParameterIssue[],
  ) {
    super(
      `Flow '${flowName}' was given invalid parameters: ` +
        issues.map((i) => `\`${i.parameter}\`: ${i.message.replace(/\.$/, '')} (${i.received === undefined ? 'not given' : `got ${showValue(i.received)}`})`).join('; ') + '.',
    );
  }
}
define(FlowParametersError, 'FlowParametersError', ErrorCode.FlowParameters);

/**
 * A module started a flow at its top level without `if (isMain(import.meta))`, and a weft worker
 * imported it to find a task: the worker refuses to run the flow again.
 */
export class UnguardedModuleError extends WeftError {
  constructor(
    readonly flowName: string,
    /** The module that started it, where known. */
    readonly module: string | undefined,
  ) {
    super(
      `Flow '${flowName}' was started while a weft worker imported ${module ?? 'its module'} to find a task. ` +
        'A module that runs its flow at top level must guard the call: if (isMain(import.meta)) await myFlow(); ' +
        'otherwise every worker that imports the module would run the flow again.',
    );
  }
}
define(UnguardedModuleError, 'UnguardedModuleError', ErrorCode.UnguardedModule);
/**
 * weft's own timeout while waiting on futures (`asCompleted(futures, { timeoutMs })`): futures
 * remained after that long. Distinct from any TimeoutError a task throws.
 */
export class AsCompletedTimeoutError extends WeftError {
  constructor(
    readonly notDone: number,
    readonly timeoutMs: number,
  ) {
    super(`${notDone} future(s) were still not done after ${timeoutMs} ms; raise timeoutMs, or handle the rest after the loop.`);
  }
}
define(AsCompletedTimeoutError, 'AsCompletedTimeoutError', ErrorCode.AsCompletedTimeout);

/**
 * A worker (thread, process, cluster worker) could not start, so the task runs waiting for it
 * could not run (dask's `WorkerStartTimeoutError`). `attempts`: the starts tried in a row;
 * `reason`: why the last one failed.
 */
export class WorkerStartError extends WeftError {
  constructor(
    readonly workerId: string,
    readonly attempts: number,
    readonly reason: string,
    cause?: unknown,
  ) {
    super(
      `Worker ${workerId} could not start${attempts > 1 ? ` (${attempts} attempts in a row)` : ''}: ${reason}. ` +
        "Check the worker's options (maxHeapMb, resources) and that weft and tsx load in a fresh worker.",
      cause === undefined ? undefined : { cause },
    );
  }
}
define(WorkerStartError, 'WorkerStartError', ErrorCode.WorkerStart);

/**
 * A cluster worker's copy of a task's module is not the flow's (their sources' hashes differ):
 * the task was refused rather than run with other code. `module`: the module, relative to the
 * project root; `workerId`, `host`: the worker that refused it.
 */
export class CodeVersionError extends WeftError {
  constructor(
    readonly taskName: string,
    readonly module: string,
    readonly workerId: string,
    readonly host: string,
  ) {
    super(
      `Task '${taskName}' was not run: its module ${module} on worker ${workerId} (host ${host}) is not the flow's version (their sources differ). ` +
        'Deploy the same code to the workers (the same commit, rebuilt) and restart them.',
    );
  }
}
define(CodeVersionError, 'CodeVersionError', ErrorCode.CodeVersion);

/** weft's API was used in a way it does not support; the message says how to use it instead. */
export class UsageError extends WeftError {}
define(UsageError, 'UsageError', ErrorCode.Usage);

/** `\`0\` (number)`: a received value as the validation messages show it. */
export function showValue(value: unknown): string {
  let text: string;
  if (typeof value === 'function') text = `function ${value.name || '(anonymous)'}`;
  else if (typeof value === 'bigint') text = `${value}n`;
  // JSON.stringify shows Infinity and NaN as null.
  else if (typeof value === 'number') text = Object.is(value, -0) ? '-0' : String(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  if (text.length > 80) text = `${text.slice(0, 77)}...`;
  const type = value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;
  return `\`${text}\` (${type})`;
}

