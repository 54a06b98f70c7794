import { K, LEVELS, STATES, strOf, taskIdOf } from './event-log.ts';
import type { Chunk } from './rows.ts';

/** Error lines kept (task errors and error-level logs); the rest are counted. */
export const ERROR_CAP = 10_000;
/** Other log lines kept; the rest are counted. */
export const LOG_LINES_CAP = 10_000;

/** The run the report is about: the first flow run without a parent in the log. */
export interface Root {
  flow: number;
  id: string;
  name: string;
  runner: string;
  start: number;
  end?: number;
  state: string;
  error?: string;
}

export interface WorkerEvent {
  readonly time: number;
  readonly kind: 'joined' | 'left' | 'scale up' | 'scale down' | 'warning';
  readonly text: string;
}

export interface Subflow {
  readonly flowRunId: string;
  readonly flowName: string;
  readonly parentFlowRunId: string;
  readonly start: number;
  readonly end?: number;
  readonly state: string;
}

export interface LogLine {
  /** ms from the run's start. */
  readonly time: number;
  readonly level: string;
  readonly taskRunId: string;
  readonly workerId: string;
  readonly message: string;
}

/**
 * Everything of a report but its attempts, gathered a chunk at a time as a log's chunks arrive:
 * the root flow run, subflows, worker and scale events, each worker's time in the pool, and the
 * capped error and log lines. Times are kept absolute and made relative to the run's start at the
 * end ({@link RunFacts.relative}), when the start is surely known. `strings` is the log's
 * dictionary, read as it grows.
 */
export class RunFacts {
  readonly #strings: readonly string[];
  #root: Root | undefined;
  readonly #subflows = new Map<number, Subflow & { end?: number; state: string }>();
  readonly #workerEvents: Array<{ time: number; kind: WorkerEvent['kind']; text: string }> = [];
  /** Each worker's [joined, left) interval; `left` is NaN while it is in the pool. */
  readonly #joined = new Map<number, number>();
  readonly workerIntervals: Array<[number, number]> = [];
  readonly #errors: Array<{ time: number } & Omit<LogLine, 'time'>> = [];
  readonly #logs: Array<{ time: number } & Omit<LogLine, 'time'>> = [];
  #droppedErrors = 0;
  #droppedLogs = 0;
  #firstTime = NaN;

  constructor(strings: readonly string[]) {
    this.#strings = strings;
  }

  #str(code: number): string | undefined {
    return strOf(this.#strings, code);
  }

  /** Reads the rows of one chunk, after every chunk before it. */
  add(c: Chunk): void {
    if (c.length > 0 && this.#firstTime !== this.#firstTime) this.#firstTime = c.time[0]!;
    // Read once, not per row: under tsx's require hook (weft's sources) an imported binding is a getter.
    const SUBMITTED = K['task-run:submitted'];
    const STARTED = K['task-run:started'];
    const FINISHED = K['task-run:finished'];
    const RETRIED = K['task-run:retried'];
    for (let i = 0; i < c.length; i++) {
      const k = c.kind[i]!;
      // Submits and starts, nearly every row of a big run, are the pairing's alone.
      if (k === SUBMITTED || k === STARTED) continue;
      if (k === FINISHED || k === RETRIED) {
        if (c.m[i]! >= 0 && (k === RETRIED || c.state[i]! > 0)) this.#error(c, i, k === RETRIED ? `retried (attempt ${c.x[i]})` : STATES[c.state[i]!]!);
      } else if (k === K['task-run:log']) this.#log(c, i);
      else if (k === K['flow-run:started'] || k === K['flow-run:finished']) this.#flow(c, i, k);
      else this.#worker(c, i, k);
    }
  }

  #line(c: Chunk, i: number, level: string) {
    return { time: c.time[i]!, level, taskRunId: taskIdOf(this.#strings, c.task[i]!, c.name[i]!) ?? '', workerId: this.#str(c.worker[i]!) ?? '', message: this.#str(c.m[i]!) ?? '' };
  }

  #error(c: Chunk, i: number, level: string): void {
    if (this.#errors.length < ERROR_CAP) this.#errors.push(this.#line(c, i, level));
    else this.#droppedErrors++;
  }

  #log(c: Chunk, i: number): void {
    const level = LEVELS[c.x[i]!] ?? 'info';
    if (level === 'error') this.#error(c, i, 'error');
    else if (this.#logs.length < LOG_LINES_CAP) this.#logs.push(this.#line(c, i, level));
    else this.#droppedLogs++;
  }

  #flow(c: Chunk, i: number, k: number): void {
    const f = c.flow[i]!;
    if (k === K['flow-run:started']) {
      if (!this.#root && c.worker[i]! < 0) {
        this.#root = { flow: f, id: this.#str(f)!, name: this.#str(c.name[i]!) ?? '', runner: this.#str(c.m[i]!) ?? '', start: c.time[i]!, state: 'Running' };
      } else if (c.worker[i]! >= 0 && f !== this.#root?.flow) {
        this.#subflows.set(f, { flowRunId: this.#str(f)!, flowName: this.#str(c.name[i]!) ?? '', parentFlowRunId: this.#str(c.worker[i]!)!, start: c.time[i]!, state: 'Running' });
      }
      return;
    }
    const root = this.#root;
    if (root && f === root.flow) {
      root.end = c.time[i]!;
      root.state = STATES[c.state[i]!] ?? 'Running';
      const error = this.#str(c.m[i]!);
      if (error !== undefined) root.error = error;
    }
    const sub = this.#subflows.get(f);
    if (sub) {
      sub.end = c.time[i]!;
      sub.state = STATES[c.state[i]!] ?? 'Running';
    }
  }

  #worker(c: Chunk, i: number, k: number): void {
    const time = c.time[i]!;
    const w = c.worker[i]!;
    if (k === K['worker:joined']) {
      this.#workerEvents.push({ time, kind: 'joined', text: `${this.#str(w)} ${resourcesText(this.#str(c.m[i]!))}`.trim() });
      this.#joined.set(w, time);
    } else if (k === K['worker:left']) {
      this.#workerEvents.push({ time, kind: 'left', text: `${this.#str(w)}: ${this.#str(c.m[i]!) ?? ''}` });
      const since = this.#joined.get(w);
      if (since !== undefined) this.workerIntervals.push([since, time]);
      this.#joined.delete(w);
    } else if (k === K['scale:up'] || k === K['scale:down']) {
      this.#workerEvents.push({ time, kind: k === K['scale:up'] ? 'scale up' : 'scale down', text: `${c.x[i]} → ${c.d[i]} workers${c.m[i]! >= 0 ? `: ${this.#str(c.m[i]!)}` : ''}` });
    } else if (k === K['runner:warning']) this.#workerEvents.push({ time, kind: 'warning', text: this.#str(c.m[i]!) ?? '' });
  }

  /** The root flow run's start, once its `flow-run:started` was read. */
  rootStart(): number | undefined {
    return this.#root?.start;
  }

  /** The root flow run (a placeholder starting at the log's first time when there is none). */
  root(): Root {
    return this.#root ?? { flow: -1, id: '', name: '', runner: '', start: this.#firstTime === this.#firstTime ? this.#firstTime : 0, state: 'Running' };
  }

  /** Workers still in the pool when the log ended: since when. */
  stillJoined(): Iterable<number> {
    return this.#joined.values();
  }

  /**
   * Subflows, worker events and lines, times of the last two made relative to `t0` (in place: called
   * once, at the model's end); `droppedLogs` is what the log itself left out past its caps.
   */
  relative(t0: number, droppedLogs: number): { subflows: Subflow[]; workerEvents: WorkerEvent[]; errors: { lines: LogLine[]; dropped: number }; logs: { lines: LogLine[]; dropped: number } } {
    // In place, not `{ ...l, time }` per line: a spread with a property after it is V8's slow path.
    const shift = <T extends { time: number }>(lines: T[]): T[] => {
      for (const l of lines) l.time -= t0;
      return lines;
    };
    return {
      subflows: [...this.#subflows.values()],
      workerEvents: shift(this.#workerEvents),
      errors: { lines: shift(this.#errors), dropped: this.#droppedErrors },
      logs: { lines: shift(this.#logs), dropped: droppedLogs + this.#droppedLogs },
    };
  }
}

function resourcesText(json: string | undefined): string {
  if (!json || json === '{}') return '';
  const r = JSON.parse(json) as Record<string, number>;
  return `(${Object.entries(r).map(([k, v]) => `${k}=${v}`).join(', ')})`;
}
