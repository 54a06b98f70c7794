import type { Redis } from './libs.ts';
import { now, type EventSink } from '../events/events.ts';
import { shortfall } from '../schedule/resources.ts';
import { HEARTBEAT_STALE_MS, parseSignature, type WorkerInfo } from './protocol.ts';
import { keys } from './queues.ts';
import { clusterTime } from './clock.ts';

/**
 * The workers registered on a cluster that live: a fresh heartbeat, or a live pulse. Heartbeats are stamped on the
 * cluster's clock (each worker adds its measured offset, see clock.ts), so freshness is judged
 * against the cluster's clock too, read with Redis `TIME` beside the registry: never against this
 * host's own clock, which may be off by any amount on another host.
 */
export async function liveWorkers(redis: Redis, prefix: string): Promise<WorkerInfo[]> {
  const [all, clusterNow] = await Promise.all([redis.hgetall(keys.workers(prefix)), clusterTime(redis)]);
  const live = freshWorkers(all, clusterNow);
  const fresh = new Set(live.map((w) => w.id));
  const stale = Object.keys(all).filter((id) => !fresh.has(id));
  if (stale.length === 0) return live;
  // A stale heartbeat beside a live pulse is a task holding the worker's event loop (pulse.ts): it
  // lives, as the reaper judges (reaper.ts). Dead means both stopped.
  const pulses = await redis.mget(stale.map((id) => keys.pulse(prefix, id)));
  return live.concat(freshWorkers(Object.fromEntries(stale.filter((_, i) => pulses[i] !== null).map((id) => [id, all[id] as string])), clusterNow, Infinity));
}

/** The registry entries (JSON `WorkerInfo` by worker id) whose beat is at most `staleMs` before `clusterNow` (the cluster's clock). */
export function freshWorkers(entries: Record<string, string>, clusterNow: number, staleMs = HEARTBEAT_STALE_MS): WorkerInfo[] {
  const fresh = clusterNow - staleMs;
  const out: WorkerInfo[] = [];
  for (const text of Object.values(entries)) {
    try {
      const info = JSON.parse(text) as WorkerInfo;
      if (info.beat >= fresh) out.push(info);
    } catch {
      // a foreign or corrupt entry: not a worker we can use
    }
  }
  return out;
}

/**
 * Watches a cluster's worker registry for a runner: emits `worker:joined` / `worker:left`, and
 * warns (a `runner:warning` event and the console) when task runs wait for a resource that no
 * live worker declares, naming the task and the resource, since such runs stay queued.
 */
export class RegistryWatch {
  readonly #known = new Map<string, WorkerInfo>();
  readonly #warned = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #busy = false;

  constructor(
    readonly redis: Redis,
    readonly prefix: string,
    readonly events: EventSink,
    /** Resource requirements of runs waiting now, with a task name needing each. */
    readonly waiting: () => Map<string, string>,
    /** Task runs submitted and not finished. */
    readonly pending: () => number = () => 0,
  ) {}

  #warnedEmpty = false;

  async start(intervalMs = 1000): Promise<void> {
    await this.check();
    this.#timer = setInterval(() => void this.check(), intervalMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** Every known worker leaves (a temporary cluster closed): `worker:left` for each. */
  leaveAll(reason: string): void {
    for (const id of [...this.#known.keys()]) {
      this.#known.delete(id);
      this.events.emit('worker:left', { workerId: id, reason, time: now() });
    }
  }

  #warn(message: string): void {
    this.events.emit('runner:warning', { message, time: now() });
    console.warn(`weft: ${message}`);
  }

  async check(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const workers = await liveWorkers(this.redis, this.prefix);
      const ids = new Set(workers.map((w) => w.id));
      for (const w of workers) {
        if (this.#known.has(w.id)) continue;
        this.#known.set(w.id, w);
        this.events.emit('worker:joined', { workerId: w.id, resources: w.resources, time: now() });
      }
      for (const id of [...this.#known.keys()]) {
        if (ids.has(id)) continue;
        this.#known.delete(id);
        this.events.emit('worker:left', { workerId: id, reason: 'it stopped, or its heartbeat stopped', time: now() });
      }
      // No worker at all (the last one died or left): runs wait until one joins; say so once per outage.
      if (workers.length === 0 && this.pending() > 0 && !this.#warnedEmpty) {
        this.#warnedEmpty = true;
        this.#warn(`No live worker on the cluster: ${this.pending()} task run(s) wait until one joins (weft worker --address ...).`);
      }
      if (workers.length > 0) this.#warnedEmpty = false;
      for (const [signature, taskName] of this.waiting()) {
        if (this.#warned.has(signature)) continue;
        const need = parseSignature(signature);
        if (workers.some((w) => !shortfall(need, w.resources))) continue;
        this.#warned.add(signature);
        const missing = Object.keys(need).filter((name) => !workers.some((w) => (w.resources[name] ?? 0) >= (need[name] ?? 0)));
        const message =
          `Task '${taskName}' needs resources { ${signature.replace(/=/g, ': ')} } but no worker on the cluster declares ${missing.map((m) => `'${m}'`).join(', ') || 'that much'} ` +
          `(${workers.length} live worker${workers.length === 1 ? '' : 's'}); it stays queued until one joins, e.g. weft worker --resources ${signature}.`;
        this.#warn(message);
      }
    } catch {
      // Redis unreachable: the client's lost-connection handling reports it.
    } finally {
      this.#busy = false;
    }
  }
}
