import * as v8 from 'node:v8';
import { serialize } from '../protocol/serialize.ts';
import type { ResolvedTaskOptions } from '../core/options.ts';
import type { TaskRef } from '../protocol/task-ref.ts';
import type { BatchPayload, TaskWire } from './protocol.ts';

/**
 * A batch as it is stored in a BullMQ job: what its runs share is written once. A job's runs
 * share their flow run and, in a map, their task and options, yet a structured clone writes every
 * property name and string again for each run (about 107 bytes for a no-op run, 36 of them its
 * flow run's id): here a run is its id, three indexes into the batch's tables and its arguments
 * (about 15 bytes), and the job's base64 JSON string, its socket write, Redis's copy and the
 * worker's decoding shrink with it. Tables dedupe by identity (the engine hands a map's runs one
 * options object and one ref); `runs` holds {@link FIELDS} entries per run.
 */
interface StoredBatch {
  readonly channel: string;
  readonly crashes: number;
  readonly allowedFailures: number;
  readonly flows: readonly string[];
  readonly refs: readonly TaskRef[];
  readonly options: readonly ResolvedTaskOptions[];
  /** Per run: task run id, flow index, ref index, options index, args. */
  readonly runs: readonly unknown[];
}

const FIELDS = 5;

/** The fields of a task run that go in a job (its wire form, or a record that is one). */
type RunFields = Pick<TaskWire, 'taskRunId' | 'flowRunId' | 'ref' | 'options' | 'args'>;

/** A batch payload as BullMQ job data: v8 of its {@link StoredBatch}, as base64 (BullMQ stores job data as JSON). Throws SerializationError (path 'job') if a value cannot be cloned. */
export function encodeJob(payload: Omit<BatchPayload, 'tasks'>, tasks: readonly RunFields[]): string {
  const flows = new Tables<string>();
  const refs = new Tables<TaskRef>();
  const options = new Tables<ResolvedTaskOptions>();
  // Pushed, not `new Array(n)`: a holey array is cloned as a sparse one, an index before each element.
  const runs: unknown[] = [];
  for (const t of tasks) runs.push(t.taskRunId, flows.index(t.flowRunId), refs.index(t.ref), options.index(t.options), t.args);
  const stored: StoredBatch = { channel: payload.channel, crashes: payload.crashes, allowedFailures: payload.allowedFailures, flows: flows.list, refs: refs.list, options: options.list, runs };
  return serialize(stored, 'job').toString('base64');
}

/** The batch payload of a job's data (from {@link encodeJob}). */
export function decodeJob(data: string): BatchPayload {
  const stored = v8.deserialize(Buffer.from(data, 'base64')) as StoredBatch | BatchPayload;
  if ('tasks' in stored) return stored; // a job of an older client: the payload as it was
  const { flows, refs, options, runs } = stored;
  const tasks: TaskWire[] = new Array(runs.length / FIELDS);
  for (let i = 0, k = 0; k < runs.length; i++, k += FIELDS) {
    tasks[i] = {
      taskRunId: runs[k] as string, flowRunId: flows[runs[k + 1] as number] as string, ref: refs[runs[k + 2] as number] as TaskRef,
      options: options[runs[k + 3] as number] as ResolvedTaskOptions, args: runs[k + 4] as unknown[],
    };
  }
  return { channel: stored.channel, crashes: stored.crashes, allowedFailures: stored.allowedFailures, tasks };
}

/** A table of distinct values in first-seen order, each found by identity. */
class Tables<T> {
  readonly list: T[] = [];
  #last: T | undefined;
  #lastIndex = -1;
  readonly #seen = new Map<T, number>();

  index(value: T): number {
    // Runs of one map come in a row with the same values: most lookups end here.
    if (value === this.#last && this.#lastIndex >= 0) return this.#lastIndex;
    let i = this.#seen.get(value);
    if (i === undefined) {
      i = this.list.push(value) - 1;
      this.#seen.set(value, i);
    }
    this.#last = value;
    this.#lastIndex = i;
    return i;
  }
}
