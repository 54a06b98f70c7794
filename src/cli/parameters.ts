/**
 * Binds `--param key=value` to a flow function's parameters by name, as Prefect binds a flow
 * run's parameters. Names come from the function's own source (TypeScript types are already
 * stripped when it runs); values are parsed as JSON when they parse (`3`, `true`, `[1,2]`) and
 * kept as strings otherwise.
 */
/** The parameter names of a function, or undefined when they can't be read (destructuring). */
export function parameterNames(fn: (...args: never[]) => unknown): string[] | undefined {
  const source = Function.prototype.toString.call(fn);
  const open = source.indexOf('(');
  if (open === -1) return undefined;
  let depth = 0;
  let close = -1;
  for (let i = open; i < source.length; i++) {
    const c = source[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') {
      depth--;
      if (depth === 0) {
        close = i;
        break;
      }
    }
  }
  if (close === -1) return undefined;
  const list = source.slice(open + 1, close).replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
  const names: string[] = [];
  for (const part of splitTopLevel(list)) {
    const name = part.trim().replace(/^\.\.\./, '').split('=')[0]?.trim() ?? '';
    if (!name) continue;
    if (!/^[A-Za-z_$][\w$]*$/.test(name)) return undefined;
    names.push(name);
  }
  return names;
}

function splitTopLevel(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === '(' || c === '[' || c === '{') depth++;
    else if (c === ')' || c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 0) {
      parts.push(list.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(list.slice(start));
  return parts;
}

/** The positional arguments for `params`, or an error message naming what is wrong. */
export function bindParameters(flowName: string, names: string[] | undefined, params: readonly string[]): unknown[] | string {
  if (params.length === 0) return [];
  if (names === undefined) return `weft run: cannot read the parameter names of flow '${flowName}' (destructured parameters?); give it plain named parameters to use --param.`;
  const args: unknown[] = new Array(names.length).fill(undefined);
  for (const param of params) {
    const eq = param.indexOf('=');
    if (eq <= 0) return `weft run: --param must be key=value, got '${param}'.`;
    const key = param.slice(0, eq);
    const index = names.indexOf(key);
    if (index === -1) return `weft run: flow '${flowName}' has no parameter '${key}'; its parameters are: ${names.join(', ') || '(none)'}.`;
    args[index] = parseValue(param.slice(eq + 1));
  }
  while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
  return args;
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
