/**
 * A small argv parser for weft's commands: `--name value`, `--name=value`, boolean `--flag`, and
 * repeatable options. Unknown options are errors that name them.
 */
export interface ParsedArgs {
  readonly positionals: string[];
  readonly options: Record<string, string[] | undefined>;
  readonly flags: Set<string>;
}

export function parseArgs(argv: readonly string[], spec: { repeatable?: readonly string[]; single?: readonly string[]; flags?: readonly string[] }): ParsedArgs | { error: string } {
  const known = new Set([...(spec.repeatable ?? []), ...(spec.single ?? [])]);
  const flagNames = new Set(spec.flags ?? []);
  const positionals: string[] = [];
  const options: Record<string, string[]> = {};
  const flags = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (flagNames.has(name)) {
      flags.add(name);
      continue;
    }
    if (!known.has(name)) {
      const all = [...known, ...flagNames].map((n) => `--${n}`).join(', ');
      return { error: `Unknown option --${name}${all ? ` (known: ${all})` : ''}.` };
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) return { error: `Option --${name} needs a value.` };
    if (!(spec.repeatable ?? []).includes(name) && options[name]) return { error: `Option --${name} was given twice.` };
    (options[name] ??= []).push(value);
  }
  return { positionals, options, flags };
}
