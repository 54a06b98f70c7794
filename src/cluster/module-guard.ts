import { realpathSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SerializationError, TaskNotFoundError } from '../errors.ts';
import { markedClasses } from '../protocol/prototypes.ts';
import type { TaskRef } from '../protocol/task-ref.ts';

/**
 * Which task modules a cluster worker may import: only files under its project root. A job naming
 * any other module is refused (a cluster's Redis must not be a way to make workers run arbitrary
 * code from their disks). The verdict is kept per module: realpath per task was a third of a
 * worker's time on no-op tasks.
 */
export class ModuleGuard {
  /** Whether each module may be imported (undefined) or is refused (why). */
  readonly #verdicts = new Map<string, TaskNotFoundError | undefined>();

  constructor(
    /** The real path of the worker's project root. */
    readonly root: string,
    readonly workerId: string,
  ) {}

  /**
   * Why this task may not run here, or undefined if it may: its module, and the modules of the
   * marked classes in its arguments, must all be under the root.
   */
  refusal(ref: TaskRef, args: readonly unknown[] = []): TaskNotFoundError | SerializationError | undefined {
    for (const marked of markedClasses(args)) {
      const verdict = this.#verdict(ref.name, marked.module as string);
      if (verdict) return new SerializationError('args', marked.name, undefined, undefined, 'class-not-found', verdict.reason);
    }
    const module = ref.module;
    if (module === undefined) return undefined; // executeTask reports the unknown module itself
    return this.#verdict(ref.name, module);
  }

  #verdict(name: string, module: string): TaskNotFoundError | undefined {
    if (!this.#verdicts.has(module)) this.#verdicts.set(module, this.#judge(name, module));
    return this.#verdicts.get(module);
  }

  #judge(name: string, module: string): TaskNotFoundError | undefined {
    let path: string;
    try {
      path = realpathSync(fileURLToPath(module));
    } catch {
      return new TaskNotFoundError(name, module, `the module does not exist on worker ${this.workerId}, or is not a local file; workers import task modules from their own checkout of the project (${this.root})`);
    }
    const rel = relative(this.root, path);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      return new TaskNotFoundError(name, module, `worker ${this.workerId} refused it: the module is outside the worker's project root ${this.root}, and workers import only modules under their root (start the worker with --root, or from the project's directory)`);
    }
    return undefined;
  }
}
