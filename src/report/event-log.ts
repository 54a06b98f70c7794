import type { EventBus } from '../events/bus.ts';
import type { WeftEventName, WeftEvents } from '../events/events.ts';

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
 * - `worker`: the worker id; for `flow-run:started`, the parent flow run id.
 * - `x`: the attempt (started, retried, finished), the level (log), `from` (scale).
 * - `y`: an absolute time: `readyTime` (started), `startTime` (finished).
 * - `d`: `serviceMs` (finished), `delayMs` (retried), `to` (scale), `priority` (submitted).
 * - `m`: a text: the error (`Name: message`), the log line, a reason, the runner's name, a worker's resources as JSON.
 */
export class EventLog {
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

  /** Appends one event as the bus carries it. */
  append<E extends WeftEventName>(name: E, event: WeftEvents[E]): void {
    const e = event as Partial<AnyEvent>;
    const s = (v: string | undefined) => this.intern(v);
    const f = (v: string | undefined) => this.intern(v, 0);
    const n = (v: string | undefined) => this.intern(v, 1);
    const w = (v: string | undefined) => this.intern(v, 2);
    switch (name) {
      case 'flow-run:started':
        return this.row(K[name], e.time!, f(e.flowRunId), -1, n(e.flowName), s(e.parentFlowRunId), -1, -1, NaN, NaN, s(e.runner));
      case 'flow-run:finished':
        return this.row(K[name], e.time!, f(e.flowRunId), -1, n(e.flowName), -1, -1, stateCode(e.state), NaN, NaN, s(errorText(e.error)));
      case 'task-run:submitted':
        return this.row(K[name], e.time!, f(e.flowRunId), s(e.taskRunId), n(e.taskName), -1, -1, -1, NaN, e.priority);
      case 'task-run:started':
        return this.row(K[name], e.time!, f(e.flowRunId), s(e.taskRunId), n(e.taskName), w(e.workerId), e.attempt, -1, e.readyTime ?? NaN);
      case 'task-run:retried':
        return this.row(K[name], e.time!, f(e.flowRunId), s(e.taskRunId), n(e.taskName), w(e.workerId), e.attempt, -1, NaN, e.delayMs, s(errorText(e.error)));
      case 'task-run:finished':
        return this.row(K[name], e.time!, f(e.flowRunId), s(e.taskRunId), n(e.taskName), w(e.workerId), e.attempt ?? -1, stateCode(e.state), e.startTime ?? NaN, e.serviceMs ?? NaN, s(errorText(e.error)));
      case 'task-run:log': {
        const error = e.level === 'error';
        if (error ? this.#errorLogs++ >= LOG_CAP : this.#logs++ >= LOG_CAP) {
          this.droppedLogs++;
          return;
        }
        return this.row(K[name], e.time!, f(e.flowRunId), s(e.taskRunId), n(e.taskName), w(e.workerId), LEVELS.indexOf(e.level!), -1, NaN, NaN, s(e.message));
      }
      case 'worker:joined':
        return this.row(K[name], e.time!, -1, -1, -1, w(e.workerId), -1, -1, NaN, NaN, s(JSON.stringify(e.resources ?? {})));
      case 'worker:left':
        return this.row(K[name], e.time!, -1, -1, -1, w(e.workerId), -1, -1, NaN, NaN, s(e.reason));
      case 'scale:up':
      case 'scale:down':
        return this.row(K[name], e.time!, -1, -1, -1, -1, e.from, -1, NaN, e.to, s(e.reason));
      case 'runner:warning':
        return this.row(K[name], e.time!, -1, -1, -1, -1, -1, -1, NaN, NaN, s(e.message));
    }
  }

  #grow(): void {
    const size = this.kind.length * 4;
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

/** The union of every event's fields, for reading them by name. */
interface AnyEvent {
  flowRunId: string; taskRunId: string; taskName: string; flowName: string; parentFlowRunId?: string; runner: string;
  workerId: string; attempt: number; readyTime?: number; startTime?: number; serviceMs?: number; delayMs: number;
  priority: number; state: string; error?: Error; level: (typeof LEVELS)[number]; message: string; reason: string;
  resources: Record<string, number>; from: number; to: number; time: number;
}

function stateCode(state: string | undefined): number {
  return STATES.indexOf(state as (typeof STATES)[number]);
}

function errorText(error: Error | undefined): string | undefined {
  if (error === undefined) return undefined;
  return `${error.name}: ${error.message}`;
}

/**
 * Collects every event of `events` (a flow run's bus, or a FlowRun handle: its subflows' events
 * included) into a new log, until the returned `stop()` is called.
 */
export function collect(events: Pick<EventBus, 'on'>): { log: EventLog; stop(): void } {
  const log = new EventLog();
  const off = KINDS.map((name) => events.on(name, (event) => log.append(name, event)));
  return { log, stop: () => off.forEach((f) => f()) };
}

/** Builds a log from events in order, e.g. for tests or events read back from elsewhere. */
export function logOf(events: ReadonlyArray<{ [N in WeftEventName]: [N, WeftEvents[N]] }[WeftEventName]>): EventLog {
  const log = new EventLog();
  for (const [name, event] of events) log.append(name, event);
  return log;
}
