import { existsSync, realpathSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ENVELOPE, isEnvelope, type Envelope } from './envelope.ts';
import type { ClassRef } from './serializable.ts';

/**
 * Marked classes across hosts. A value holding instances of `serializable()` classes travels in
 * an envelope naming each class by its module's URL (prototypes.ts), and an absolute URL means
 * nothing on a host whose checkout lives at another path. So, as task modules are (`portableRef`),
 * a class's module under the sender's project root goes with its path relative to that root, and
 * the receiver names it from its own root. Only envelopes are touched: plain values pass as they are.
 *
 * @module
 */

/** Root-relative paths of modules, by root and module URL: a realpath each, once. */
const relativePaths = new Map<string, string | undefined>();

function relativePath(module: string, root: string): string | undefined {
  const key = `${root}\0${module}`;
  if (relativePaths.has(key)) return relativePaths.get(key);
  let path: string | undefined;
  try {
    const rel = relative(realpathSync(root), realpathSync(fileURLToPath(module)));
    if (!rel.startsWith('..') && !isAbsolute(rel)) path = rel.split(sep).join('/');
  } catch {
    // Not a file here: it goes by its URL, and the receiver says it cannot find it.
  }
  relativePaths.set(key, path);
  return path;
}

function mapRefs(value: unknown, map: (ref: ClassRef) => ClassRef): unknown {
  if (!isEnvelope(value)) return value;
  const refs = value[ENVELOPE];
  const mapped = refs.map(map);
  if (mapped.every((ref, i) => ref === refs[i])) return value;
  const envelope: Envelope = { [ENVELOPE]: mapped, marks: value.marks, value: value.value };
  return envelope;
}

function mapArgs(args: readonly unknown[], map: (value: unknown) => unknown): unknown[] {
  let out: unknown[] | undefined;
  for (let i = 0; i < args.length; i++) {
    if (!isEnvelope(args[i])) continue;
    const mapped = map(args[i]);
    if (mapped !== args[i]) (out ??= [...args])[i] = mapped;
  }
  return out ?? (args as unknown[]);
}

/** A value as it goes to another host: its classes' modules under `root` named by their path from it too. */
export function portableValue(value: unknown, root: string): unknown {
  return mapRefs(value, (ref) => {
    if (ref.path !== undefined || ref.module === undefined || !ref.module.startsWith('file:')) return ref;
    const path = relativePath(ref.module, root);
    return path === undefined ? ref : { ...ref, path };
  });
}

/** A value as it came from another host, with its classes' modules found under this host's `root`. */
export function localValue(value: unknown, root: string): unknown {
  return mapRefs(value, (ref) => {
    if (ref.path === undefined) return ref;
    const file = resolve(root, ref.path);
    return { module: pathToFileURL(existsSync(file) ? realpathSync(file) : file).href, name: ref.name };
  });
}

/** {@link portableValue} for each argument. */
export function portableArgs(args: readonly unknown[], root: string): unknown[] {
  return mapArgs(args, (value) => portableValue(value, root));
}

/** {@link localValue} for each argument. */
export function localArgs(args: readonly unknown[], root: string): unknown[] {
  return mapArgs(args, (value) => localValue(value, root));
}
