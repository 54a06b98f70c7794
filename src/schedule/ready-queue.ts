/**
 * The queue of task runs ready to start: higher priority first, first-in first-out within a
 * priority. Pure, no I/O.
 *
 * One FIFO bucket per distinct priority, read through a head index, and the priorities kept
 * sorted. Nearly every queue holds one or a few priorities, so push and pop cost O(1) and allocate
 * nothing per item; a binary heap, tried first, spent more time sifting and collecting its entry
 * objects than the engine spent on the tasks themselves.
 */
interface Bucket<T> {
  items: T[];
  head: number;
}

export class ReadyQueue<T> {
  readonly #buckets = new Map<number, Bucket<T>>();
  /** Priorities with a bucket, highest first. */
  readonly #order: number[] = [];
  #size = 0;

  get size(): number {
    return this.#size;
  }

  push(item: T, priority: number): void {
    let bucket = this.#buckets.get(priority);
    if (!bucket) {
      bucket = { items: [], head: 0 };
      this.#buckets.set(priority, bucket);
      let i = this.#order.length;
      while (i > 0 && (this.#order[i - 1] as number) < priority) i--;
      this.#order.splice(i, 0, priority);
    }
    bucket.items.push(item);
    this.#size++;
  }

  peek(): T | undefined {
    for (const priority of this.#order) {
      const bucket = this.#buckets.get(priority) as Bucket<T>;
      if (bucket.head < bucket.items.length) return bucket.items[bucket.head];
    }
    return undefined;
  }

  pop(): T | undefined {
    while (this.#order.length > 0) {
      const priority = this.#order[0] as number;
      const bucket = this.#buckets.get(priority) as Bucket<T>;
      if (bucket.head < bucket.items.length) {
        const item = bucket.items[bucket.head] as T;
        bucket.items[bucket.head++] = undefined as T; // let it be collected
        this.#size--;
        if (bucket.head === bucket.items.length) this.#drop(priority);
        else if (bucket.head > 1024 && bucket.head * 2 > bucket.items.length) this.#compact(bucket);
        return item;
      }
      this.#drop(priority);
    }
    return undefined;
  }

  /**
   * Removes and returns the first item, in queue order, that `fits`; the items passed over keep
   * their place. Used when the head waits for resources that a later item does not need.
   */
  popFirst(fits: (item: T) => boolean): T | undefined {
    for (const priority of this.#order) {
      const bucket = this.#buckets.get(priority) as Bucket<T>;
      for (let i = bucket.head; i < bucket.items.length; i++) {
        const item = bucket.items[i] as T;
        if (!fits(item)) continue;
        if (i === bucket.head) bucket.items[bucket.head++] = undefined as T;
        else bucket.items.splice(i, 1);
        this.#size--;
        if (bucket.head === bucket.items.length) this.#drop(priority);
        return item;
      }
    }
    return undefined;
  }

  /** Removes every item and returns them in queue order. */
  drain(): T[] {
    const out: T[] = [];
    for (const priority of this.#order) {
      const bucket = this.#buckets.get(priority) as Bucket<T>;
      for (let i = bucket.head; i < bucket.items.length; i++) out.push(bucket.items[i] as T);
    }
    this.#buckets.clear();
    this.#order.length = 0;
    this.#size = 0;
    return out;
  }

  #drop(priority: number): void {
    this.#buckets.delete(priority);
    this.#order.splice(this.#order.indexOf(priority), 1);
  }

  #compact(bucket: Bucket<T>): void {
    bucket.items = bucket.items.slice(bucket.head);
    bucket.head = 0;
  }
}
