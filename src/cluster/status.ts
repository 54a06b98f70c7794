import type { Redis } from './libs.ts';
import { HEARTBEAT_STALE_MS, type WorkerInfo } from './protocol.ts';
import { ClusterQueues, keys, queueName, type QueueDepth } from './queues.ts';
import { storedRing } from './ring.ts';

/** What an open session (a flow run's runner, a task's `getClient()`) says of itself in its channel's open key. */
export interface SessionInfo {
  readonly flowName?: string;
  readonly flowRunId?: string;
  readonly host: string;
  readonly pid: number;
  /** Epoch ms on the session's clock. */
  readonly openedAt: number;
}

/** A cluster's state, as `weft cluster status` prints it. */
export interface ClusterStatus {
  /** Redis's own time (epoch ms): heartbeat ages are measured against it. */
  readonly now: number;
  /** `stale`: its heartbeat stopped; `pulse`: its pulse thread still reaches Redis (a task holds its event loop: it lives). */
  readonly workers: readonly (WorkerInfo & { readonly stale: boolean; readonly pulse: boolean })[];
  /** Task runs waiting and running by queue, over every shard (and the jobs, batches of task runs, that hold them). */
  readonly queues: readonly ({ readonly queue: string } & QueueDepth)[];
  readonly sessions: readonly (Partial<SessionInfo> & { readonly channel: string })[];
}

function parse<T>(text: string | null | undefined): T | undefined {
  try {
    return text ? (JSON.parse(text) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the registry, every queue's depth, and the open sessions (SCAN: no blocking of Redis). */
export async function clusterStatus(redis: Redis, prefix: string): Promise<ClusterStatus> {
  const [seconds, micros] = await redis.time();
  const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  const entries = await redis.hgetall(keys.workers(prefix));
  const infos = Object.values(entries).flatMap((text) => parse<WorkerInfo>(text) ?? []).sort((a, b) => a.id.localeCompare(b.id));
  const pulses = infos.length === 0 ? [] : await redis.mget(infos.map((w) => keys.pulse(prefix, w.id)));
  const workers = infos.map((info, i) => ({ ...info, stale: info.beat < now - HEARTBEAT_STALE_MS, pulse: pulses[i] !== null }));
  const queues = new ClusterQueues(redis, prefix, await storedRing(redis, prefix));
  const counted = [];
  try {
    for (const signature of ['', ...(await redis.smembers(keys.requirements(prefix))).sort()]) {
      counted.push({ queue: queueName(signature), ...(await queues.depth(signature)) });
    }
  } finally {
    await queues.close();
  }
  const openPrefix = keys.open(prefix, '');
  const channels: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${openPrefix}*`, 'COUNT', 500);
    cursor = next;
    channels.push(...found);
  } while (cursor !== '0');
  const values = channels.length === 0 ? [] : await redis.mget(channels);
  const sessions = channels.map((key, i) => ({ channel: key.slice(openPrefix.length), ...parse<SessionInfo>(values[i]) }));
  return { now, workers, queues: counted, sessions };
}

function table(rows: readonly string[][]): string[] {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? [];
  return rows.map((r) => `  ${r.map((cell, c) => cell.padEnd(widths[c] ?? 0)).join('  ')}`.trimEnd());
}

/** The status as text: workers, queue depths, flow runs in progress. */
export function formatStatus(status: ClusterStatus, display: string): string {
  const ago = (ms: number) => `${(Math.max(0, ms) / 1000).toFixed(1)} s ago`;
  const gone = status.workers.filter((w) => w.stale && !w.pulse).length;
  const out = [`cluster ${display}`, `workers (${status.workers.length - gone} live${gone > 0 ? `, ${gone} stale` : ''}):`];
  if (status.workers.length === 0) out.push('  none (start one: weft worker --address ...)');
  else {
    out.push(...table([['ID', 'HOST', 'RESOURCES', 'RUNNING', 'HELD', 'LAST HEARTBEAT'], ...status.workers.map((w) => [
      w.id, `${w.host} (pid ${w.pid})`, Object.keys(w.resources).length === 0 ? '-' : Object.entries(w.resources).map(([k, v]) => `${k}=${v}`).join(','),
      `${w.running ?? '?'}/${w.concurrency}`, String(w.held ?? '?'), `${ago(status.now - w.beat)}${!w.stale ? '' : w.pulse ? ' (busy: a task holds its event loop)' : ' (stale: gone?)'}`,
    ])]));
  }
  out.push('queues (task runs; in jobs, the batches that hold them):', ...table([['QUEUE', 'WAITING', 'RUNNING', 'JOBS WAITING', 'JOBS RUNNING'], ...status.queues.map((q) => [
    q.queue, String(q.waiting), String(q.running), String(q.waitingJobs), String(q.runningJobs),
  ])]));
  out.push(`flow runs in progress (${status.sessions.length}):`);
  if (status.sessions.length === 0) out.push('  none');
  else {
    out.push(...table([['FLOW', 'FLOW RUN', 'FROM', 'SINCE'], ...status.sessions.map((s) => [
      s.flowName ?? (s.channel.startsWith('nested-') ? '(getClient in a task)' : '?'), s.flowRunId ?? '-', s.host === undefined ? '?' : `${s.host} (pid ${s.pid})`,
      s.openedAt === undefined ? '?' : ago(status.now - s.openedAt),
    ])]));
  }
  return out.join('\n');
}
