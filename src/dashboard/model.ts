/**
 * The live dashboard's state, pure (no I/O, no clock: every time comes in as an argument): what
 * the sources (a cluster's Redis stream and registry, or one flow run's event bus) report goes in
 * as calls, and `tick(now)` gives the one update all viewers get, `snapshot(now)` what a viewer
 * that just connected needs. Counts are exact; only the task stream is bounded (the last
 * `windowMs`, at most `maxBars` bars, at most `maxBarsPerTick` new bars per update: the rest are
 * counted in `dropped`).
 *
 * @module
 */
import type { Resources } from '../schedule/resources.ts';
import { endOf, RESTARTED, RETRIED } from '../events/attempt-rules.ts';

/**
 * How an attempt ended, as the dashboard colours it: a run's final states, and an attempt to be
 * retried. The codes are those of `attempt-rules.ts` (whose rules pair the bars here too).
 */
export const STATES = ['Completed', 'Failed', 'Crashed', 'Cancelled', 'Retried'] as const;
export type DashTaskState = Exclude<(typeof STATES)[number], 'Retried'>;

/** A worker as a source reports it. */
export interface WorkerSeen {
  readonly id: string;
  readonly host?: string | undefined;
  readonly resources: Resources;
  /** Tasks it runs at once, when known. */
  readonly slots?: number | undefined;
}

export interface TaskStarted {
  readonly taskRunId: string;
  readonly taskName: string;
  readonly flowRunId: string;
  readonly workerId: string;
  /** The queue it came from ('' for tasks needing no resources). */
  readonly queue: string;
  readonly time: number;
}

export interface TaskFinished {
  readonly taskRunId: string;
  readonly taskName?: string | undefined;
  readonly flowRunId?: string | undefined;
  readonly workerId?: string | undefined;
  readonly state: DashTaskState;
  /** When its last attempt started, if the source knows it (else the start heard, else the end). */
  readonly startTime?: number | undefined;
  readonly time: number;
}

/** One worker as the page shows it. */
export interface WorkerView {
  readonly id: string;
  readonly host: string;
  readonly resources: Resources;
  readonly slots: number | null;
  readonly state: 'live' | 'left';
  readonly running: number;
  readonly finished: number;
  /** Its running task runs (at most 8): name and start. */
  readonly current: readonly (readonly [string, number])[];
}

export interface QueueView {
  readonly queue: string;
  readonly queued: number;
  readonly running: number;
}

export interface FlowView {
  readonly flowRunId: string;
  readonly flowName: string;
  readonly state: string;
  readonly submitted: number;
  readonly finished: number;
  readonly failed: number;
  readonly running: number;
  readonly started: number;
  readonly ended: number | null;
}

/** A finished attempt on the task stream: start, end, worker index, name index, state index (STATES). */
export type Bar = readonly [number, number, number, number, number];

/** Bars a dashboard keeps by default (the page keeps as many). */
export const MAX_BARS = 20_000;

/** What the page gets: the whole small state, and task-stream bars (new ones, or all on connect). */
export interface DashUpdate {
  readonly kind: 'snapshot' | 'tick';
  readonly now: number;
  readonly windowMs: number;
  readonly workers: readonly WorkerView[];
  readonly queues: readonly QueueView[];
  readonly flows: readonly FlowView[];
  readonly totals: { readonly started: number; readonly finished: number; readonly failed: number; readonly running: number };
  /** Every worker id and task name a bar may refer to, by index. */
  readonly workerIds: readonly string[];
  readonly names: readonly string[];
  readonly bars: readonly Bar[];
  /** Running attempts: start, worker index, name index (at most `maxBarsPerTick`). */
  readonly open: readonly (readonly [number, number, number])[];
  /** Finished attempts not sent as bars (more than `maxBarsPerTick` in one tick), since the start. */
  readonly dropped: number;
}

export interface DashboardModelOptions {
  /** How much of the task stream is kept. @default 300000 (5 minutes) */
  readonly windowMs?: number;
  /** Bars kept in the window. @default 20000 */
  readonly maxBars?: number;
  /** New bars per update. @default 2000 */
  readonly maxBarsPerTick?: number;
  /** How long a finished flow run and a worker that left stay shown. @default 60000 */
  readonly keepMs?: number;
}

interface Running {
  readonly taskName: string;
  readonly flowRunId: string;
  readonly workerId: string;
  readonly queue: string;
  readonly time: number;
  /** Whether its attempt is still open (a retried one is closed until the run starts again). */
  open: boolean;
}

interface Worker {
  info: WorkerSeen;
  left: number | undefined;
  finished: number;
  readonly running: Set<string>;
}

interface Flow {
  flowName: string;
  state: string;
  submitted: number;
  finished: number;
  failed: number;
  running: number;
  readonly started: number;
  ended: number | undefined;
}

export class DashboardModel {
  readonly windowMs: number;
  readonly #maxBars: number;
  readonly #maxPerTick: number;
  readonly #keepMs: number;
  readonly #workers = new Map<string, Worker>();
  readonly #running = new Map<string, Running>();
  readonly #flows = new Map<string, Flow>();
  /** Per queue: runs queued (submitted, not yet taken by a worker). */
  readonly #queued = new Map<string, number>();
  readonly #workerIndex = new Map<string, number>();
  readonly #nameIndex = new Map<string, number>();
  #bars: Bar[] = [];
  /** Bars added since the last tick. */
  #fresh: Bar[] = [];
  #dropped = 0;
  #started = 0;
  #finished = 0;
  #failed = 0;

  constructor(options: DashboardModelOptions = {}) {
    this.windowMs = options.windowMs ?? 300_000;
    this.#maxBars = options.maxBars ?? MAX_BARS;
    this.#maxPerTick = options.maxBarsPerTick ?? 2_000;
    this.#keepMs = options.keepMs ?? 60_000;
  }

  workerSeen(info: WorkerSeen): void {
    this.#dirty = true;
    const known = this.#workers.get(info.id);
    if (known) {
      known.info = { ...info, slots: info.slots ?? known.info.slots };
      known.left = undefined;
    } else {
      this.#workers.set(info.id, { info, left: undefined, finished: 0, running: new Set() });
    }
  }

  workerLeft(id: string, time: number): void {
    const worker = this.#workers.get(id);
    if (worker && worker.left === undefined) {
      worker.left = time;
      this.#dirty = true;
    }
  }

  /** The live workers are exactly these (a registry read): the others left at `time`. */
  syncWorkers(live: readonly WorkerSeen[], time: number): void {
    const ids = new Set<string>();
    for (const info of live) {
      ids.add(info.id);
      this.workerSeen(info);
    }
    for (const id of this.#workers.keys()) if (!ids.has(id)) this.workerLeft(id, time);
  }

  flowStarted(flowRunId: string, flowName: string, time: number): void {
    const flow = this.#flow(flowRunId, time);
    flow.flowName = flowName;
  }

  flowFinished(flowRunId: string, state: string, time: number): void {
    const flow = this.#flow(flowRunId, time);
    flow.state = state;
    flow.ended = time;
  }

  /** `runs` task runs of a flow run went into `queue`. */
  submitted(flowRunId: string, queue: string, runs: number, time: number): void {
    this.#flow(flowRunId, time).submitted += runs;
    this.#queued.set(queue, (this.#queued.get(queue) ?? 0) + runs);
  }

  /** A worker took `runs` task runs from `queue`. */
  taken(queue: string, runs: number): void {
    this.#dirty = true;
    this.#queued.set(queue, Math.max(0, (this.#queued.get(queue) ?? 0) - runs));
  }

  /** The queue holds no waiting job (read from the queue itself): nothing is queued there, whatever was counted. */
  queueEmpty(queue: string): void {
    if ((this.#queued.get(queue) ?? 0) > 0) this.#dirty = true;
    this.#queued.set(queue, 0);
  }

  started(e: TaskStarted): void {
    const previous = this.#running.get(e.taskRunId);
    if (previous) {
      // Still open: its worker was lost and the run started again elsewhere (attempt-rules.ts).
      // The same start heard twice is one attempt.
      const again = previous.time === e.time && previous.workerId === e.workerId;
      if (previous.open && !again) this.#bar(previous, e.time, RESTARTED);
      this.#unrun(e.taskRunId, previous);
    } else this.#started++;
    this.#running.set(e.taskRunId, { taskName: e.taskName, flowRunId: e.flowRunId, workerId: e.workerId, queue: e.queue, time: e.time, open: true });
    this.#worker(e.workerId).running.add(e.taskRunId);
    this.#flow(e.flowRunId, e.time).running++;
  }

  /** The run's attempt failed and will be retried: its bar ends; the run stays running until its next start. */
  retried(taskRunId: string, time: number): void {
    const run = this.#running.get(taskRunId);
    if (!run?.open) return;
    run.open = false;
    this.#bar(run, time, RETRIED);
  }

  /** The bar of `run`'s attempt, ended at `time` in state `state` (a code of {@link STATES}). */
  #bar(run: Running, time: number, state: number): void {
    this.#fresh.push([run.time, endOf(run.time, time), this.#index(this.#workerIndex, run.workerId), this.#index(this.#nameIndex, run.taskName), state]);
  }

  finished(e: TaskFinished): void {
    const run = this.#running.get(e.taskRunId);
    if (run) this.#unrun(e.taskRunId, run);
    else this.#started++;
    const workerId = e.workerId ?? run?.workerId;
    const taskName = e.taskName ?? run?.taskName ?? 'task';
    const flowRunId = e.flowRunId ?? run?.flowRunId;
    this.#finished++;
    const failed = e.state !== 'Completed';
    if (failed) this.#failed++;
    if (flowRunId !== undefined) {
      const flow = this.#flow(flowRunId, e.time);
      flow.finished++;
      if (failed) flow.failed++;
    }
    if (workerId === undefined) return;
    this.#worker(workerId).finished++;
    const start = e.startTime ?? run?.time ?? e.time;
    const bar: Bar = [start, endOf(start, e.time), this.#index(this.#workerIndex, workerId), this.#index(this.#nameIndex, taskName), STATES.indexOf(e.state)];
    this.#fresh.push(bar);
  }

  /** The update for every viewer: the state now and the bars since the last tick. */
  tick(now: number): DashUpdate {
    this.#prune(now);
    let fresh = this.#fresh;
    this.#fresh = [];
    if (fresh.length > this.#maxPerTick) {
      this.#dropped += fresh.length - this.#maxPerTick;
      fresh = fresh.slice(fresh.length - this.#maxPerTick);
    }
    for (const bar of fresh) this.#bars.push(bar);
    if (this.#bars.length > this.#maxBars) this.#bars = this.#bars.slice(this.#bars.length - this.#maxBars);
    return this.#update('tick', now, fresh);
  }

  /** What a viewer that just connected needs: the state and every bar in the window (as of the last tick). */
  snapshot(now: number): DashUpdate {
    return this.#update('snapshot', now, this.#bars);
  }

  /** Whether anything happened since the last tick. */
  get changed(): boolean {
    return this.#fresh.length > 0 || this.#dirty;
  }

  #dirty = false;

  #update(kind: DashUpdate['kind'], now: number, bars: readonly Bar[]): DashUpdate {
    this.#dirty = false;
    const open: [number, number, number][] = [];
    const runningByQueue = new Map<string, number>();
    for (const run of this.#running.values()) {
      runningByQueue.set(run.queue, (runningByQueue.get(run.queue) ?? 0) + 1);
      if (open.length < this.#maxPerTick) open.push([run.time, this.#index(this.#workerIndex, run.workerId), this.#index(this.#nameIndex, run.taskName)]);
    }
    const queueNames = new Set([...this.#queued.keys(), ...runningByQueue.keys()]);
    const queues = [...queueNames].sort().map((queue) => ({ queue, queued: this.#queued.get(queue) ?? 0, running: runningByQueue.get(queue) ?? 0 }));
    const workers = [...this.#workers.values()].map((w): WorkerView => ({
      id: w.info.id, host: w.info.host ?? '', resources: w.info.resources, slots: w.info.slots ?? null,
      state: w.left === undefined ? 'live' : 'left', running: w.running.size, finished: w.finished,
      current: [...w.running].slice(0, 8).map((id) => {
        const run = this.#running.get(id) as Running;
        return [run.taskName, run.time] as const;
      }),
    }));
    const flows = [...this.#flows].map(([flowRunId, f]): FlowView => ({
      flowRunId, flowName: f.flowName, state: f.state, submitted: f.submitted, finished: f.finished, failed: f.failed,
      running: f.running, started: f.started, ended: f.ended ?? null,
    }));
    return {
      kind, now, windowMs: this.windowMs, workers, queues, flows,
      totals: { started: this.#started, finished: this.#finished, failed: this.#failed, running: this.#running.size },
      workerIds: [...this.#workerIndex.keys()], names: [...this.#nameIndex.keys()], bars, open, dropped: this.#dropped,
    };
  }

  #unrun(taskRunId: string, run: Running): void {
    this.#running.delete(taskRunId);
    this.#workers.get(run.workerId)?.running.delete(taskRunId);
    const flow = this.#flows.get(run.flowRunId);
    if (flow) flow.running = Math.max(0, flow.running - 1);
  }

  #worker(id: string): Worker {
    let worker = this.#workers.get(id);
    if (!worker) this.#workers.set(id, (worker = { info: { id, resources: {} }, left: undefined, finished: 0, running: new Set() }));
    return worker;
  }

  #flow(flowRunId: string, time: number): Flow {
    this.#dirty = true;
    let flow = this.#flows.get(flowRunId);
    if (!flow) this.#flows.set(flowRunId, (flow = { flowName: '', state: 'Running', submitted: 0, finished: 0, failed: 0, running: 0, started: time, ended: undefined }));
    return flow;
  }

  #index(index: Map<string, number>, key: string): number {
    let i = index.get(key);
    if (i === undefined) index.set(key, (i = index.size));
    return i;
  }

  /** Drops bars older than the window, flows ended and workers gone longer than `keepMs`. */
  #prune(now: number): void {
    const from = now - this.windowMs;
    let cut = 0;
    while (cut < this.#bars.length && (this.#bars[cut] as Bar)[1] < from) cut++;
    if (cut > 0) this.#bars = this.#bars.slice(cut);
    for (const [id, flow] of this.#flows) if (flow.ended !== undefined && flow.ended < now - this.#keepMs) this.#flows.delete(id);
    for (const [id, worker] of this.#workers) if (worker.left !== undefined && worker.left < now - this.#keepMs && worker.running.size === 0) this.#workers.delete(id);
  }
}
