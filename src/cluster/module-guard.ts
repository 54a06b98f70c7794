import { existsSync, realpathSync } from 'node:fs';
import { hostname } from 'node:os';
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CodeVersionError, SerializationError, TaskNotFoundError } from '../errors.ts';
import { markedClasses } from '../protocol/prototypes.ts';
import { sourceHash, type TaskRef } from '../protocol/task-ref.ts';

/** Why a task may not run on this worker. */
export type Refusal = TaskNotFoundError | SerializationError | CodeVersionError;

/**
 * Which task modules a cluster worker may import, and where they are here. A task's module comes
 * named relative to the flow's project root (`TaskRef.path`, see `portableRef`): the worker finds
 * it under its own root, wherever its checkout lives, and refuses it, saying so, when it has no
 * such file or when its copy is not the flow's version (`TaskRef.hash`). Only files under the root
 * are imported (a cluster's Redis must not be a way to make workers run arbitrary code from their
 * disks). Verdicts are kept per module: realpath per task was a third of a worker's time on no-op
 * tasks; and the ref a task runs by is the same object each time, so it is looked up once.
 */
export class ModuleGuard {
  /** Whether each module may be imported (undefined) or is refused (why). */
  readonly #verdicts = new Map<string, TaskNotFoundError | undefined>();
  /** The ref each task runs by here, or why it may not, by name, module or path, and hash. */
  readonly #admitted = new Map<string, TaskRef | TaskNotFoundError | CodeVersionError>();
  readonly #host = hostname();

  constructor(
    /** The real path of the worker's project root. */
    readonly root: string,
    readonly workerId: string,
  ) {}

  /**
   * The ref to run this task by here (its module on this host), or why it may not run: its module,
   * and the modules of the marked classes in its arguments, must all be under the root, and its
   * module must be the flow's version.
   */
  admit(ref: TaskRef, args: readonly unknown[] = []): TaskRef | Refusal {
    for (const marked of markedClasses(args)) {
      const verdict = this.#verdict(ref.name, marked.module as string);
      if (verdict) return new SerializationError('args', marked.name, undefined, undefined, 'class-not-found', verdict.reason);
    }
    if (ref.module === undefined && ref.path === undefined) return ref; // executeTask reports the unknown module itself
    const key = `${ref.name}\0${ref.path ?? ref.module}\0${ref.hash ?? ''}`;
    let admitted = this.#admitted.get(key);
    if (admitted === undefined) this.#admitted.set(key, (admitted = this.#judgeRef(ref)));
    return admitted;
  }

  #judgeRef(ref: TaskRef): TaskRef | TaskNotFoundError | CodeVersionError {
    let module = ref.module as string;
    if (ref.path !== undefined) {
      const file = resolve(this.root, ref.path);
      if (!existsSync(file)) {
        return new TaskNotFoundError(ref.name, ref.path, `worker ${this.workerId} on host ${this.#host} has no ${ref.path} under its project root ${this.root} ` +
          `(the flow sent ${ref.module}); workers run their own checkout of the project: put the same commit there, or start the worker with --root at its checkout`);
      }
      module = pathToFileURL(realpathSync(file)).href;
    }
    const verdict = this.#verdict(ref.name, module);
    if (verdict) return verdict;
    if (ref.hash !== undefined && sourceHash(realpathSync(fileURLToPath(module))) !== ref.hash) {
      return new CodeVersionError(ref.name, ref.path ?? module, this.workerId, this.#host);
    }
    return { module, name: ref.name };
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
      return new TaskNotFoundError(name, module, `the module does not exist on worker ${this.workerId} (host ${this.#host}), or is not a local file; workers import task modules from their own checkout of the project (${this.root})`);
    }
    const rel = relative(this.root, path);
    if (rel.startsWith('..') || isAbsolute(rel)) {
      return new TaskNotFoundError(name, module, `worker ${this.workerId} (host ${this.#host}) refused it: the module is outside the worker's project root ${this.root}, and workers import only modules under their root (start the worker with --root, or from the project's directory)`);
    }
    return undefined;
  }
}
