import * as v8 from 'node:v8';
import { ClusterConnectionError, UsageError } from '../errors.ts';
import type { Cancellation } from '../core/run-signal.ts';
import type { SubmittedResult, WireTaskDef } from '../protocol/messages.ts';
import { decodeValue, encodeArgs, encodeValue } from '../protocol/prototypes.ts';
import { explain } from '../protocol/serialize.ts';
import { localArgs, localValue, portableArgs, portableValue } from '../protocol/portable-classes.ts';
import { fromWireError, toWireError } from '../protocol/wire-error.ts';
import type { Redis } from './libs.ts';
import { duplicate } from './connection.ts';
import type { NestedAnswers, NestedSubmit, WorkerBatch } from './protocol.ts';
import { deliver, KEY_TTL_S } from './outbox.ts';
import { keys } from './queues.ts';
import { ResultReader } from './result-reader.ts';

/**
 * Nested submission on a cluster (`getClient()` in a task on a cluster worker), as on threads and
 * processes: the worker asks the flow's process, on the flow run's own result channel, to submit
 * the task run; the flow run records it and runs it on its runner (the same cluster), and answers
 * on the worker's answer channel. So nested runs are part of the flow run: in its record, on its
 * event stream, cancelled with it.
 *
 * @module
 */

/** A worker's end: sends its tasks' submissions to their flow runs and waits for the answers. */
export class NestedRequests {
  /** The answer channel of this worker process. */
  readonly channel: string;
  readonly #waiting = new Map<number, { resolve: (value: unknown) => void; reject: (error: Error) => void }>();
  #next = 1;
  #reader: ResultReader | undefined;
  #connection: Redis | undefined;
  #closed = false;

  constructor(
    readonly redis: Redis,
    readonly prefix: string,
    readonly workerId: string,
    /** The address as shown in errors. */
    readonly display: string,
    /** The worker's project root: marked classes are named from it across hosts (portable-classes.ts). */
    readonly root: string,
  ) {
    this.channel = `nested-${workerId}`;
  }

  /**
   * Asks the flow run whose results go to `channel` to run `task` with `args`; resolves its value,
   * or rejects as `future.result()` does there (TaskRunError). Rejects with the parent's cancel
   * reason if `parent` is cancelled meanwhile.
   */
  submit(channel: string, parentTaskRunId: string, task: WireTaskDef, args: unknown[], parent: Cancellation): Promise<unknown> {
    if (this.#closed) return Promise.reject(new UsageError(`The cluster worker ${this.workerId} is closing: task run '${parentTaskRunId}' cannot submit more work.`));
    this.#listen();
    return new Promise((resolve, reject) => {
      const requestId = this.#next++;
      let element: Buffer;
      try {
        const encoded = portableArgs(encodeArgs(args), this.root);
        const submit: NestedSubmit = { requestId, parentTaskRunId, task, args: encoded, replyTo: this.channel };
        try {
          element = v8.serialize({ workerId: this.workerId, events: [], submits: [submit] } satisfies WorkerBatch);
        } catch (error) {
          throw explain(encoded, 'args', error);
        }
      } catch (error) {
        reject(error as Error);
        return;
      }
      const onCancel = () => settle(() => reject(parent.reason as Error));
      const settle = (then: () => void) => {
        if (!this.#waiting.delete(requestId)) return;
        parent.signal.removeEventListener('abort', onCancel);
        then();
      };
      this.#waiting.set(requestId, { resolve: (v) => settle(() => resolve(v)), reject: (e) => settle(() => reject(e)) });
      if (parent.aborted) return onCancel();
      parent.signal.addEventListener('abort', onCancel, { once: true });
      deliver(this.redis, this.prefix, channel, element).then((delivered) => {
        if (!delivered) this.#waiting.get(requestId)?.reject(new UsageError(`Task run '${parentTaskRunId}' submitted '${task.options.name}' after its flow run's session closed: nothing can run it now.`));
      }, (error: unknown) => {
        this.#waiting.get(requestId)?.reject(new ClusterConnectionError(this.display, `sending a nested submission of '${task.options.name}' failed: ${(error as Error).message}`, error));
      });
    });
  }

  /** Stops listening; what still waits rejects. */
  async close(): Promise<void> {
    this.#closed = true;
    const error = new UsageError(`The cluster worker ${this.workerId} closed while a task waited on work it submitted through getClient().`);
    for (const w of [...this.#waiting.values()]) w.reject(error);
    if (!this.#connection) return;
    await this.redis.del(keys.open(this.prefix, this.channel), keys.results(this.prefix, this.channel)).catch(() => undefined);
    this.#connection.disconnect();
    await this.#reader?.done;
  }

  #listen(): void {
    // The answer channel is open while this worker listens (answers to a closed one are dropped, as results are).
    void this.redis.set(keys.open(this.prefix, this.channel), '1', 'EX', KEY_TTL_S).catch(() => undefined);
    if (this.#reader) return;
    this.#connection = duplicate(this.redis);
    this.#reader = new ResultReader(this.#connection, keys.results(this.prefix, this.channel), (element) => this.#onAnswers(element), () => this.#closed);
    this.#reader.start();
  }

  #onAnswers(element: unknown): void {
    const answers = (element as NestedAnswers | undefined)?.answers;
    if (!Array.isArray(answers)) return;
    for (const answer of answers as SubmittedResult[]) {
      const waiting = this.#waiting.get(answer.requestId);
      if (!waiting) continue;
      if (answer.state === 'Failed') {
        waiting.reject(fromWireError(answer.error));
        continue;
      }
      try {
        const value = decodeValue(localValue(answer.value, this.root), 'result');
        if (value instanceof Promise) value.then(waiting.resolve, waiting.reject);
        else waiting.resolve(value);
      } catch (error) {
        waiting.reject(error as Error);
      }
    }
  }
}

/** What the flow's side needs to answer a submission: its parent's run, if still pending. */
export type NestedParent = { readonly submitNested?: (task: WireTaskDef, args: unknown[]) => Promise<unknown> } | undefined;

/**
 * The flow's end: submits a worker's nested task run to the flow run (through the parent's job,
 * as RemoteHandle does for threads and processes) and answers on the worker's answer channel.
 */
export function answerNested(redis: Redis, prefix: string, submit: NestedSubmit, parent: NestedParent, root: string): void {
  const reply = (answer: SubmittedResult) => {
    let element: Buffer;
    try {
      element = v8.serialize({ answers: [answer] } satisfies NestedAnswers);
    } catch (error) {
      element = v8.serialize({ answers: [{ type: 'submitted', requestId: submit.requestId, state: 'Failed', error: toWireError(explain(answer, 'result', error)) }] } satisfies NestedAnswers);
    }
    deliver(redis, prefix, submit.replyTo, element).catch(() => undefined); // Redis gone: the session fails everything
  };
  const failed = (error: unknown) => reply({ type: 'submitted', requestId: submit.requestId, state: 'Failed', error: toWireError(error) });
  if (!parent?.submitNested) {
    // Its task ended (cancelled, say) while the request was on its way: nothing waits for the answer.
    failed(new UsageError(`Task run '${submit.parentTaskRunId}' submitted a task after it ended.`));
    return;
  }
  parent.submitNested(submit.task, localArgs(submit.args as unknown[], root)).then((value) => {
    let encoded: unknown;
    try {
      encoded = encodeValue(value, 'result');
    } catch (error) {
      return failed(error);
    }
    reply({ type: 'submitted', requestId: submit.requestId, state: 'Completed', value: portableValue(encoded, root) });
  }, failed);
}
