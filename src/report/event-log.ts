import type { EventBus } from '../events/bus.ts';
import type { WeftEventName, WeftEvents } from '../events/events.ts';
import type { FoldRecorder } from '../events/fold.ts';
import type { FinalTaskRunState } from '../core/states.ts';
import { CHUNK_ROWS, newChunk, regrow, type Chunk, type ColumnName } from './rows.ts';

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

/** Rows of a log's first chunk; it doubles up to {@link CHUNK_ROWS}, so a small run's log stays small. */
const FIRST_ROWS = 4096;

/** Takes each chunk of a log as it fills, with the dictionary's entries added since the last chunk. */
export type ChunkSink = (chunk: Chunk, strings: readonly string[]) => void;

/**
 * A run's events in columns: one row per event, numbers in typed arrays, strings dictionary-coded.
 * Appending is a handful of typed-array stores, so a report costs the run almost nothing while it
 * runs. Rows fill fixed chunks ({@link CHUNK_ROWS}, rows.ts), never copied once full: the log
 * keeps them (the run log kept under `.weft/runs/`, a report built in this thread), or hands each
 * to a sink as it fills ({@link EventLog.sendTo}: the report thread). Columns whose meaning depends on the kind:
 * - `task`: the task run id (see {@link EventLog.taskCode}: most are stored as their number).
 * - `worker`: the worker id; for `flow-run:started`, the parent flow run id.
 * - `x`: the attempt (started, retried, finished), the level (log), `from` (scale).
 * - `y`: an absolute time: `readyTime` (started), `startTime` (finished).
 * - `d`: `serviceMs` (finished), `delayMs` (retried), `to` (scale), `priority` (submitted).
 * - `m`: a text: the error (`Name: message`), the log line, a reason, the runner's name, a worker's resources as JSON.
 */
export class EventLog implements FoldRecorder {
  /** Rows appended. */
  length = 0;
  /** The dictionary: append-only, so a sink is sent only its new entries. */
  readonly strings: string[] = [];
  readonly #ids = new Map<string, number>();
  /** Full chunks, kept here until a sink takes them. */
  readonly #full: Chunk[] = [];
  #chunk = newChunk(FIRST_ROWS);
  #sink: ChunkSink | undefined;
  /** Dictionary entries a sink has been sent. */
  #sent = 0;
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

  /** Appends one row; fields not given are -1 (codes) or NaN (numbers). */
  row(kind: number, time: number, flow: number, task = -1, name = -1, worker = -1, x = -1, state = -1, y = NaN, d = NaN, m = -1): void {
    let c = this.#chunk;
    if (c.length === c.capacity) c = this.#next();
    const i = c.length++;
    c.kind[i] = kind;
    c.time[i] = time;
    c.flow[i] = flow;
    c.task[i] = task;
    c.name[i] = name;
    c.worker[i] = worker;
    c.x[i] = x;
    c.state[i] = state;
    c.y[i] = y;
    c.d[i] = d;
    c.m[i] = m;
    this.length++;
  }

  // The first chunk doubles up to full size (a copy of at most 0.8 MB in all); after that a full
  // chunk is kept or handed on as it is, and a fresh one taken: no growth copies.
  #next(): Chunk {
    const c = this.#chunk;
    if (c.capacity < CHUNK_ROWS) return (this.#chunk = regrow(c, Math.min(CHUNK_ROWS, c.capacity * 2)));
    if (this.#sink) this.#sink(c, this.#newStrings());
    else this.#full.push(c);
    return (this.#chunk = newChunk(CHUNK_ROWS));
  }

  #newStrings(): readonly string[] {
    const added = this.strings.slice(this.#sent);
    this.#sent = this.strings.length;
    return added;
  }

  /**
   * From now on, hands each chunk to `sink` as it fills (the chunks full so far first) and keeps
   * none: the sink may transfer their buffers. {@link end} gives the last, partial, chunk.
   */
  sendTo(sink: ChunkSink): void {
    this.#sink = sink;
    for (const c of this.#full.splice(0)) sink(c, this.#newStrings());
  }

  /** The partial chunk and the dictionary's entries not yet sent ({@link sendTo}); rows appended after it are not sent. */
  end(): { chunk: Chunk; strings: readonly string[] } {
    const chunk = this.#chunk;
    this.#chunk = newChunk(FIRST_ROWS);
    return { chunk, strings: this.#newStrings() };
  }

  /** Every chunk of the log, in order (a log with a sink keeps none but the one filling). */
  chunks(): readonly Chunk[] {
    return [...this.#full, this.#chunk];
  }

  /** The value of `column` at row `i` (a log without a sink: it keeps every row). */
  get(column: ColumnName, i: number): number {
    // Every chunk but the last is full size: the first doubled up to it before it was kept.
    const k = Math.floor(i / CHUNK_ROWS);
    return (k < this.#full.length ? this.#full[k]! : this.#chunk)[column][i % CHUNK_ROWS]!;
  }

  /** A log of these rows (every chunk full size but the last) and dictionary, e.g. read back from a run log. */
  static restore(strings: readonly string[], chunks: readonly Chunk[], droppedLogs: number): EventLog {
    const log = new EventLog();
    for (const s of strings) log.intern(s);
    log.droppedLogs = droppedLogs;
    if (chunks.length === 0) return log;
    log.#full.push(...chunks.slice(0, -1));
    log.#chunk = chunks[chunks.length - 1]!;
    log.length = chunks.reduce((n, c) => n + c.length, 0);
    return log;
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
    return taskIdOf(this.strings, this.get('task', i), this.get('name', i));
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

/** The dictionary's string for a code (undefined for a negative code: none). */
export function strOf(strings: readonly string[], code: number): string | undefined {
  return code < 0 ? undefined : strings[code];
}

/** A task run id from its code in the `task` column and its task name's code ({@link EventLog.taskCode}). */
export function taskIdOf(strings: readonly string[], task: number, name: number): string | undefined {
  if (task <= -2) return `${strOf(strings, name) ?? ''}-${-(task + 2)}`;
  return strOf(strings, task);
}

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
 * included) into a new log, until the returned `stop()` is called (once; later calls do nothing). With `run` (the run's engine),
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
  let stopped = false;
  return {
    log,
    // Once: a second detach would put back the recorder it replaced over one attached since.
    stop: () => {
      if (stopped) return;
      stopped = true;
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
