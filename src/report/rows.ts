/**
 * A block of event-log rows: every column of `capacity` rows as views over one `ArrayBuffer`, so
 * a full block crosses to the report thread as one transfer (no copy) and a fresh one is a single
 * allocation. 50 bytes a row: three Float64 columns, six Int32, two of one byte.
 * @module
 */

/**
 * Rows of a full chunk (0.8 MB). Small enough that the partial chunk left at a run's end pairs in
 * a few ms; large enough that a 100,000-run log (300,000 rows) is 19 messages.
 */
export const CHUNK_ROWS = 16_384;
/** Bytes per row, over all columns. */
export const ROW_BYTES = 3 * 8 + 6 * 4 + 2;

/** Column names, in the order a run log stores them (run-log.ts). */
export const COLUMNS = ['kind', 'time', 'flow', 'task', 'name', 'worker', 'x', 'state', 'y', 'd', 'm'] as const;
export type ColumnName = (typeof COLUMNS)[number];

/** See {@link EventLog} for what each column holds. */
export interface Chunk {
  /** Rows filled. */
  length: number;
  readonly capacity: number;
  readonly buffer: ArrayBuffer;
  readonly time: Float64Array;
  readonly y: Float64Array;
  readonly d: Float64Array;
  readonly flow: Int32Array;
  readonly task: Int32Array;
  readonly name: Int32Array;
  readonly worker: Int32Array;
  readonly x: Int32Array;
  readonly m: Int32Array;
  readonly kind: Uint8Array;
  readonly state: Int8Array;
}

/** A new empty chunk of `capacity` rows. */
export function newChunk(capacity: number): Chunk {
  return chunkOver(new ArrayBuffer(capacity * ROW_BYTES), 0);
}

/** The chunk whose columns live in `buffer` (one {@link newChunk} made, e.g. after a transfer), `length` rows filled. */
export function chunkOver(buffer: ArrayBuffer, length: number): Chunk {
  const capacity = buffer.byteLength / ROW_BYTES;
  const f64 = (k: number) => new Float64Array(buffer, k * 8 * capacity, capacity);
  const i32 = (k: number) => new Int32Array(buffer, 24 * capacity + k * 4 * capacity, capacity);
  return {
    length, capacity, buffer,
    time: f64(0), y: f64(1), d: f64(2),
    flow: i32(0), task: i32(1), name: i32(2), worker: i32(3), x: i32(4), m: i32(5),
    kind: new Uint8Array(buffer, 48 * capacity, capacity), state: new Int8Array(buffer, 49 * capacity, capacity),
  };
}

/** A chunk of `capacity` rows holding `from`'s rows (growing a chunk that is not full size yet). */
export function regrow(from: Chunk, capacity: number): Chunk {
  const to = newChunk(capacity);
  for (const c of COLUMNS) to[c].set(from[c].subarray(0, from.length));
  to.length = from.length;
  return to;
}
