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
 * Chunks are posted at once, not after the thread says it is ready: a busy run is one long chain
 * of promise reactions, and its event loop reads the thread's messages only at the run's end
 * (measured: `ready` was seen 2-3 s after the thread started, as the 100,000-run run ended, so
 * every report fell back to the build here). A message posted before the thread runs waits in its
 * port. The thread starts with the log's first full chunk; a log of one chunk, or a thread that
 * cannot be created, is built here by the same model code. The thread never keeps the process
 * alive while idle, and {@link close} (every path of a run ends there) stops it.
 */
export class ReportThread {
  readonly #spawn: () => Worker;
  #worker: Worker | undefined;
  /** Chunks kept here: no thread was started (or it could not be), so the report is built here. */
  readonly #kept: Array<[Chunk, readonly string[]]> = [];
  /** Whether a chunk went to the thread: its buffer is there, so only the thread can build the report. */
  #posted = false;
  /** Why the thread is gone or unusable, once it is. */
  #lost: Error | undefined;
  #answer: { resolve(html: string): void; reject(error: Error): void } | undefined;
  #started!: (ready: boolean) => void;
  /** Resolves true once the thread has loaded its code, false if it will not (it could not start, or is gone). */
  readonly started = new Promise<boolean>((resolve) => (this.#started = resolve));

  /** `spawn`: how the thread is made (tests give one that throws). */
  constructor(spawn: () => Worker = () => entryThread(import.meta.url, '../entry/report', {}, 'require')) {
    this.#spawn = spawn;
  }

  // Started with the log's first full chunk, not with the run: a run shorter than one chunk (about
  // 5,000 task runs) is built here at less cost than a thread's boot, which on 2 cores competes
  // with the run itself (measured: +126 % and +99 % at 1,000 and 10,000 runs with a thread from
  // the start, against noise without one). A longer run still overlaps the boot with most of its time.
  #start(): void {
    let worker: Worker;
    try {
      worker = this.#spawn();
    } catch (error) {
      console.warn(`weft: the report thread could not start (${(error as Error).message}); the performance report is built in the flow's thread instead`);
      this.#fail(error as Error);
      return;
    }
    live++;
    this.#worker = worker;
    worker.unref();
    worker.on('message', (message: FromReportThread) => this.#onMessage(message));
    worker.on('error', (error) => this.#fail(error));
    worker.once('exit', (code) => {
      live--;
      this.#worker = undefined;
      this.#fail(new Error(`the report thread exited with code ${code}`));
    });
  }

  #onMessage(message: FromReportThread): void {
    if (message.type === 'ready') this.#started(true);
    else if (message.type === 'html') this.#answer?.resolve(message.html);
    else this.#fail(fromWireError(message.error));
  }

  #fail(error: Error): void {
    this.#lost ??= error;
    this.#started(false);
    this.#answer?.reject(this.#lost);
  }

  /** Takes the log's next full chunk (its buffer is transferred: the caller lets go of it). */
  add(chunk: Chunk, strings: readonly string[]): void {
    if (!this.#worker && !this.#lost) this.#start();
    const worker = this.#worker;
    if (!worker) return void this.#kept.push([chunk, strings]);
    const message: ToReportThread = { type: 'chunk', buffer: chunk.buffer, length: chunk.length, strings };
    worker.postMessage(message, [chunk.buffer]);
    this.#posted = true;
  }

  /** The report's HTML, given the log's last (partial) chunk; then the thread is stopped. */
  async html(last: Chunk, strings: readonly string[], droppedLogs: number): Promise<string> {
    try {
      const worker = this.#worker;
      // No thread ever took a chunk (a short log, or none could start): they are all here.
      if (!this.#posted) return await buildHere([...this.#kept.splice(0), [last, strings]], droppedLogs);
      if (this.#lost || !worker) throw new Error(`the report could not be built: ${this.#lost?.message ?? 'the thread is gone'}`, { cause: this.#lost });
      const answer = new Promise<string>((resolve, reject) => (this.#answer = { resolve, reject }));
      this.add(last, strings);
      // Held while the thread works: the run has ended, and an unref'd thread would let the process exit first.
      worker.ref();
      worker.postMessage({ type: 'end', droppedLogs } satisfies ToReportThread);
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
  const [{ ReportBuilder }, { payloadHtml }] = await Promise.all([import('./model.ts'), import('./html.ts')]);
  const builder = new ReportBuilder({ columns: true });
  for (const [chunk, strings] of chunks) builder.add(chunk, strings);
  const { model, columns } = builder.payload(droppedLogs);
  return payloadHtml(model, columns);
}
