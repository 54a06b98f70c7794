import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildModel } from '../report/model.ts';
import { renderHtml } from '../report/html.ts';
import { findRunLog, readRunLog, RUNS_DIR } from '../report/run-log.ts';
import { toTrace } from '../report/trace.ts';
import { parseCommand, type CommandSpec } from './args.ts';

const SPEC: CommandSpec = {
  command: 'weft report',
  args: '<run id | run directory | events file>',
  summary: 'Renders a kept run\'s performance report (the same HTML performanceReport writes), or exports its Chrome / Perfetto trace.',
  positionals: { min: 1, max: 1 },
  options: [
    { name: 'output', value: 'report.html', help: 'where to write the HTML report', default: 'weft-report-<run>.html, unless --trace is given' },
    { name: 'trace', value: 'trace.json[.gz]', help: 'write Chrome / Perfetto trace events there (gzipped when it ends in .gz)' },
  ],
};

/**
 * `weft report <run>`: renders a kept run's performance report after the fact (the same HTML a
 * `performanceReport` option writes during the run), and with `--trace` exports its Chrome /
 * Perfetto trace events (gzipped when the name ends in `.gz`).
 */
export async function reportCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, SPEC);
  if (typeof parsed === 'number') return parsed;
  const target = parsed.positionals[0] as string;
  const found = findRunLog(target, resolve(RUNS_DIR));
  if ('error' in found) return fail(`weft report: ${found.error}`);
  let model;
  try {
    model = buildModel(readRunLog(found.file));
  } catch (error) {
    return fail(`weft report: ${found.file} is not a weft run log: ${(error as Error).message}`);
  }
  const trace = parsed.options.get('trace')?.[0];
  const output = parsed.options.get('output')?.[0] ?? (trace ? undefined : `weft-report-${model.summary.flowRunId.slice(0, 8) || 'run'}.html`);
  try {
    if (output) {
      writeFileSync(output, renderHtml(model));
      console.log(`report: ${resolve(output)}`);
    }
    if (trace) {
      const json = Buffer.from(JSON.stringify(toTrace(model)));
      writeFileSync(trace, trace.endsWith('.gz') ? gzipSync(json) : json);
      console.log(`trace: ${resolve(trace)} (open it in https://ui.perfetto.dev or chrome://tracing)`);
    }
  } catch (error) {
    return fail(`weft report: could not write: ${(error as Error).message}`);
  }
  return 0;
}

function fail(message: string): number {
  console.error(message);
  return 2;
}
