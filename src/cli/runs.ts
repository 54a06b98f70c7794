import { resolve } from 'node:path';
import { listRuns, RUNS_DIR } from '../report/run-log.ts';
import { parseCommand, type CommandSpec } from './args.ts';

const SPEC: CommandSpec = {
  command: 'weft runs',
  summary: 'Lists the runs kept under .weft/runs/, newest first, with state, duration and task-run counts.',
  options: [{ name: 'limit', value: 'N', help: 'how many runs to list', default: '20' }],
};

/** `weft runs`: the kept runs, newest first, with state, duration and task-run counts. */
export async function runsCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, SPEC);
  if (typeof parsed === 'number') return parsed;
  const limitText = parsed.options.get('limit')?.[0] ?? '20';
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1) return fail(`weft runs: --limit takes a whole number ≥ 1, got '${limitText}'`);
  const dir = resolve(RUNS_DIR);
  const runs = listRuns(dir).slice(0, limit);
  if (runs.length === 0) {
    console.log(`No runs kept under ${dir} yet: \`weft run\` keeps each run's event log there.`);
    return 0;
  }
  const rows = runs.map((r) => {
    const failed = (r.counts.Failed ?? 0) + (r.counts.Crashed ?? 0);
    return [r.id, r.flowName, r.state, new Date(r.startedAt).toISOString().replace('T', ' ').slice(0, 19), duration(r.durationMs), `${r.taskRuns}${failed ? ` (${failed} failed)` : ''}`];
  });
  const head = ['run id', 'flow', 'state', 'started (UTC)', 'duration', 'task runs'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  for (const row of [head, ...rows]) console.log(row.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd());
  console.log(`\n\`weft report <run id>\` renders a run's performance report.`);
  return 0;
}

function duration(ms: number | undefined): string {
  if (ms === undefined) return '–';
  return ms < 1000 ? `${Math.round(ms)} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${(ms / 60_000).toFixed(1)} min`;
}

function fail(message: string): number {
  console.error(message);
  return 2;
}
