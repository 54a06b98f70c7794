import { fileURLToPath } from 'node:url';

/**
 * The URL of an entry module found relative to `base` (a module's `import.meta.url`): `.ts` when
 * weft runs from its sources under tsx, `.js` when it runs from dist. `path` has no extension,
 * e.g. `sibling(import.meta.url, '../entry/process')`.
 */
export function sibling(base: string, path: string): URL {
  return new URL(`${path}${base.endsWith('.ts') ? '.ts' : '.js'}`, base);
}

/** {@link sibling} as a file path, for `spawn` and `fork`. */
export function siblingPath(base: string, path: string): string {
  return fileURLToPath(sibling(base, path));
}

/** Whether weft runs from its TypeScript sources (under tsx) rather than from dist. */
export function fromSources(base: string): boolean {
  return base.endsWith('.ts');
}
