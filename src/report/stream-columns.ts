/**
 * The task stream as the report's payload stores it: varint columns, each attempt appended in
 * start order. The HTML of a finished model appends its stream's attempts (html.ts); the report
 * thread appends each attempt as soon as it is final, while the run goes on (model.ts), so at the
 * run's end only the lanes column is left to write.
 * @module
 */

/** A growing byte buffer of LEB128 varints. */
export class Varints {
  #buf = new Uint8Array(1 << 16);
  length = 0;
  push(value: number): void {
    let v = Math.max(0, Math.round(value));
    if (this.length + 8 > this.#buf.length) {
      const b = new Uint8Array(this.#buf.length * 2);
      b.set(this.#buf);
      this.#buf = b;
    }
    while (v >= 128) {
      this.#buf[this.length++] = (v % 128) | 128;
      v = Math.floor(v / 128);
    }
    this.#buf[this.length++] = v;
  }
  zigzag(value: number): void {
    this.push(value < 0 ? -2 * value - 1 : 2 * value);
  }
  bytes(): Uint8Array {
    return this.#buf.subarray(0, this.length);
  }
}

const us = (ms: number) => ms * 1000;

/**
 * Columns, one after another, each attempt in start order: start − previous start (µs), duration
 * (µs), name, lane, state + 8 × attempt, wait (µs), and the task run: its number `n` of
 * `${name}-${n}`, delta-coded per name, or its index (into the payload's `ids`, every run's id)
 * when some id does not have that form.
 *
 * A lane is appended as (group, slot) and written at the end as `first[group] + slot`: the report
 * thread knows an attempt's worker and slot when the attempt is final, but not yet how many lanes
 * the workers before it will have.
 */
export class StreamColumns {
  readonly #start = new Varints();
  readonly #duration = new Varints();
  readonly #name = new Varints();
  readonly #state = new Varints();
  readonly #wait = new Varints();
  /** Run numbers, delta-coded per name; given up at the first run without a number. */
  readonly #number = new Varints();
  #numbered = true;
  #lastNumber = new Int32Array(64);
  #group = new Int32Array(1024);
  #slot = new Int32Array(1024);
  #run = new Int32Array(1024);
  #previous = 0;
  length = 0;

  /**
   * Appends an attempt. `start`/`end`: ms from the run's start (the end no earlier than the
   * start); `runNumber`: its run's `n`, or -1 when its id has another form.
   */
  push(start: number, end: number, name: number, group: number, slot: number, state: number, attempt: number, wait: number, run: number, runNumber: number): void {
    const startUs = Math.round(us(start));
    this.#start.push(startUs - this.#previous);
    this.#previous = startUs;
    // Durations from the rounded starts, so the page's end times match the model's to the µs.
    this.#duration.push(Math.round(us(end)) - startUs);
    this.#name.push(name);
    this.#state.push(state + 8 * attempt);
    this.#wait.push(us(wait));
    const j = this.length++;
    if (j === this.#run.length) this.#grow();
    this.#group[j] = group;
    this.#slot[j] = slot;
    this.#run[j] = run;
    if (runNumber < 0) this.#numbered = false;
    if (!this.#numbered) return;
    if (name >= this.#lastNumber.length) {
      const wider = new Int32Array(Math.max(name + 1, this.#lastNumber.length * 2));
      wider.set(this.#lastNumber);
      this.#lastNumber = wider;
    }
    this.#number.zigzag(runNumber - this.#lastNumber[name]!);
    this.#lastNumber[name] = runNumber;
  }

  #grow(): void {
    const wider = (from: Int32Array) => {
      const to = new Int32Array(from.length * 2);
      to.set(from);
      return to;
    };
    this.#group = wider(this.#group);
    this.#slot = wider(this.#slot);
    this.#run = wider(this.#run);
  }

  /**
   * The columns' bytes, in order. `first`: each group's first lane. `numbered`: whether every task
   * run (started or not) has a number, so the runs column is the numbers, else the indices.
   */
  bytes(first: Int32Array, numbered: boolean): Uint8Array[] {
    const lanes = new Varints();
    for (let j = 0; j < this.length; j++) lanes.push(first[this.#group[j]!]! + this.#slot[j]!);
    let runs = this.#number;
    if (!numbered || !this.#numbered) {
      runs = new Varints();
      for (let j = 0; j < this.length; j++) runs.push(this.#run[j]!);
    }
    return [this.#start.bytes(), this.#duration.bytes(), this.#name.bytes(), lanes.bytes(), this.#state.bytes(), this.#wait.bytes(), runs.bytes()];
  }
}
