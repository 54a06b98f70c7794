import { FlowParametersError, type ParameterIssue } from '../errors.ts';
import type { StandardSchemaV1 } from './standard-schema.ts';

/**
 * A flow's parameters: their names, read from the function's own source (TypeScript types are
 * already stripped when it runs), and their validation through a Standard Schema.
 *
 * With a schema, the parameters are validated as one object keyed by parameter name: a call
 * `report(3, '2024-01-01')` of `async function report(pages, date)` is checked as
 * `{ pages: 3, date: '2024-01-01' }` and the flow gets the schema's output back in the same order.
 * A flow whose single parameter is destructured (`async ({ pages, date }) => ...`) gets the
 * validated object itself.
 */

/** One parameter as the function's source declares it. */
export interface ParameterInfo {
  readonly name: string;
  /** Whether it has a default value (so it may be left out). */
  readonly optional: boolean;
  /** `...rest`: it takes the remaining arguments. */
  readonly rest: boolean;
  /** What its default value's literal is, when it has one: the type a command-line value must parse to. */
  readonly defaultType: 'string' | 'number' | 'boolean' | 'other' | undefined;
}

/** The parameters of a function, or `undefined` when they cannot be named (a destructured parameter). */
export function readParameters(fn: (...args: never[]) => unknown): ParameterInfo[] | undefined {
  const list = parameterList(Function.prototype.toString.call(fn));
  if (list === undefined) return undefined;
  const params: ParameterInfo[] = [];
  for (const part of splitTopLevel(list)) {
    const text = part.trim();
    if (!text) continue;
    const rest = text.startsWith('...');
    const eq = topLevelIndex(text, '=');
    const name = (eq === -1 ? text : text.slice(0, eq)).replace(/^\.\.\./, '').trim();
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) return undefined;
    const initial = eq === -1 ? undefined : text.slice(eq + 1).trim();
    params.push({ name, optional: initial !== undefined || rest, rest, defaultType: initial === undefined ? undefined : literalType(initial) });
  }
  return params;
}

/** The text between a function's parameter parentheses (comments removed), for every form of function. */
function parameterList(source: string): string | undefined {
  const code = source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  // `x => ...` and `async x => ...`: one parameter, no parentheses.
  const bare = /^(?:async\s+)?([A-Za-z_$][\w$]*)\s*=>/.exec(code);
  if (bare) return bare[1];
  const open = code.indexOf('(');
  if (open === -1) return undefined;
  const close = matching(code, open);
  return close === -1 ? undefined : code.slice(open + 1, close);
}

/** The index of the bracket closing the one at `open`, skipping strings; -1 if none. */
function matching(code: string, open: number): number {
  let depth = 0;
  for (let i = open; i < code.length; i++) {
    const c = code[i] as string;
    if (c === '"' || c === "'" || c === '`') i = endOfString(code, i);
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      if (--depth === 0) return i;
    }
  }
  return -1;
}

function endOfString(code: string, start: number): number {
  const quote = code[start];
  for (let i = start + 1; i < code.length; i++) {
    if (code[i] === '\\') i++;
    else if (code[i] === quote) return i;
  }
  return code.length;
}

/** The parts of `list` separated by top-level commas (not inside brackets or strings). */
function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let at: number;
  while ((at = topLevelIndex(list, ',', start)) !== -1) {
    parts.push(list.slice(start, at));
    start = at + 1;
  }
  parts.push(list.slice(start));
  return parts;
}

/** The first top-level `char` in `text` from `from` on; `=` of `=>` or `==` does not count. */
function topLevelIndex(text: string, char: string, from = 0): number {
  let depth = 0;
  for (let i = from; i < text.length; i++) {
    const c = text[i] as string;
    if (c === '"' || c === "'" || c === '`') i = endOfString(text, i);
    else if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === char && depth === 0 && !(char === '=' && (text[i + 1] === '>' || text[i + 1] === '='))) return i;
  }
  return -1;
}

function literalType(initial: string): ParameterInfo['defaultType'] {
  if (/^["'`]/.test(initial)) return 'string';
  if (/^[-+]?(\d[\d_]*\.?\d*(e[-+]?\d+)?|\.\d+|0x[\da-f]+|Infinity|NaN)$/i.test(initial)) return 'number';
  if (initial === 'true' || initial === 'false') return 'boolean';
  return 'other';
}

/**
 * Validates `input` through `schema` (awaiting it if it is async); the issues name the parameter
 * (the first path key), what was expected (the schema's message) and what was received.
 */
export async function checkParameters(schema: StandardSchemaV1, input: unknown): Promise<{ value: unknown } | { issues: ParameterIssue[] }> {
  const result = await schema['~standard'].validate(input);
  if (!result.issues) return { value: result.value };
  return {
    issues: result.issues.map((issue) => {
      const keys = (issue.path ?? []).map((segment) => (typeof segment === 'object' && segment !== null ? segment.key : segment));
      const parameter = keys.length === 0 ? '(parameters)' : keys.map(String).join('.');
      let received: unknown = input;
      for (const key of keys) received = typeof received === 'object' && received !== null ? (received as Record<PropertyKey, unknown>)[key as PropertyKey] : undefined;
      return { parameter, message: issue.message, received };
    }),
  };
}

/** The arguments of a call as the object a parameters schema validates, keyed by parameter name. */
export function argumentsObject(params: readonly ParameterInfo[] | undefined, args: readonly unknown[]): unknown {
  if (params === undefined) return args[0];
  const object: Record<string, unknown> = {};
  params.forEach((p, i) => {
    if (p.rest) object[p.name] = args.slice(i);
    else if (i < args.length) object[p.name] = args[i];
  });
  return object;
}

/** The schema's output as the function's arguments again, in order. */
export function argumentsOf(params: readonly ParameterInfo[] | undefined, value: unknown): unknown[] {
  if (params === undefined) return [value];
  const object = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
  const args: unknown[] = [];
  for (const p of params) {
    if (p.rest) args.push(...(Array.isArray(object[p.name]) ? (object[p.name] as unknown[]) : []));
    else args.push(object[p.name]);
  }
  // Trailing parameters the schema left out stay out, so their defaults apply.
  while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
  return args;
}

/** Validates a call's arguments through the flow's schema; resolves the arguments to call it with, or rejects with {@link FlowParametersError}. */
export async function validateArguments(flowName: string, schema: StandardSchemaV1, params: readonly ParameterInfo[] | undefined, args: readonly unknown[]): Promise<unknown[]> {
  const checked = await checkParameters(schema, argumentsObject(params, args));
  if ('issues' in checked) throw new FlowParametersError(flowName, checked.issues);
  return argumentsOf(params, checked.value);
}
