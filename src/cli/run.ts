import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { checkReportPath } from '../report/report-path.ts';
import { reportHtml } from '../report/report.ts';
import { eventsFile, keepRunLog, readRunLog } from '../report/run-log.ts';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import type { Flow, FlowRun } from '../core/flow.ts';
import { loaderFor } from '../loader/register.ts';
import { parseCommand, type CommandSpec } from './args.ts';
import { dashboardOptions, runDashboardSettings, serveRunDashboard } from './dashboard.ts';
import { showProgress } from './progress.ts';
import { FlowParametersError } from '../errors.ts';
import { formatError } from './format-error.ts';
import { bindParameters } from './parameters.ts';

const SPEC: CommandSpec = {
  command: 'weft run',
  args: '<file.ts>[:flowName]',
  summary: [
    'Imports the file (TypeScript runs directly, through tsx), runs its flow (the only one it exports,',
    'or the one named after the colon) with each --param bound to the parameter of that name, prints',
    'the result and exits 0. A failed flow prints its error and exits 1; bad usage exits 2. Ctrl-C',
    'cancels the flow run; a second Ctrl-C exits at once.',
  ].join('\n'),
  positionals: { min: 1, max: 1 },
  options: [
    { name: 'param', value: 'key=value', repeatable: true, help: 'a flow parameter; the value parses as JSON when it can (n=5 is a number), else it is a string' },
    { name: 'report', value: 'report.html', help: 'write the run\'s performance report there (its directory must exist)' },
    { name: 'no-history', help: 'keep no event log of this run under .weft/runs/' },
    { name: 'dashboard', help: 'serve a live dashboard of this run while it runs (any runner; prints its URL)' },
    ...dashboardOptions('dashboard-'),
  ],
};

type AnyFlow = Flow<unknown[], unknown>;

/**
 * `weft run file.ts[:flowName] [--param k=v ...]`: imports the file (TypeScript runs directly),
 * runs the flow with the parameters bound by name, prints its result, and exits non-zero with a
 * readable error if it fails. Ctrl-C cancels the run; a second Ctrl-C exits at once.
 */
export async function runCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand(argv, SPEC);
  if (typeof parsed === 'number') return parsed;
  const target = parsed.positionals[0] as string;

  const { file, flowName } = splitTarget(target);
  const path = resolve(file);
  if (!existsSync(path)) return fail(`weft run: no such file: ${file}`);
  // Checked before the run, so a bad path does not cost the run's work.
  let reportPath: string | undefined;
  let dashboardAsked;
  try {
    dashboardAsked = runDashboardSettings(parsed);
    const given = parsed.options.get('report')?.[0];
    reportPath = given === undefined ? undefined : checkReportPath('--report', given);
  } catch (error) {
    return fail(`weft run: ${(error as Error).message}`);
  }

  let module: Record<string, unknown>;
  try {
    await loaderFor(path);
  } catch (error) {
    return fail(`weft run: ${(error as Error).message}`);
  }
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    return fail(`weft run: ${file} failed to import:\n${formatError(error)}`);
  }
  const chosen = chooseFlow(module, file, flowName);
  if (typeof chosen === 'string') return fail(chosen);

  const bound = await bindParameters(chosen, [...(parsed.options.get('param') ?? [])]);
  if ('error' in bound) return fail(bound.error);

  const run: FlowRun<unknown> = bound.flow.run(...bound.args);
  const dashboard = serveRunDashboard(dashboardAsked, run, `flow run ${chosen.flowName} ${run.id.slice(0, 8)}`);
  // Every run's event log is kept (the last 50), so `weft report <id>` can render it later.
  const kept = parsed.flags.has('no-history') && !reportPath ? undefined : keepRunLog(run, parsed.flags.has('no-history') ? { dir: mkdtempSync(join(tmpdir(), 'weft-run-')), keep: 1 } : {});
  let interrupts = 0;
  const onSignal = () => {
    interrupts++;
    if (interrupts === 1) {
      console.error(`\nweft run: cancelling flow run ${run.id} (Ctrl-C again to exit at once)`);
      run.cancel('interrupted from the terminal (SIGINT)');
    } else {
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  const every = Number(process.env.WEFT_PROGRESS_EVERY_MS);
  const stopProgress = showProgress(run, process.stderr, Number.isFinite(every) && every > 0 ? every : undefined);
  try {
    const value = await run.result();
    stopProgress();
    if (value !== undefined) console.log(typeof value === 'string' ? value : inspect(value, { depth: 6, colors: process.stdout.isTTY }));
    return 0;
  } catch (error) {
    stopProgress();
    if (interrupts > 0) {
      // The user asked for it: say so, without a stack.
      console.error(`weft run: flow run ${run.id} was cancelled (interrupted from the terminal).`);
      return 130;
    }
    console.error(`weft run: ${formatError(error)}`);
    // Bad parameters are a usage error, like a bad option (the schema said why).
    return error instanceof Error && error.cause instanceof FlowParametersError ? 2 : 1;
  } finally {
    process.off('SIGINT', onSignal);
    await (await dashboard)?.close();
    await wroteReports(run, chosen, kept, reportPath, !parsed.flags.has('no-history'));
  }
}

/** Writes `--report` from the kept log, and says on stderr where the report and the run log are. */
async function wroteReports(run: FlowRun<unknown>, chosen: AnyFlow, kept: Promise<string> | undefined, reportPath: string | undefined, history: boolean): Promise<void> {
  const runnerReport = chosen.options.taskRunner?.performanceReport;
  if (runnerReport) console.error(`weft run: performance report: ${runnerReport}`);
  if (!kept) return;
  let dir: string;
  try {
    dir = await kept;
  } catch (error) {
    console.error(`weft run: the run log could not be kept: ${(error as Error).message}`);
    return;
  }
  if (reportPath) {
    try {
      writeFileSync(reportPath, await reportHtml(readRunLog(eventsFile(dir))));
      console.error(`weft run: performance report: ${reportPath}`);
    } catch (error) {
      console.error(`weft run: the report could not be written to ${reportPath}: ${(error as Error).message}`);
    }
  }
  if (history) console.error(`weft run: run log: ${relative(process.cwd(), dir) || dir} (weft report ${run.id})`);
  else rmSync(dir, { recursive: true, force: true });
}

function splitTarget(target: string): { file: string; flowName: string | undefined } {
  // `C:\x.ts` style drive letters do not occur on the platforms weft runs on; the last colon splits.
  const i = target.lastIndexOf(':');
  if (i > 0 && /\.[cm]?[jt]sx?$/.test(target.slice(0, i))) return { file: target.slice(0, i), flowName: target.slice(i + 1) };
  return { file: target, flowName: undefined };
}

function isFlow(value: unknown): value is AnyFlow {
  return typeof value === 'function' && typeof (value as Partial<AnyFlow>).run === 'function' && typeof (value as Partial<AnyFlow>).flowName === 'string';
}

function chooseFlow(module: Record<string, unknown>, file: string, flowName: string | undefined): AnyFlow | string {
  const flows = new Map<string, AnyFlow>();
  for (const [exportName, value] of Object.entries(module)) {
    if (isFlow(value)) {
      flows.set(exportName, value);
      flows.set(value.flowName, value);
    }
  }
  const unique = [...new Set(flows.values())];
  const names = unique.map((f) => f.flowName).join(', ');
  if (flowName !== undefined) {
    return flows.get(flowName) ?? `weft run: ${file} exports no flow named '${flowName}'${unique.length ? `; it exports: ${names}` : ''}.`;
  }
  if (unique.length === 1) return unique[0] as AnyFlow;
  if (unique.length === 0) return `weft run: ${file} exports no flow. Export one: export const main = flow(async function main() { ... });`;
  return `weft run: ${file} exports several flows (${names}); pick one: weft run ${file}:${unique[0]?.flowName}`;
}

function fail(message: string): number {
  console.error(message);
  return 2;
}
