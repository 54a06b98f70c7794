import type { EventSink, WeftEventName, WeftEvents } from './events.ts';

export type Listener<E extends WeftEventName> = (event: WeftEvents[E]) => void;

/**
 * A typed, synchronous event emitter. A listener that throws does not break the engine or the
 * other listeners: its error is reported once on stderr.
 */
export class EventBus implements EventSink {
  readonly #listeners = new Map<WeftEventName, Listener<never>[]>();
  /** Buses this one forwards every event to (a subflow's bus forwards to its parent's). */
  readonly #forward: EventBus[] = [];

  /** Adds a listener; `first` puts it before those already there (a display that must clear itself first). */
  // on() and off() replace the list instead of changing it, so that an emit under way iterates the
  // list it started with: a listener removing itself does not make the next one miss the event,
  // and one added during an emit hears the next event, as with Node's EventEmitter.
  on<E extends WeftEventName>(name: E, listener: Listener<E>, options?: { first?: boolean }): () => void {
    const list = this.#listeners.get(name) ?? [];
    const added = listener as Listener<never>;
    this.#listeners.set(name, options?.first ? [added, ...list] : [...list, added]);
    return () => this.off(name, listener);
  }

  off<E extends WeftEventName>(name: E, listener: Listener<E>): void {
    const list = this.#listeners.get(name);
    if (!list) return;
    const i = list.indexOf(listener as Listener<never>);
    if (i >= 0) this.#listeners.set(name, [...list.slice(0, i), ...list.slice(i + 1)]);
  }

  /** Whether anything listens for `name`: emitters skip building events nobody reads. */
  has(name: WeftEventName): boolean {
    if ((this.#listeners.get(name)?.length ?? 0) > 0) return true;
    for (const bus of this.#forward) if (bus.has(name)) return true;
    return false;
  }

  emit<E extends WeftEventName>(name: E, event: WeftEvents[E]): void {
    const list = this.#listeners.get(name);
    if (list) {
      for (const listener of list) {
        try {
          (listener as Listener<E>)(event);
        } catch (error) {
          console.error(`weft: a '${name}' event listener threw; the run goes on:`, error);
        }
      }
    }
    for (const bus of this.#forward) bus.emit(name, event);
  }

  /** Sends every event emitted here on to `bus` as well. */
  forwardTo(bus: EventBus): void {
    this.#forward.push(bus);
  }
}
