/**
 * Time slices of a held job. A worker takes one job (a batch of task runs) per slot and keeps it
 * until every run in it is done, so behind a big map of slow tasks a small flow run would wait
 * for whole batches to drain, however fairly the queue orders jobs. A job that has held its slot
 * for a slice while other jobs wait in its queue hands its runs that have not begun back to the
 * queue as a new job, in the same place among priorities and fair-share ranks, and ends once the
 * runs already begun are done: the slot then takes the next job in the queue's order.
 *
 * @module
 */

/** How long a job holds its slot before its runs not yet begun may go back to the queue. */
export const SLICE_MS = 500;

/** The runs of one held job: which began in a slot, and which were handed back. */
export class JobSlice<T extends { readonly taskRunId: string }> {
  readonly #began = new Set<string>();
  #handed: ReadonlySet<string> | undefined;
  /** While the runs not begun are being handed back: whether the new job was added. */
  #handing: Promise<boolean> | undefined;
  #timer: NodeJS.Timeout | undefined;

  constructor(readonly tasks: readonly T[]) {}

  /**
   * Called as a run is about to begin in a slot: whether it may (false: it was handed back, and
   * another job carries it now). While a hand-back is on its way, a run in it waits for the
   * answer: it begins here only if the new job could not be added.
   */
  begin(taskRunId: string): boolean | Promise<boolean> {
    if (this.#handed?.has(taskRunId)) {
      if (this.#handing === undefined) return false;
      return this.#handing.then((added) => added ? false : this.begin(taskRunId));
    }
    this.#began.add(taskRunId);
    return true;
  }

  /** Whether a run went back to the queue (nothing is said of it here). */
  handedBack(taskRunId: string): boolean {
    return this.#handed?.has(taskRunId) ?? false;
  }

  /**
   * Every `sliceMs` while the job is held, asks `othersWait` and, if other jobs wait, hands the
   * runs not yet begun to `requeue` (once; a job with nothing left to hand back only waits).
   * Every run not begun when `requeue` is called is either in the new job or begins here, never
   * both: the choice is made synchronously, before `requeue` runs.
   */
  watch(sliceMs: number, othersWait: () => Promise<boolean>, requeue: (tasks: readonly T[]) => Promise<void>, onError: (error: unknown) => void): void {
    const check = async () => {
      if (this.#handed !== undefined || this.#began.size === this.tasks.length) return;
      if (!(await othersWait())) return void (this.#timer = setTimeout(tick, sliceMs));
      const rest = this.tasks.filter((t) => !this.#began.has(t.taskRunId));
      if (rest.length === 0) return;
      this.#handed = new Set(rest.map((t) => t.taskRunId));
      this.#handing = requeue(rest).then(() => true, (error: unknown) => {
        // Not handed back after all: the job keeps its runs, and they begin here.
        this.#handed = undefined;
        onError(error);
        return false;
      });
      await this.#handing;
      this.#handing = undefined;
    };
    const tick = () => void check().catch(onError);
    this.#timer = setTimeout(tick, sliceMs);
  }

  /** Stops watching (the job is done). */
  stop(): void {
    clearTimeout(this.#timer);
  }
}
