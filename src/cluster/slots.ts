import { ResourcePool, type Resources } from '../schedule/resources.ts';

interface Waiter {
  readonly need: Resources;
  readonly wake: () => void;
}

/**
 * A worker's execution slots (`concurrency` tasks at once) and its declared resources, which a
 * running task holds. Waiters start in arrival order, except that one waiting for a busy resource
 * does not hold back one that needs none. Pure bookkeeping, no I/O.
 */
export class Slots {
  readonly #resources: ResourcePool;
  readonly #waiters: Waiter[] = [];
  #free: number;

  constructor(concurrency: number, resources: Resources) {
    this.#free = concurrency;
    this.#resources = new ResourcePool(resources);
  }

  /** Resolves once a slot and `need` are free, and takes them. */
  acquire(need: Resources): Promise<void> | undefined {
    // Waiters are woken on every release, so any still waiting lack a resource, not a slot: a task that fits now may go.
    if (this.#take(need)) return undefined;
    return new Promise((resolve) => this.#waiters.push({ need, wake: resolve }));
  }

  release(need: Resources): void {
    this.#free++;
    this.#resources.release(need);
    this.#wakeWaiters();
  }

  /** Gives up a slot for good while its task waits on nested work (`getClient()`), so the worker cannot deadlock on itself. */
  secede(): void {
    this.#free++;
    this.#wakeWaiters();
  }

  /** Takes a slot back when a seceded task ends (it may run over `concurrency` briefly; it already holds its resources). */
  rejoin(): void {
    this.#free--;
  }

  #take(need: Resources): boolean {
    if (this.#free <= 0 || !this.#resources.fits(need)) return false;
    this.#free--;
    this.#resources.acquire(need);
    return true;
  }

  #wakeWaiters(): void {
    for (let i = 0; i < this.#waiters.length && this.#free > 0; ) {
      const waiter = this.#waiters[i] as Waiter;
      if (this.#take(waiter.need)) {
        this.#waiters.splice(i, 1);
        waiter.wake();
      } else {
        i++;
      }
    }
  }
}
