import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { inspect } from 'node:util';
import type { Flow, FlowRun } from '../core/flow.ts';
import { registerTypeScript } from '../loader/register.ts';
import { parseArgs } from './args.ts';
import { showProgress } from './progress.ts';
import { FlowParametersError } from '../errors.ts';
import { formatError } from './format-error.ts';
import { bindParameters } from './parameters.ts';

const USAGE = 'Usage: weft run <file.ts>[:flowName] [--param key=value ...]';

type AnyFlow = Flow<unknown[], unknown>;

/**
 * `weft run file.ts[:flowName] [--param k=v ...]`: imports the file (TypeScript runs directly),
 * runs the flow with the parameters bound by name, prints its result, and exits non-zero with a
 * readable error if it fails. Ctrl-C cancels the run; a second Ctrl-C exits at once.
 */
export async function runCommand(argv: string[]): Promise<number> {
  const parsed = parseArgs(argv, { repeatable: ['param'], flags: [] });
  if ('error' in parsed) return fail(`${parsed.error}\n${USAGE}`);
  const [target, ...extra] = parsed.positionals;
  if (!target || extra.length > 0) return fail(USAGE);

  const { file, flowName } = splitTarget(target);
  const path = resolve(file);
  if (!existsSync(path)) return fail(`weft run: no such file: ${file}`);

  await registerTypeScript();
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (error) {
    return fail(`weft run: ${file} failed to import:\n${formatError(error)}`);
  }
  const chosen = chooseFlow(module, file, flowName);
  if (typeof chosen === 'string') return fail(chosen);

  const bound = await bindParameters(chosen, parsed.options.param ?? []);
  if ('error' in bound) return fail(bound.error);

  const run: FlowRun<unknown> = bound.flow.run(...bound.args);
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
  const stopProgress = showProgress(run);
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
  }
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
