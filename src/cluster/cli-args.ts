import { UsageError } from '../errors.ts';

/**
 * Parses `--name value` / `--name=value` flags for the cluster commands. Unknown flags and
 * missing values are a {@link UsageError} naming the flag and the command's usage.
 */
export function parseFlags(argv: readonly string[], known: readonly string[], usage: string): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') throw new UsageError(usage);
    if (!arg.startsWith('--')) throw new UsageError(`Unexpected argument '${arg}'.\n${usage}`);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq === -1 ? undefined : eq);
    if (!known.includes(name)) throw new UsageError(`Unknown option --${name}.\n${usage}`);
    const value = eq === -1 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined || (eq === -1 && value.startsWith('--'))) throw new UsageError(`Option --${name} needs a value.\n${usage}`);
    out.set(name, value);
  }
  return out;
}

/** An integer flag ≥ `min`, or `fallback` when absent. */
export function intFlag(flags: Map<string, string>, name: string, min: number, fallback: number | undefined): number | undefined {
  const text = flags.get(name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min) throw new UsageError(`Expected --${name} to be an integer ≥ ${min}, got '${text}'.`);
  return value;
}
