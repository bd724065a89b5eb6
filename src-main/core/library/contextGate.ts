/** Who asks for a context: a search or a request someone waits on ('high'), or background indexing ('low'). */
export type GatePriority = 'high' | 'low';

export interface SlotLease {
  /** Which slot (embedding context) is lent: 0 to capacity − 1. */
  readonly slot: number;
  /** Gives the slot back; calling it twice does nothing. */
  release(): void;
}

/**
 * Lends N interchangeable slots (the embedding contexts), one at a time per caller, waiting
 * high-priority callers before low ones, and lends all of them at once to one caller that must
 * have them to itself (loading, swapping or unloading the model). While someone waits for all,
 * freed slots are held for it, so it cannot be starved by a stream of single leases.
 */
export class ContextGate {
  private size: number;
  private free: number[];
  private readonly waiting: Record<GatePriority, ((slot: number) => void)[]> = { high: [], low: [] };
  private readonly exclusive: (() => void)[] = [];
  private held = false;

  constructor(size = 1) {
    this.size = size;
    this.free = range(size);
  }

  /** Slots there are now. */
  get capacity(): number {
    return this.size;
  }

  /** Callers waiting for a slot, by priority. */
  waitingCount(priority: GatePriority): number {
    return this.waiting[priority].length;
  }

  acquire(priority: GatePriority): Promise<SlotLease> {
    return new Promise((resolve) => {
      this.waiting[priority].push((slot) => resolve(this.lease(slot)));
      this.dispatch();
    });
  }

  /**
   * Every slot, once each is free. The returned function gives them back; with `size` the gate
   * has that many slots from then on (a model with another number of contexts was loaded).
   */
  acquireAll(): Promise<(size?: number) => void> {
    return new Promise((resolve) => {
      this.exclusive.push(() => {
        let released = false;
        resolve((size) => {
          if (released) return;
          released = true;
          if (size !== undefined) {
            this.size = size;
            this.free = range(size);
          }
          this.held = false;
          this.dispatch();
        });
      });
      this.dispatch();
    });
  }

  /** More slots: `count` contexts were added after the ones there are. */
  grow(count: number): void {
    for (let i = 0; i < count; i++) this.free.push(this.size++);
    this.dispatch();
  }

  private lease(slot: number): SlotLease {
    let released = false;
    return {
      slot,
      release: () => {
        if (released) return;
        released = true;
        this.free.push(slot);
        this.dispatch();
      },
    };
  }

  private dispatch(): void {
    if (this.held) return;
    if (this.exclusive.length > 0) {
      if (this.free.length < this.size) return;
      this.held = true;
      this.exclusive.shift()!();
      return;
    }
    while (this.free.length > 0) {
      const next = this.waiting.high.shift() ?? this.waiting.low.shift();
      if (!next) return;
      // The lowest free slot first: a lone search always lands on the first context.
      this.free.sort((a, b) => a - b);
      next(this.free.shift()!);
    }
  }
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}
