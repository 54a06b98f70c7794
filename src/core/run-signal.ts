/**
 * A task run's cancellation as a runner sees it ({@link TaskJob.cancellation}). Read `aborted` on
 * hot paths (polling it costs nothing); `signal` gives a real AbortSignal, made on first read.
 */
export interface Cancellation {
  readonly aborted: boolean;
  /** What it was aborted with (a `CancelledError`), once aborted. */
  readonly reason: unknown;
  readonly signal: AbortSignal;
}

/**
 * A task run's cancellation, with the `AbortSignal` made only when someone asks for it. Most task
 * runs are never cancelled and never read their signal, and an AbortController costs several
 * microseconds: on the hot path the engine reads `aborted` instead.
 */
export class RunSignal implements Cancellation {
  #controller: AbortController | undefined;
  #aborted = false;
  #reason: unknown;

  get aborted(): boolean {
    return this.#aborted;
  }

  get reason(): unknown {
    return this.#reason;
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#aborted) this.#controller.abort(this.#reason);
    }
    return this.#controller.signal;
  }

  abort(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#reason = reason;
    this.#controller?.abort(reason);
  }

  /** A RunSignal that follows an existing AbortSignal (on workers, where a real signal already exists). */
  static from(signal: AbortSignal): RunSignal {
    const run = new RunSignal();
    run.#controller = new AbortController();
    const follow = () => run.abort(signal.reason);
    if (signal.aborted) follow();
    else signal.addEventListener('abort', follow, { once: true });
    return run;
  }
}
