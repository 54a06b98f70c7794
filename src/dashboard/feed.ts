/**
 * What a cluster publishes for its dashboards: one capped Redis stream (`keys.dashboard`, `XADD
 * MAXLEN ~`), shared by every worker and client. Cheap by construction: a worker adds one entry
 * per outbox flush (the same pipeline, so no extra round trip), a client one per submit flush, and
 * each entry is one JSON array of short rows. Whoever reads it (a `weft dashboard`) turns rows
 * back into calls on a {@link DashboardModel}.
 *
 * Rows (times on the cluster's clock, epoch ms):
 * - `['s', taskRunId, taskName, flowRunId, queue, time]`: an attempt started on the entry's worker;
 * - `['r', taskRunId, time]`: that attempt failed and will be retried;
 * - `['d', taskRunId, stateIndex, startTime | null, endTime]`: the run ended (STATES);
 * - `['t', queue, runs]`: the worker took a job of `runs` task runs from `queue`;
 * - `['q', flowRunId, queue, runs, time]`: a client queued task runs of a flow run;
 * - `['f', flowRunId, flowName, time]` / `['x', flowRunId, state, time]`: a flow run began / ended.
 *
 * @module
 */
import type { FlowRunState } from '../core/states.ts';
import type { ChainableCommander } from 'ioredis';
import type { Redis } from '../cluster/libs.ts';
import type { AttemptEvent } from '../protocol/attempt-events.ts';
import { STATES, type DashboardModel, type DashTaskState } from './model.ts';

/** Entries kept in the stream (each a batch of rows): about the last minutes of a busy cluster. */
export const STREAM_MAXLEN = 5000;

export type FeedRow =
  | readonly ['s', string, string, string, string, number]
  | readonly ['r', string, number]
  | readonly ['d', string, number, number | null, number]
  | readonly ['t', string, number]
  | readonly ['q', string, string, number, number]
  | readonly ['f', string, string, number]
  | readonly ['x', string, string, number];

/** Adds one stream entry with these rows to a pipeline (nothing when there are none). */
export function addEntry(pipeline: ChainableCommander, key: string, source: string, rows: readonly FeedRow[]): void {
  if (rows.length > 0) pipeline.xadd(key, 'MAXLEN', '~', STREAM_MAXLEN, '*', 'w', source, 'e', JSON.stringify(rows));
}

interface Tracked {
  readonly name: string;
  readonly flowRunId: string;
  readonly queue: string;
  start: number | undefined;
}

/**
 * A worker's side: it tells the feed which runs it took (`track`, `taken`), and the outbox hands
 * each flush's events to `rows`, which names them (task, flow run, queue) from what was tracked.
 */
export class WorkerFeed {
  readonly #runs = new Map<string, Tracked>();
  #rows: FeedRow[] = [];

  /** `now` gives the cluster's time (the worker's clock plus its measured offset). */
  constructor(readonly now: () => number) {}

  /** A task run taken in, before it starts. */
  track(taskRunId: string, name: string, flowRunId: string, queue: string): void {
    this.#runs.set(taskRunId, { name, flowRunId, queue, start: undefined });
  }

  /** A job of `runs` task runs was taken from `queue`. */
  taken(queue: string, runs: number): void {
    this.#rows.push(['t', queue, runs]);
  }

  /**
   * A run that ends with nothing sent for it: cancelled by its client (`cancelled`: its attempt, if
   * it started, ends Cancelled on the dashboard), or handed back to the cluster (another worker
   * starts it again).
   */
  forget(taskRunId: string, cancelled: boolean): void {
    const run = this.#runs.get(taskRunId);
    this.#runs.delete(taskRunId);
    if (cancelled && run?.start !== undefined) this.#rows.push(['d', taskRunId, STATES.indexOf('Cancelled'), run.start, this.now()]);
  }

  /** The rows for one flush's events, per channel (and what was taken since the last flush). */
  rows(batches: Iterable<readonly AttemptEvent<string>[]>): FeedRow[] {
    const rows = this.#rows;
    this.#rows = [];
    for (const events of batches) for (const e of events) {
      if (e.type === 'started') {
        const run = this.#runs.get(e.id);
        if (run) run.start = e.time;
        rows.push(['s', e.id, run?.name ?? 'task', run?.flowRunId ?? '', run?.queue ?? '', e.time]);
      } else if (e.type === 'retried') {
        rows.push(['r', e.id, e.time]);
      } else if (e.type === 'done') {
        const run = this.#runs.get(e.id);
        this.#runs.delete(e.id);
        let start = e.startTime ?? run?.start;
        if (e.startTime !== undefined) rows.push(['s', e.id, run?.name ?? 'task', run?.flowRunId ?? '', run?.queue ?? '', e.startTime]);
        const end = start !== undefined && e.serviceMs > 0 ? start + e.serviceMs : this.now();
        start ??= end;
        rows.push(['d', e.id, STATES.indexOf(e.state), start, Math.max(start, end)]);
      } else if (e.type === 'crashed') {
        this.#runs.delete(e.id);
        rows.push(['d', e.id, STATES.indexOf('Crashed'), null, this.now()]);
      }
    }
    return rows;
  }
}

/** A stream entry's fields as XREAD gives them: ['w', source, 'e', json]. */
export function applyEntry(model: DashboardModel, fields: readonly string[]): void {
  let source = '';
  let json = '[]';
  for (let i = 0; i + 1 < fields.length; i += 2) {
    if (fields[i] === 'w') source = fields[i + 1] as string;
    else if (fields[i] === 'e') json = fields[i + 1] as string;
  }
  let rows: FeedRow[];
  try {
    rows = JSON.parse(json) as FeedRow[];
  } catch {
    return; // a foreign entry
  }
  if (!Array.isArray(rows)) return;
  for (const row of rows) applyRow(model, source, row);
}

function applyRow(model: DashboardModel, workerId: string, row: FeedRow): void {
  switch (row[0]) {
    case 's':
      model.started({ taskRunId: row[1], taskName: row[2], flowRunId: row[3], queue: row[4], workerId, time: row[5] });
      return;
    case 'r':
      model.retried(row[1], row[2]);
      return;
    case 'd':
      model.finished({ taskRunId: row[1], state: finalState(STATES[row[2]]), startTime: row[3] ?? undefined, time: row[4] });
      return;
    case 't':
      model.taken(row[1], row[2]);
      return;
    case 'q':
      model.submitted(row[1], row[2], row[3], row[4]);
      return;
    case 'f':
      model.flowStarted(row[1], row[2], row[3]);
      return;
    case 'x':
      model.flowFinished(row[1], row[2], row[3]);
  }
}

function finalState(state: (typeof STATES)[number] | undefined): DashTaskState {
  return state === undefined || state === 'Retried' ? 'Failed' : state;
}

/**
 * A client's side (a flow run's session): how many task runs it queued where, and when its flow
 * runs began and ended. Rows gather for one turn of the event loop and go as one entry.
 */
export class ClientFeed {
  #rows: FeedRow[] = [];
  #queued = new Map<string, Map<string, number>>();
  #scheduled = false;

  constructor(
    readonly redis: Redis,
    readonly key: string,
    /** Names the entries' source: the session's channel. */
    readonly source: string,
    /** The cluster's time. */
    readonly now: () => number,
  ) {}

  flowStarted(flowRunId: string, flowName: string): void {
    this.#push(['f', flowRunId, flowName, this.now()]);
  }

  /** `state`: the flow run's final state (`Ended` when the runner was stopped without being told it). */
  flowFinished(flowRunId: string, state: FlowRunState | 'Ended'): void {
    this.#push(['x', flowRunId, state, this.now()]);
  }

  /** A task run of `flowRunId` went into the queue of `queue`. */
  submitted(flowRunId: string, queue: string): void {
    let byQueue = this.#queued.get(flowRunId);
    if (!byQueue) this.#queued.set(flowRunId, (byQueue = new Map()));
    byQueue.set(queue, (byQueue.get(queue) ?? 0) + 1);
    this.#schedule();
  }

  /** Sends what gathered now (a session closing). */
  async flush(): Promise<void> {
    const time = this.now();
    const rows = this.#rows;
    this.#rows = [];
    for (const [flowRunId, byQueue] of this.#queued) for (const [queue, runs] of byQueue) rows.push(['q', flowRunId, queue, runs, time]);
    this.#queued.clear();
    // Flow-run ends go last: they follow their runs.
    rows.sort((a, b) => Number(a[0] === 'x') - Number(b[0] === 'x'));
    const pipeline = this.redis.pipeline();
    addEntry(pipeline, this.key, this.source, rows);
    if (rows.length > 0) await pipeline.exec().catch(() => undefined);
  }

  #push(row: FeedRow): void {
    this.#rows.push(row);
    this.#schedule();
  }

  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.flush();
    });
  }
}
