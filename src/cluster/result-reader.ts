import * as v8 from 'node:v8';
import type { Redis } from './libs.ts';

/** List elements taken per blocking pop. */
const READ_BATCH = 1000;

/**
 * Reads a result list: blocking pops of up to a thousand elements at once (batching, not Redis,
 * is what makes small tasks fast), each a v8-serialized element (a session's list holds workers'
 * `WorkerBatch`es, a worker's answer list the flow's `NestedAnswers`), until stopped. It has its
 * own connection, since a blocking pop holds one.
 */
export class ResultReader {
  #done: Promise<void> = Promise.resolve();

  constructor(
    readonly redis: Redis,
    /** The list's key. */
    readonly key: string,
    /** Hears each element, deserialized (not checked: it may be another program's). */
    readonly onElement: (element: unknown) => void,
    /** Whether to stop (checked before each pop, and after a failed one). */
    readonly stopped: () => boolean,
    /**
     * Hears whether pops work: false when one fails, true when one succeeds again. On a Redis
     * Cluster the connection may stay up while the list's shard is gone (CLUSTERDOWN): failing pops
     * are how that shows.
     */
    readonly onHealth: (ok: boolean) => void = () => undefined,
  ) {}

  start(): void {
    this.#done = this.#read();
  }

  /** Resolves once the loop has ended (after `stopped()` turned true and the last pop returned). */
  get done(): Promise<void> {
    return this.#done;
  }

  async #read(): Promise<void> {
    let failing = false;
    while (!this.stopped()) {
      let reply: [Buffer, Buffer[]] | null;
      try {
        reply = await this.redis.blmpopBuffer(1, 1, this.key, 'LEFT', 'COUNT', READ_BATCH);
        if (failing) {
          failing = false;
          this.onHealth(true);
        }
      } catch {
        if (this.stopped()) return;
        if (!failing) {
          failing = true;
          this.onHealth(false);
        }
        await new Promise((r) => setTimeout(r, 50));
        continue;
      }
      if (!reply) continue;
      for (const element of reply[1]) {
        let decoded: unknown;
        try {
          decoded = v8.deserialize(element);
        } catch {
          continue;
        }
        this.onElement(decoded);
      }
    }
  }
}
