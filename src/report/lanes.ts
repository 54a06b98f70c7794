/**
 * The task stream's lanes: attempts packed onto worker slots, one attempt at a time in start order.
 * The model packs a finished log at once; the report thread packs as the log's chunks arrive
 * (model.ts), by the same {@link LanePacker}.
 * @module
 */
import { strOf } from './event-log.ts';
import type { Lane } from './model.ts';

/**
 * How far an attempt may start before the previous one on its lane ended: a `finished` event is
 * stamped a few event-loop turns after the worker freed its slot and began the next attempt. Such
 * an end, not measured where the attempt ran, is moved back to the next attempt's start on its
 * lane: a slot runs one attempt at a time.
 */
export const PACK_TOLERANCE_MS = 5;

/** The attempt columns a packer reads (and, for the end it moves back, writes). */
export interface PackedColumns {
  readonly worker: Int32Array;
  readonly start: Float64Array;
  readonly end: Float64Array;
  readonly measured: Uint8Array;
}

/**
 * One lane per worker slot: attempts of one worker that overlap in time go to different lanes,
 * each to the lowest lane free at its start (greedy interval partitioning: in start order this
 * uses the fewest lanes possible, the worker's peak concurrency). Lanes are ordered by worker, in
 * order of each worker's first attempt.
 *
 * {@link place} takes attempts in start order, each once its end is known. An attempt's end can
 * still move back to the start of the next attempt placed on its lane ({@link PACK_TOLERANCE_MS});
 * {@link settled} says when it no longer can. Every end moved is remembered, so {@link undo} puts
 * the columns back as they were (the report thread packs ahead of the log's end, and a start that
 * comes out of order sends it back to packing the whole log at once).
 */
export class LanePacker {
  /** By worker (its index in order of first attempt): each lane's end and last attempt. */
  readonly #ends: number[][] = [];
  readonly #last: number[][] = [];
  readonly #index = new Map<number, number>();
  /** Worker codes, by index. */
  readonly #workers: number[] = [];
  /** By attempt: its worker's index and its lane among that worker's. */
  #workerOf = new Int32Array(1024);
  #slotOf = new Int32Array(1024);
  /** By attempt: 1 once a later attempt was placed after it on its lane (its end can no longer move). */
  #followed = new Uint8Array(1024);
  /** Ends moved back: the attempt, and its end before. */
  readonly #movedAt: number[] = [];
  readonly #movedFrom: number[] = [];
  /** Attempts placed. */
  placed = 0;

  /** Places attempt `i` (after every attempt that started before it); may move back the end of the one before it on its lane. */
  place(a: PackedColumns, i: number): void {
    const w = a.worker[i]!;
    let wi = this.#index.get(w);
    if (wi === undefined) {
      wi = this.#workers.push(w) - 1;
      this.#index.set(w, wi);
      this.#ends.push([]);
      this.#last.push([]);
    }
    const ends = this.#ends[wi]!;
    const last = this.#last[wi]!;
    const start = a.start[i]!;
    let k = 0;
    while (k < ends.length && ends[k]! > start + (a.measured[last[k]!] ? 0 : PACK_TOLERANCE_MS)) k++;
    const previous = last[k];
    if (previous !== undefined) {
      this.#followed[previous] = 1;
      if (a.end[previous]! > start) {
        this.#movedAt.push(previous);
        this.#movedFrom.push(a.end[previous]!);
        a.end[previous] = start;
      }
    }
    ends[k] = Math.max(a.end[i]!, start);
    last[k] = i;
    if (i >= this.#slotOf.length) this.#grow(i);
    this.#workerOf[i] = wi;
    this.#slotOf[i] = k;
    this.placed++;
  }

  #grow(i: number): void {
    const size = Math.max(i + 1, this.#slotOf.length * 2);
    const wider = <T extends Int32Array | Uint8Array>(from: T, to: T): T => (to.set(from), to);
    this.#workerOf = wider(this.#workerOf, new Int32Array(size));
    this.#slotOf = wider(this.#slotOf, new Int32Array(size));
    this.#followed = wider(this.#followed, new Uint8Array(size));
  }

  /**
   * Whether placed attempt `i`'s end is final: a later attempt followed it on its lane, or it ends
   * no later than `nextStart`, the earliest start any attempt still to be placed can have.
   */
  settled(a: PackedColumns, i: number, nextStart: number): boolean {
    return this.#followed[i] === 1 || a.end[i]! <= nextStart;
  }

  /** Puts back every end {@link place} moved. */
  undo(a: PackedColumns): void {
    for (let j = this.#movedAt.length - 1; j >= 0; j--) a.end[this.#movedAt[j]!] = this.#movedFrom[j]!;
  }

  /** Every worker's lanes, in order of first attempt, and the first lane of each worker (by index). */
  lanes(strings: readonly string[]): { lanes: Lane[]; first: Int32Array } {
    const lanes: Lane[] = [];
    const first = new Int32Array(this.#workers.length);
    this.#workers.forEach((w, wi) => {
      first[wi] = lanes.length;
      for (let k = 0; k < this.#ends[wi]!.length; k++) lanes.push({ worker: strOf(strings, w) ?? '?', slot: k });
    });
    return { lanes, first };
  }

  /** Placed attempt `i`'s worker index and slot. */
  workerOf(i: number): number {
    return this.#workerOf[i]!;
  }
  slotOf(i: number): number {
    return this.#slotOf[i]!;
  }

  /** How many workers had an attempt. */
  get workers(): number {
    return this.#workers.length;
  }
}
