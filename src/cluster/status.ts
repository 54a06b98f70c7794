import type { Redis } from './libs.ts';
import { HEARTBEAT_STALE_MS, type WorkerInfo } from './protocol.ts';
import { ClusterQueues, keys, queueName } from './queues.ts';

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
  readonly workers: readonly (WorkerInfo & { readonly stale: boolean })[];
  /** Jobs (batches of task runs) by queue. */
  readonly queues: readonly { readonly queue: string; readonly waiting: number; readonly running: number }[];
  readonly sessions: readonly (Partial<SessionInfo> & { readonly channel: string })[];
}

function parse<T>(text: string | null | undefined): T | undefined {
  try {
    return text ? (JSON.parse(text) as T) : undefined;
  } catch {
    return undefined;
  }
}

/** Reads the registry, every queue's job counts, and the open sessions (SCAN: no blocking of Redis). */
export async function clusterStatus(redis: Redis, prefix: string): Promise<ClusterStatus> {
  const [seconds, micros] = await redis.time();
  const now = Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  const entries = await redis.hgetall(keys.workers(prefix));
  const workers = Object.values(entries).flatMap((text) => {
    const info = parse<WorkerInfo>(text);
    return info ? [{ ...info, stale: info.beat < now - HEARTBEAT_STALE_MS }] : [];
  }).sort((a, b) => a.id.localeCompare(b.id));
  const queues = new ClusterQueues(redis, prefix);
  const counted = [];
  try {
    for (const signature of ['', ...(await redis.smembers(keys.requirements(prefix))).sort()]) {
      const c = await queues.queue(signature).getJobCounts('wait', 'prioritized', 'active');
      counted.push({ queue: queueName(signature), waiting: (c.wait ?? 0) + (c.prioritized ?? 0), running: c.active ?? 0 });
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
  const out = [`cluster ${display}`, `workers (${status.workers.filter((w) => !w.stale).length} live${status.workers.some((w) => w.stale) ? `, ${status.workers.filter((w) => w.stale).length} stale` : ''}):`];
  if (status.workers.length === 0) out.push('  none (start one: weft worker --address ...)');
  else {
    out.push(...table([['ID', 'HOST', 'RESOURCES', 'RUNNING', 'LAST HEARTBEAT'], ...status.workers.map((w) => [
      w.id, `${w.host} (pid ${w.pid})`, Object.keys(w.resources).length === 0 ? '-' : Object.entries(w.resources).map(([k, v]) => `${k}=${v}`).join(','),
      `${w.running ?? '?'}/${w.concurrency}`, `${ago(status.now - w.beat)}${w.stale ? ' (stale: gone?)' : ''}`,
    ])]));
  }
  out.push('queues (jobs; a job is a batch of task runs):', ...table([['QUEUE', 'WAITING', 'RUNNING'], ...status.queues.map((q) => [q.queue, String(q.waiting), String(q.running)])]));
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
