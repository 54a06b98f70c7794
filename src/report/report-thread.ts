import type { Worker } from 'node:worker_threads';
import type { FromReportThread, ToReportThread } from '../protocol/report-messages.ts';
import { fromWireError } from '../protocol/wire-error.ts';
import { entryThread } from '../util/entry-thread.ts';
import type { Chunk } from './rows.ts';

/** Report threads started and not yet exited, in this process (tests check none is left). */
let live = 0;
export function liveReportThreads(): number {
  return live;
}

/**
 * Builds a run's report off the flow's thread: each chunk of the event log goes to a report thread
 * (entry/report.ts) as it fills, its buffer transferred, and the thread folds it into the model
 * while the run goes on; at the end it is sent the last chunk and answers with the HTML.
 *
 * The thread is started with the log's first full chunk, so its boot overlaps the rest of the run;
 * until it is ready the chunks wait here. When it is not ready by the run's end (a short run, or a
 * thread that could not start) it is stopped and the same model code builds the report in this
 * thread from the chunks kept. The thread never keeps the process alive while idle, and {@link close} (every path of a
 * run ends there) stops it.
 */
export class ReportThread {
  #worker: Worker | undefined;
  #ready = false;
  /** Chunks not sent yet, with their new dictionary entries: the thread is not ready. */
  readonly #waiting: Array<[Chunk, readonly string[]]> = [];
  /** Whether a chunk went to the thread: its buffer is there, so only the thread can build the report. */
  #sent = false;
  /** Why the thread is gone or unusable, once it is. */
  #lost: Error | undefined;
  #answer: { resolve(html: string): void; reject(error: Error): void } | undefined;
  #started!: (ready: boolean) => void;
  /** Resolves true once the thread takes chunks, false if it will not (it could not start, or is gone). */
  readonly started = new Promise<boolean>((resolve) => (this.#started = resolve));

  // Started with the log's first full chunk, not with the run: a run shorter than one chunk (about
  // 5,000 task runs) is built here at less cost than a thread's boot, which on 2 cores competes
  // with the run itself (measured: +126 % and +99 % at 1,000 and 10,000 runs with a thread from
  // the start, against noise without one). A longer run still overlaps the boot with most of its time.
  #start(): void {
    let worker: Worker;
    try {
      worker = entryThread(import.meta.url, '../entry/report');
    } catch (error) {
      this.#unavailable(error as Error);
      return;
    }
    live++;
    this.#worker = worker;
    worker.unref();
    worker.on('message', (message: FromReportThread) => this.#onMessage(message));
    worker.on('error', (error) => (this.#ready ? this.#fail(error) : this.#unavailable(error)));
    worker.once('exit', (code) => {
      live--;
      this.#worker = undefined;
      this.#fail(new Error(`the report thread exited with code ${code}`));
    });
  }

  #onMessage(message: FromReportThread): void {
    if (message.type === 'ready') {
      this.#ready = true;
      this.#started(true);
      for (const [chunk, strings] of this.#waiting.splice(0)) this.#post(chunk, strings);
    } else if (message.type === 'html') {
      this.#answer?.resolve(message.html);
    } else this.#fail(fromWireError(message.error));
  }

  /** The thread could not start: said once, since the report then costs the run its build time here. */
  #unavailable(error: Error): void {
    if (!this.#lost) console.warn(`weft: the report thread could not start (${error.message}); the performance report is built in the flow's thread instead`);
    this.#fail(error);
  }

  #fail(error: Error): void {
    this.#lost ??= error;
    this.#started(false);
    this.#answer?.reject(this.#lost);
  }

  #post(chunk: Chunk, strings: readonly string[]): void {
    const message: ToReportThread = { type: 'chunk', buffer: chunk.buffer, length: chunk.length, strings };
    this.#worker!.postMessage(message, [chunk.buffer]);
    this.#sent = true;
  }

  /** Takes the log's next chunk (its buffer may be transferred: the caller lets go of it). */
  add(chunk: Chunk, strings: readonly string[]): void {
    if (!this.#worker && !this.#lost) this.#start();
    if (this.#ready && !this.#lost) this.#post(chunk, strings);
    else this.#waiting.push([chunk, strings]);
  }

  /** The report's HTML, once every chunk but the last has been added; then the thread is stopped. */
  async html(last: Chunk, strings: readonly string[], droppedLogs: number): Promise<string> {
    if (this.#ready && !this.#lost) this.#post(last, strings);
    else this.#waiting.push([last, strings]);
    try {
      if (!this.#sent && (!this.#ready || this.#lost)) return await buildHere(this.#waiting.splice(0), droppedLogs);
      if (this.#lost) throw new Error(`the report could not be built: ${this.#lost.message}`, { cause: this.#lost });
      const answer = new Promise<string>((resolve, reject) => (this.#answer = { resolve, reject }));
      // Held while the thread works: the run has ended, and an unref'd thread would let the process exit first.
      this.#worker!.ref();
      this.#worker!.postMessage({ type: 'end', droppedLogs } satisfies ToReportThread);
      return await answer;
    } finally {
      this.close();
    }
  }

  /** Stops the thread, if it runs (idempotent). */
  close(): void {
    this.#lost ??= new Error('the report was closed');
    void this.#worker?.terminate();
  }
}

/** The report built in this thread, by the same code the report thread runs, from chunks kept here. */
async function buildHere(chunks: ReadonlyArray<readonly [Chunk, readonly string[]]>, droppedLogs: number): Promise<string> {
  // Loaded on first use: a run whose report the thread builds never loads the model or the renderer here.
  const [{ ReportBuilder }, { renderHtml }] = await Promise.all([import('./model.ts'), import('./html.ts')]);
  const builder = new ReportBuilder();
  for (const [chunk, strings] of chunks) builder.add(chunk, strings);
  return renderHtml(builder.model(droppedLogs));
}
