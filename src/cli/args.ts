import { UsageError } from '../errors.ts';

/**
 * weft's one argv parser: every command declares its options once ({@link CommandSpec}), and the
 * same declaration parses argv (`--name value`, `--name=value`, boolean `--flag`, repeatable
 * options), answers `--help`/`-h`, and writes the usage text with each option's default. Unknown
 * options and bad values are a {@link UsageError} naming the option and pointing to `--help`.
 *
 * @module
 */

/** One `--option` of a command. */
export interface OptionSpec {
  readonly name: string;
  /** The value's placeholder in the usage text (`URL`, `N`); absent for a boolean flag. */
  readonly value?: string;
  readonly help: string;
  /** The default as the usage text shows it; absent when the option has none. */
  readonly default?: string;
  readonly repeatable?: boolean;
  readonly required?: boolean;
}

/** A command's usage line, what it does, and its options. */
export interface CommandSpec {
  /** The command as typed: `weft worker`. */
  readonly command: string;
  /** Its arguments after the command, for the usage line: `<file.ts>[:flowName]`. */
  readonly args?: string;
  readonly summary: string;
  readonly options: readonly OptionSpec[];
  /** How many positional arguments it takes. @default 0 */
  readonly positionals?: { readonly min: number; readonly max: number };
}

/** What argv said: positionals, each option's values in order, and the boolean flags given. */
export interface ParsedArgs {
  readonly help: boolean;
  readonly positionals: string[];
  readonly options: ReadonlyMap<string, readonly string[]>;
  readonly flags: ReadonlySet<string>;
}

const HELP: OptionSpec = { name: 'help', help: 'print this help and exit' };

/** The usage text of a command: its line, what it does, and every option with its default. */
export function usage(spec: CommandSpec): string {
  const options = [...spec.options, HELP];
  const left = options.map((o) => `  --${o.name}${o.value ? ` ${o.value}` : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  const lines = options.map((o, i) => {
    const notes = [o.required ? 'required' : undefined, o.repeatable ? 'repeatable' : undefined, o.default !== undefined ? `default: ${o.default}` : undefined].filter(Boolean);
    return `${(left[i] as string).padEnd(width)}${o.help}${notes.length ? ` (${notes.join('; ')})` : ''}`;
  });
  return [`Usage: ${spec.command}${spec.args ? ` ${spec.args}` : ''}${spec.options.length ? ' [options]' : ''}`, '', spec.summary, '', 'Options:', ...lines].join('\n');
}

/** Parses argv for a command; throws {@link UsageError} for anything it does not take. */
export function parseArgs(argv: readonly string[], spec: CommandSpec): ParsedArgs {
  const byName = new Map(spec.options.map((o) => [o.name, o]));
  const positionals: string[] = [];
  const options = new Map<string, string[]>();
  const flags = new Set<string>();
  const bad = (message: string) => new UsageError(`${spec.command}: ${message} Run '${spec.command} --help' for its options.`);
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') return { help: true, positionals, options, flags };
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') ? arg.slice(2, eq === -1 ? undefined : eq) : arg;
    const option = byName.get(name);
    if (!option) throw bad(`unknown option ${arg.startsWith('--') ? `--${name}` : arg}.`);
    if (!option.value) {
      if (eq !== -1) throw bad(`--${name} takes no value.`);
      flags.add(name);
      continue;
    }
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq === -1 && value.startsWith('--'))) throw bad(`--${name} needs a value (${option.value}).`);
    const values = options.get(name) ?? [];
    if (values.length > 0 && !option.repeatable) throw bad(`--${name} was given twice.`);
    options.set(name, [...values, value]);
  }
  const { min, max } = spec.positionals ?? { min: 0, max: 0 };
  if (positionals.length > max) throw bad(`unexpected argument '${positionals[max]}'.`);
  if (positionals.length < min) throw bad(`missing ${spec.args ?? 'argument'}.`);
  for (const option of spec.options) {
    if (option.required && !options.has(option.name)) throw bad(`--${option.name} is required.`);
  }
  return { help: false, positionals, options, flags };
}

/** The single value of an option, or `undefined`. */
export function optionValue(parsed: ParsedArgs, name: string): string | undefined {
  return parsed.options.get(name)?.[0];
}

/** An integer option ≥ `min`, or `fallback` when absent. */
export function intOption<T extends number | undefined>(parsed: ParsedArgs, name: string, min: number, fallback: T): number | T {
  const text = optionValue(parsed, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`Expected --${name} to be an integer ≥ ${min}, got '${text}'.`);
  }
  return value;
}

/**
 * Parses argv for a command the way every weft command does: `--help` prints the usage and
 * resolves exit code 0; bad usage prints the error and resolves 2. Otherwise the parsed args.
 */
export function parseCommand(argv: readonly string[], spec: CommandSpec): ParsedArgs | number {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs(argv, spec);
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  if (!parsed.help) return parsed;
  console.log(usage(spec));
  return 0;
}
