import type { EventBus } from '../events/bus.ts';
import type { WeftEventName, WeftEvents } from '../events/events.ts';
import type { FoldRecorder } from '../events/fold.ts';
import type { FinalTaskRunState } from '../core/states.ts';

/** Event kinds, by their code in {@link EventLog.kind}. */
export const KINDS = [
  'flow-run:started', 'flow-run:finished', 'task-run:submitted', 'task-run:started', 'task-run:retried',
  'task-run:finished', 'task-run:log', 'worker:joined', 'worker:left', 'scale:up', 'scale:down', 'runner:warning',
] as const satisfies readonly WeftEventName[];
export const K = Object.fromEntries(KINDS.map((k, i) => [k, i])) as { readonly [N in (typeof KINDS)[number]]: number };

/** Final task-run and flow-run states, by their code in {@link EventLog.state}. */
export const STATES = ['Completed', 'Failed', 'Crashed', 'Cancelled', 'Running'] as const;
export const LEVELS = ['debug', 'info', 'warn', 'error'] as const;

/** Non-error task log lines a log keeps; error-level lines have a cap of their own. */
export const LOG_CAP = 10_000;

const INITIAL = 4096;

/**
 * A run's events in columns: one row per event, numbers in typed arrays, strings dictionary-coded.
 * Appending is a handful of typed-array stores, so a report costs the run almost nothing while it
 * runs; the report is built from this at the end, and the same columns are the run log kept under
 * `.weft/runs/`. Columns whose meaning depends on the kind:
 * - `task`: the task run id (see {@link EventLog.taskCode}: most are stored as their number).
 * - `worker`: the worker id; for `flow-run:started`, the parent flow run id.
 * - `x`: the attempt (started, retried, finished), the level (log), `from` (scale).
 * - `y`: an absolute time: `readyTime` (started), `startTime` (finished).
 * - `d`: `serviceMs` (finished), `delayMs` (retried), `to` (scale), `priority` (submitted).
 * - `m`: a text: the error (`Name: message`), the log line, a reason, the runner's name, a worker's resources as JSON.
 */
export class EventLog implements FoldRecorder {
  length = 0;
  readonly strings: string[] = [];
  readonly #ids = new Map<string, number>();
  kind = new Uint8Array(INITIAL);
  time = new Float64Array(INITIAL);
  flow = new Int32Array(INITIAL);
  task = new Int32Array(INITIAL);
  name = new Int32Array(INITIAL);
  worker = new Int32Array(INITIAL);
  x = new Int32Array(INITIAL);
  state = new Int8Array(INITIAL);
  y = new Float64Array(INITIAL);
  d = new Float64Array(INITIAL);
  m = new Int32Array(INITIAL);
  /** Log lines left out past the caps. */
  droppedLogs = 0;
  #logs = 0;
  #errorLogs = 0;

  // Per field, the last string interned and its code: flow run ids, task names and worker ids
  // repeat from one event to the next, and a reference compare is far cheaper than a hash lookup.
  readonly #lastString: Array<string | undefined> = [undefined, undefined, undefined, undefined];
  readonly #lastCode = [-1, -1, -1, -1];

  /** The dictionary code of a string (-1 for undefined); `field` (0-3) picks a one-entry cache. */
  intern(s: string | undefined, field = 3): number {
    if (s === undefined) return -1;
    if (s === this.#lastString[field]) return this.#lastCode[field]!;
    let id = this.#ids.get(s);
    if (id === undefined) {
      id = this.strings.push(s) - 1;
      this.#ids.set(s, id);
    }
    this.#lastString[field] = s;
    this.#lastCode[field] = id;
    return id;
  }

  /** The string of a dictionary code. */
  str(code: number): string | undefined {
    return code < 0 ? undefined : this.strings[code];
  }

  /** Appends one row; fields not given are -1 (codes) or NaN (numbers). */
  row(kind: number, time: number, flow: number, task = -1, name = -1, worker = -1, x = -1, state = -1, y = NaN, d = NaN, m = -1): void {
    if (this.length === this.kind.length) this.#grow();
    const i = this.length++;
    this.kind[i] = kind;
    this.time[i] = time;
    this.flow[i] = flow;
    this.task[i] = task;
    this.name[i] = name;
    this.worker[i] = worker;
    this.x[i] = x;
    this.state[i] = state;
    this.y[i] = y;
    this.d[i] = d;
    this.m[i] = m;
  }

  /**
   * The code of a task run id in the `task` column: an id of the usual form `${taskName}-${n}` is
   * stored as the number, `-(n + 2)`, with no dictionary entry (each id is new: interning it would
   * cost a hash insert per task run); any other id goes in the dictionary. {@link taskId} reverses it.
   */
  taskCode(id: string | undefined, name: string | undefined): number {
    if (id === undefined) return -1;
    const at = name === undefined ? -1 : name.length;
    // Digits after `name-`, no leading zero (it would not round-trip), up to 9 of them.
    if (at > 0 && id.length > at + 1 && id.length <= at + 10 && id.charCodeAt(at) === 45 && (id.charCodeAt(at + 1) !== 48 || id.length === at + 2) && id.startsWith(name as string)) {
      let n = 0;
      for (let j = at + 1; j < id.length; j++) {
        const c = id.charCodeAt(j) - 48;
        if (c < 0 || c > 9) return this.intern(id);
        n = n * 10 + c;
      }
      return -(n + 2);
    }
    return this.intern(id);
  }

  /** The task run id of row `i` (see {@link taskCode}). */
  taskId(i: number): string | undefined {
    const code = this.task[i]!;
    return code <= -2 ? `${this.str(this.name[i]!) ?? ''}-${-(code + 2)}` : this.str(code);
  }

  /** Appends one event as the bus carries it. Called once per event of the run: no closure, no allocation beyond the columns. */
  append<E extends WeftEventName>(name: E, event: WeftEvents[E]): void {
    (APPEND[name as Kind] as Appender<E>)(this, event);
  }

  /** A `task-run:submitted` row: from its event, or straight from a fold ({@link FoldRecorder}). */
  submitted(flowRunId: string, taskRunId: string, taskName: string, time: number, priority = NaN): void {
    this.row(K['task-run:submitted'], time, this.intern(flowRunId, 0), this.taskCode(taskRunId, taskName), this.intern(taskName, 1), -1, -1, -1, NaN, priority);
  }

  /** A `task-run:started` row. */
  started(flowRunId: string, taskRunId: string, taskName: string, attempt: number, workerId: string, readyTime: number | undefined, time: number): void {
    this.row(K['task-run:started'], time, this.intern(flowRunId, 0), this.taskCode(taskRunId, taskName), this.intern(taskName, 1), this.intern(workerId, 2), attempt, -1, readyTime ?? NaN);
  }

  /** A `task-run:finished` row. */
  finished(flowRunId: string, taskRunId: string, taskName: string, state: FinalTaskRunState, time: number, workerId: string | undefined, error: Error | undefined, attempt: number, startTime: number | undefined, serviceMs: number | undefined): void {
    this.row(K['task-run:finished'], time, this.intern(flowRunId, 0), this.taskCode(taskRunId, taskName), this.intern(taskName, 1), this.intern(workerId, 2), attempt ?? -1, stateCode(state), startTime ?? NaN, serviceMs ?? NaN, this.intern(errorText(error)));
  }

  /** A log line, unless past its cap (error lines have a cap of their own). */
  log(e: WeftEvents['task-run:log']): void {
    const error = e.level === 'error';
    if (error ? this.#errorLogs++ >= LOG_CAP : this.#logs++ >= LOG_CAP) {
      this.droppedLogs++;
      return;
    }
    this.row(K['task-run:log'], e.time, this.intern(e.flowRunId, 0), this.taskCode(e.taskRunId, e.taskName), this.intern(e.taskName, 1), this.intern(e.workerId, 2), LEVELS.indexOf(e.level), -1, NaN, NaN, this.intern(e.message));
  }

  // Doubling: a log never holds more than twice its rows (50 B a row). Growing ×4 left a
  // 100,000-run log (300,002 rows) with room for 1,048,576 rows, 52 MB live and 70 MB allocated
  // over its growth; doubled, 26 MB live and 52 MB allocated: less memory for the run's GC to see.
  #grow(): void {
    const size = Math.max(INITIAL, this.kind.length * 2);
    const grow = <T extends Uint8Array | Int8Array | Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as new (n: number) => T)(size);
      b.set(a);
      return b;
    };
    this.kind = grow(this.kind);
    this.time = grow(this.time);
    this.flow = grow(this.flow);
    this.task = grow(this.task);
    this.name = grow(this.name);
    this.worker = grow(this.worker);
    this.x = grow(this.x);
    this.state = grow(this.state);
    this.y = grow(this.y);
    this.d = grow(this.d);
    this.m = grow(this.m);
  }
}

type Kind = (typeof KINDS)[number];
type Appender<E extends WeftEventName> = (log: EventLog, event: WeftEvents[E]) => void;

/**
 * One appender per kind: each reads one event shape, so its property loads stay monomorphic
 * (one shared function reading every kind's fields made them megamorphic: a hash lookup per field).
 */
const APPEND: { readonly [E in Kind]: Appender<E> } = {
  'flow-run:started': (log, e) => log.row(K['flow-run:started'], e.time, log.intern(e.flowRunId, 0), -1, log.intern(e.flowName, 1), log.intern(e.parentFlowRunId), -1, -1, NaN, NaN, log.intern(e.runner)),
  'flow-run:finished': (log, e) => log.row(K['flow-run:finished'], e.time, log.intern(e.flowRunId, 0), -1, log.intern(e.flowName, 1), -1, -1, stateCode(e.state), NaN, NaN, log.intern(errorText(e.error))),
  'task-run:submitted': (log, e) => log.submitted(e.flowRunId, e.taskRunId, e.taskName, e.time, e.priority),
  'task-run:started': (log, e) => log.started(e.flowRunId, e.taskRunId, e.taskName, e.attempt, e.workerId, e.readyTime, e.time),
  'task-run:retried': (log, e) => log.row(K['task-run:retried'], e.time, log.intern(e.flowRunId, 0), log.taskCode(e.taskRunId, e.taskName), log.intern(e.taskName, 1), log.intern(e.workerId, 2), e.attempt, -1, NaN, e.delayMs, log.intern(errorText(e.error))),
  'task-run:finished': (log, e) => log.finished(e.flowRunId, e.taskRunId, e.taskName, e.state, e.time, e.workerId, e.error, e.attempt, e.startTime, e.serviceMs),
  'task-run:log': (log, e) => log.log(e),
  'worker:joined': (log, e) => log.row(K['worker:joined'], e.time, -1, -1, -1, log.intern(e.workerId, 2), -1, -1, NaN, NaN, log.intern(JSON.stringify(e.resources ?? {}))),
  'worker:left': (log, e) => log.row(K['worker:left'], e.time, -1, -1, -1, log.intern(e.workerId, 2), -1, -1, NaN, NaN, log.intern(e.reason)),
  'scale:up': (log, e) => log.row(K['scale:up'], e.time, -1, -1, -1, -1, e.from, -1, NaN, e.to, log.intern(e.reason)),
  'scale:down': (log, e) => log.row(K['scale:down'], e.time, -1, -1, -1, -1, e.from, -1, NaN, e.to, log.intern(e.reason)),
  'runner:warning': (log, e) => log.row(K['runner:warning'], e.time, -1, -1, -1, -1, -1, -1, NaN, NaN, log.intern(e.message)),
};

function stateCode(state: string | undefined): number {
  return STATES.indexOf(state as (typeof STATES)[number]);
}

function errorText(error: Error | undefined): string | undefined {
  if (error === undefined) return undefined;
  return `${error.name}: ${error.message}`;
}

/** The kinds a fold records itself ({@link FoldRecorder}). */
const FOLDED: ReadonlySet<WeftEventName> = new Set(['task-run:submitted', 'task-run:started', 'task-run:finished']);

/** A flow run's engine, as the collector sees it: its fold takes a recorder. */
export interface RecordingRun {
  /** Writes the run's (and its subflows') submits, starts and ends to `recorder` until the returned function is called. */
  recordTo(recorder: FoldRecorder): () => void;
}

/**
 * Collects every event of `events` (a flow run's bus, or a FlowRun handle: its subflows' events
 * included) into a new log, until the returned `stop()` is called. With `run` (the run's engine),
 * submits, starts and ends come from its fold instead: the engine then builds no event object for
 * them (unless another listener wants them), and the log's rows are the same.
 */
export function collect(events: Pick<EventBus, 'on'>, run?: RecordingRun): { log: EventLog; stop(): void } {
  const log = new EventLog();
  const detach = run?.recordTo(log);
  const off = KINDS.filter((name) => !detach || !FOLDED.has(name)).map(<E extends Kind>(name: E) => {
    const append = APPEND[name] as Appender<E>;
    return events.on(name, (event) => append(log, event));
  });
  return {
    log,
    stop: () => {
      off.forEach((f) => f());
      detach?.();
    },
  };
}

/** Builds a log from events in order, e.g. for tests or events read back from elsewhere. */
export function logOf(events: ReadonlyArray<{ [N in WeftEventName]: [N, WeftEvents[N]] }[WeftEventName]>): EventLog {
  const log = new EventLog();
  for (const [name, event] of events) log.append(name, event);
  return log;
}
