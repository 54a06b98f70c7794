import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { buildModel } from '../report/model.ts';
import { renderHtml } from '../report/html.ts';
import { findRunLog, readRunLog, RUNS_DIR } from '../report/run-log.ts';
import { toTrace } from '../report/trace.ts';
import { parseArgs } from './args.ts';

const USAGE = 'Usage: weft report <run id | run directory | events file> [--output report.html] [--trace trace.json[.gz]]';

/**
 * `weft report <run>`: renders a kept run's performance report after the fact (the same HTML a
 * `performanceReport` option writes during the run), and with `--trace` exports its Chrome /
 * Perfetto trace events (gzipped when the name ends in `.gz`).
 */
export async function reportCommand(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv, { single: ['output', 'trace'], flags: [] });
  if ('error' in parsed) return fail(`${parsed.error}\n${USAGE}`);
  const [target, ...extra] = parsed.positionals;
  if (!target || extra.length > 0) return fail(USAGE);
  const found = findRunLog(target, resolve(RUNS_DIR));
  if ('error' in found) return fail(`weft report: ${found.error}`);
  let model;
  try {
    model = buildModel(readRunLog(found.file));
  } catch (error) {
    return fail(`weft report: ${found.file} is not a weft run log: ${(error as Error).message}`);
  }
  const trace = parsed.options.trace?.[0];
  const output = parsed.options.output?.[0] ?? (trace ? undefined : `weft-report-${model.summary.flowRunId.slice(0, 8) || 'run'}.html`);
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
