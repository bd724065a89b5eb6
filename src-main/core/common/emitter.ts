/** Told when a listener throws (or an async listener rejects): the event and the error. */
export type ListenerErrorHandler = (error: unknown, event: string) => void;

const reportToConsole: ListenerErrorHandler = (error, event) => console.error(`[hearth error] a listener of ${event} failed`, error);

/**
 * A tiny typed event emitter; listeners get an unsubscribe function back. Each listener is
 * isolated: one that throws is reported to the error handler and never stops the listeners
 * after it nor reaches the code that emitted (a failing UI bridge must not end a chat reply).
 */
export class Emitter<Events extends Record<string, unknown>> {
  private readonly listeners = new Map<keyof Events, Set<(payload: never) => unknown>>();

  constructor(private readonly onListenerError: ListenerErrorHandler = reportToConsole) {}

  on<K extends keyof Events>(name: K, listener: (payload: Events[K]) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    set.add(listener as (payload: never) => void);
    return () => set.delete(listener as (payload: never) => void);
  }

  emit<K extends keyof Events>(name: K, payload: Events[K]): void {
    for (const listener of this.listeners.get(name) ?? []) {
      try {
        const result = (listener as (payload: Events[K]) => unknown)(payload);
        if (result instanceof Promise) result.catch((error: unknown) => this.report(error, name));
      } catch (error) {
        this.report(error, name);
      }
    }
  }

  private report(error: unknown, name: keyof Events): void {
    try {
      this.onListenerError(error, String(name));
    } catch {
      // The handler itself failed: there is nobody left to tell, and the emitter must go on.
    }
  }
}
