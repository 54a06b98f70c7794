/**
 * The queue of task runs ready to start: higher priority first, first-in first-out within a
 * priority. A binary heap; pure, no I/O.
 */
export class ReadyQueue<T> {
  readonly #heap: { item: T; priority: number; seq: number }[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(item: T, priority: number): void {
    this.#reinsert({ item, priority, seq: this.#seq++ });
  }

  peek(): T | undefined {
    return this.#heap[0]?.item;
  }

  pop(): T | undefined {
    const heap = this.#heap;
    const top = heap[0];
    if (!top) return undefined;
    const last = heap.pop() as (typeof heap)[number];
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let best = i;
        if (l < heap.length && this.#before(l, best)) best = l;
        if (r < heap.length && this.#before(r, best)) best = r;
        if (best === i) break;
        this.#swap(i, best);
        i = best;
      }
    }
    return top.item;
  }

  /**
   * Removes and returns the first item, in queue order, that `fits`; the items passed over keep
   * their place. Used when the head waits for resources that a later item does not need.
   */
  popFirst(fits: (item: T) => boolean): T | undefined {
    const skipped: { item: T; priority: number; seq: number }[] = [];
    let found: T | undefined;
    while (this.#heap.length > 0) {
      const entry = this.#heap[0] as { item: T; priority: number; seq: number };
      this.pop();
      if (fits(entry.item)) {
        found = entry.item;
        break;
      }
      skipped.push(entry);
    }
    for (const entry of skipped) this.#reinsert(entry);
    return found;
  }

  /** Removes every item and returns them in queue order. */
  drain(): T[] {
    const out: T[] = [];
    while (this.#heap.length > 0) out.push(this.pop() as T);
    return out;
  }

  #reinsert(entry: { item: T; priority: number; seq: number }): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#before(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #before(a: number, b: number): boolean {
    const x = this.#heap[a] as { priority: number; seq: number };
    const y = this.#heap[b] as { priority: number; seq: number };
    return x.priority > y.priority || (x.priority === y.priority && x.seq < y.seq);
  }

  #swap(a: number, b: number): void {
    const heap = this.#heap;
    const t = heap[a] as (typeof heap)[number];
    heap[a] = heap[b] as (typeof heap)[number];
    heap[b] = t;
  }
}
