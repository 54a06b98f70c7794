import { FlowParametersError, type ParameterIssue } from '../errors.ts';
import { argumentsOf, checkParameters, readParameters, type ParameterInfo } from '../core/parameters.ts';
import type { Flow } from '../core/flow.ts';

/**
 * Binds `weft run --param key=value` to a flow's parameters by name, as Prefect binds a flow
 * run's parameters. Names come from the function's own source, arrow functions included.
 *
 * - With a `parameters` schema, the values are validated and coerced through it: each value is
 *   offered parsed as JSON when it parses (`3`, `true`, `[1,2]`), and as the text itself where the
 *   schema rejects the parsed form (so `date=20240101` stays a string for `z.string()`).
 * - Without one, a parameter without a default that `--param` does not give is an error; a value
 *   for a parameter whose default is a string stays text, one whose default is a number or a
 *   boolean must parse as one; others are parsed as JSON when they parse, else kept as text.
 */

type AnyFlow = Flow<unknown[], unknown>;

/** The flow to run and its arguments, or the error to print (exit code 2). */
export type Bound = { readonly flow: AnyFlow; readonly args: unknown[] } | { readonly error: string };

export async function bindParameters(flow: AnyFlow, params: readonly string[]): Promise<Bound> {
  const given = new Map<string, string>();
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq <= 0) return { error: `weft run: --param must be key=value, got '${param}'.` };
    const key = param.slice(0, eq);
    if (given.has(key)) return { error: `weft run: --param ${key} was given twice.` };
    given.set(key, param.slice(eq + 1));
  }
  const info = readParameters(flow.fn as (...args: never[]) => unknown);
  if (info !== undefined) {
    const names = info.map((p) => p.name);
    const unknown = [...given.keys()].filter((k) => !names.includes(k));
    if (unknown.length > 0) {
      return { error: `weft run: flow '${flow.flowName}' has no parameter ${unknown.map((k) => `'${k}'`).join(', ')}; its parameters are: ${names.join(', ') || '(none)'}.` };
    }
  }
  const schema = flow.options.parameters;
  if (schema) {
    const offered = Object.fromEntries([...given].map(([k, text]) => [k, parseJson(text)]));
    let checked = await checkParameters(schema, offered);
    if ('issues' in checked) {
      // The parsed form was rejected: offer those parameters as the text that was typed.
      const retry = { ...offered };
      for (const issue of checked.issues) {
        const key = issue.parameter.split('.')[0] as string;
        if (given.has(key)) retry[key] = given.get(key);
      }
      const second = await checkParameters(schema, retry);
      checked = 'issues' in second ? { issues: second.issues.map((i) => withText(i, given)) } : second;
    }
    if ('issues' in checked) return { error: `weft run: ${new FlowParametersError(flow.flowName, checked.issues).message}` };
    // Validated here, once: the run must not validate the schema's output a second time.
    return { flow: flow.withOptions({ parameters: null }), args: argumentsOf(info, checked.value) };
  }
  if (info === undefined) {
    if (given.size === 0) return { flow, args: [] };
    return { error: `weft run: cannot read the parameter names of flow '${flow.flowName}' (a destructured parameter?); give it plain named parameters, or a parameters schema, to use --param.` };
  }
  const issues: ParameterIssue[] = [];
  const args = info.map((p) => {
    const text = given.get(p.name);
    if (text === undefined) {
      if (!p.optional) issues.push({ parameter: p.name, message: `required (pass --param ${p.name}=VALUE)`, received: undefined });
      return undefined;
    }
    const value = parseAs(p, text);
    if (value instanceof Mismatch) issues.push({ parameter: p.name, message: value.expected, received: text });
    return value;
  });
  if (issues.length > 0) return { error: `weft run: ${new FlowParametersError(flow.flowName, issues).message}` };
  const last = info[info.length - 1];
  if (last?.rest) args.splice(info.length - 1, 1, ...(Array.isArray(args[info.length - 1]) ? (args[info.length - 1] as unknown[]) : args[info.length - 1] === undefined ? [] : [args[info.length - 1]]));
  while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
  return { flow, args };
}

class Mismatch {
  constructor(readonly expected: string) {}
}

/** A value typed on the command line, as the parameter's default says it should be read. */
function parseAs(p: ParameterInfo, text: string): unknown {
  switch (p.defaultType) {
    case 'string':
      return text;
    case 'number': {
      const n = Number(text);
      return text.trim() !== '' && Number.isFinite(n) ? n : new Mismatch('expected a number (its default is one)');
    }
    case 'boolean':
      return text === 'true' ? true : text === 'false' ? false : new Mismatch('expected true or false (its default is a boolean)');
    default:
      return parseJson(text);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** An issue showing what was typed for the parameter, not the form it was offered in. */
function withText(issue: ParameterIssue, given: Map<string, string>): ParameterIssue {
  const text = given.get(issue.parameter.split('.')[0] as string);
  return text === undefined ? issue : { ...issue, received: text };
}
