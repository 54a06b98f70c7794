import { createHash } from 'node:crypto';
import { readFileSync, realpathSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { isAbsolute, relative, sep } from 'node:path';
import { TaskNotFoundError, UnguardedModuleError } from '../errors.ts';
import { loaderFor } from '../loader/register.ts';

/**
 * A task's identity across boundaries: the URL of the module that defines it and its name. A
 * worker imports the module, which registers its top-level tasks, and looks the name up.
 */
export interface TaskRef {
  /** `file:///…/tasks.ts`, or `undefined` where the defining module could not be read. */
  readonly module: string | undefined;
  readonly name: string;
  /**
   * Across hosts (to a cluster worker, see {@link portableRef}): the module's path relative to the
   * sender's project root, `/`-separated (`src/tasks.ts`), when it lies under that root.
   */
  readonly path?: string;
  /** Across hosts: a hash of the module's source as the sender has it; a worker whose copy differs refuses the task. */
  readonly hash?: string;
}

/** What the registry keeps of a task: enough to run it. */
export interface RegisteredTask {
  readonly ref: TaskRef;
  readonly fn: (...args: never[]) => unknown;
}

// One registry per realm, shared by every copy of weft loaded in it.
const kRegistry = Symbol.for('weft.task-registry');
type Registry = Map<string, Map<string, RegisteredTask | 'ambiguous'>>;
const registry: Registry = ((globalThis as { [kRegistry]?: Registry })[kRegistry] ??= new Map());

/** Records a task under its module and name. Two tasks of one name in one module make the name ambiguous. */
export function registerTask(task: RegisteredTask): void {
  const { module, name } = task.ref;
  if (module === undefined) return;
  let tasks = registry.get(module);
  if (!tasks) registry.set(module, (tasks = new Map()));
  tasks.set(name, tasks.has(name) ? 'ambiguous' : task);
}

/** Finds a registered task, or throws {@link TaskNotFoundError} saying why not. */
export function findTask(ref: TaskRef): RegisteredTask {
  if (ref.module === undefined) {
    throw new TaskNotFoundError(ref.name, '(unknown module)', 'weft could not tell which module defines it');
  }
  const found = registry.get(ref.module)?.get(ref.name);
  if (found === 'ambiguous') {
    throw new TaskNotFoundError(ref.name, ref.module, 'more than one task of that name is defined there; give each a unique options.name');
  }
  if (!found) {
    throw new TaskNotFoundError(ref.name, ref.module, 'the module imported, but it defines no task of that name at its top level (was it created inside a function?)');
  }
  return found;
}

/** Imports a task's module (once) and finds the task in it. */
export async function loadTask(ref: TaskRef): Promise<RegisteredTask> {
  if (ref.module !== undefined && !registry.has(ref.module)) {
    try {
      // TypeScript needs its loader in this thread; it is installed only when a .ts module comes.
      await loaderFor(ref.module);
      await import(ref.module);
    } catch (error) {
      // The module started its flow at top level: that is the error, not a missing task.
      if (error instanceof UnguardedModuleError) throw new UnguardedModuleError(error.flowName, ref.module);
      throw new TaskNotFoundError(ref.name, ref.module, `the module failed to import (${error instanceof Error ? error.message : String(error)})`, error);
    }
  }
  return findTask(ref);
}

/**
 * The URL of the module whose code called `fn`, read from V8's structured call sites. Works in
 * the main thread, worker threads and child processes, for TypeScript run through tsx too.
 */
export function callerModule(fn: (...args: never[]) => unknown): string | undefined {
  const original = Error.prepareStackTrace;
  const limit = Error.stackTraceLimit;
  try {
    Error.stackTraceLimit = 1;
    Error.prepareStackTrace = (_error, callSites) => callSites;
    const holder: { stack?: NodeJS.CallSite[] } = {};
    Error.captureStackTrace(holder, fn);
    const file = holder.stack?.[0]?.getFileName();
    if (!file) return undefined;
    if (file.startsWith('file:')) return file;
    return isAbsolute(file) ? pathToFileURL(file).href : undefined;
  } finally {
    Error.prepareStackTrace = original;
    Error.stackTraceLimit = limit;
  }
}

/** Portable forms of refs, per ref object (with the root they are relative to). */
const portable = new WeakMap<TaskRef, { readonly root: string; readonly ref: TaskRef }>();

/**
 * The ref as it goes to another host (a cluster worker): with `path`, its module relative to
 * `root` (the sender's project root), so a worker finds the module in its own checkout wherever
 * that lives, and `hash`, its source's hash, so a worker with other code refuses the task instead
 * of running it. A ref with a path already (passed on from a worker) goes as it is; one whose
 * module is not a readable file goes as it is too. Computed once per ref (a realpath and a read).
 */
export function portableRef(ref: TaskRef, root: string): TaskRef {
  if (ref.path !== undefined || ref.module === undefined || !ref.module.startsWith('file:')) return ref;
  const cached = portable.get(ref);
  if (cached?.root === root) return cached.ref;
  let out: TaskRef = ref;
  try {
    const file = realpathSync(fileURLToPath(ref.module));
    const rel = relative(realOrAsIs(root), file);
    const hash = sourceHash(file);
    out = rel.startsWith('..') || isAbsolute(rel) ? { ...ref, hash } : { ...ref, path: rel.split(sep).join('/'), hash };
  } catch {
    // Not a file here: the worker reports the module it cannot find.
  }
  portable.set(ref, { root, ref: out });
  return out;
}

function realOrAsIs(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

const hashes = new Map<string, string>();

/**
 * A hash of a file's source (sha256, 16 hex digits), read once per file for the process's life:
 * the code a process runs is the code it first loaded.
 */
export function sourceHash(file: string): string {
  let hash = hashes.get(file);
  if (hash === undefined) hashes.set(file, (hash = createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 16)));
  return hash;
}
