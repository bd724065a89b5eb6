/**
 * The small async toolkit every service shares instead of hand-rolled promise chains and
 * timestamps: a Sequencer (one task at a time, in order), a KeyedSequencer (one such queue per
 * key), an IntervalGate (is it time yet?) and a Throttler (coalesces a burst of values into at
 * most one delivery per interval).
 */

type Task<T> = () => T | Promise<T>;

const ignore = (): void => undefined;

/**
 * Runs tasks one at a time, in the order they were queued. A task that fails rejects its own
 * promise and nothing else: the tasks after it still run.
 */
export class Sequencer {
  /** Settles (never rejects) once every task queued so far has settled. */
  private tail: Promise<void> = Promise.resolve();

  queue<T>(task: Task<T>): Promise<T> {
    const run = this.tail.then(task);
    this.tail = run.then(ignore, ignore);
    return run;
  }

  /** Resolves once every task queued so far has finished, failed or not; never rejects. */
  settled(): Promise<void> {
    return this.tail;
  }
}

/**
 * One Sequencer per key: tasks for the same key run one at a time in call order, tasks for
 * different keys run independently. A key whose queue has drained is forgotten.
 */
export class KeyedSequencer<K> {
  private readonly tails = new Map<K, Promise<void>>();

  queue<T>(key: K, task: Task<T>): Promise<T> {
    const run = (this.tails.get(key) ?? Promise.resolve()).then(task);
    const tail = run.then(ignore, ignore);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return run;
  }

  /** Whether a task for the key is running or waiting. */
  has(key: K): boolean {
    return this.tails.has(key);
  }

  /** Resolves once every task queued so far for the key has settled; never rejects. */
  settled(key: K): Promise<void> {
    return this.tails.get(key) ?? Promise.resolve();
  }
}

/**
 * Lets a call through at most once per interval: "is it time to redraw / save / send again?".
 * What to do with the calls turned away (drop them, keep the newest) is the caller's choice;
 * Throttler keeps the newest.
 */
export class IntervalGate {
  private last = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether a whole interval has passed since the last pass (always, before the first). */
  ready(): boolean {
    return this.now() - this.last >= this.intervalMs;
  }

  /** Records a pass now: the next one is ready an interval later. */
  pass(): void {
    this.last = this.now();
  }

  /** Passes (and records it) when ready, or always when forced; says whether it passed. */
  tryPass(force = false): boolean {
    if (!force && !this.ready()) return false;
    this.pass();
    return true;
  }

  /** Milliseconds until the gate is ready again (0 when it is). */
  remainingMs(): number {
    return Math.max(0, this.last + this.intervalMs - this.now());
  }
}

export interface ThrottlerOptions<T> {
  intervalMs: number;
  /** How a value pushed while another waits joins it; by default the newer replaces the older. */
  merge?: (waiting: T, next: T) => T;
  /** Deliver at once when an interval has passed since the last delivery (default true); false: every burst waits an interval. */
  leading?: boolean;
  /** Deliver a waiting value by timer when its interval ends (default true); false: it waits for the next push or flush(). */
  trailing?: boolean;
  now?: () => number;
}

/**
 * Coalesces rapid pushes into at most one delivery per interval, keeping the last value of a
 * burst (merged, when a merge is given) so nothing pushed is lost, only combined. The timer
 * never keeps the process alive; dispose() drops what waits and ignores later pushes.
 */
export class Throttler<T> {
  private readonly gate: IntervalGate;
  private readonly merge: (waiting: T, next: T) => T;
  private readonly leading: boolean;
  private readonly trailing: boolean;
  private waiting: { value: T } | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private disposed = false;

  constructor(
    private readonly deliver: (value: T) => void,
    private readonly options: ThrottlerOptions<T>,
  ) {
    this.gate = new IntervalGate(options.intervalMs, options.now);
    this.merge = options.merge ?? ((_waiting, next) => next);
    this.leading = options.leading ?? true;
    this.trailing = options.trailing ?? true;
  }

  /** The value waiting to be delivered, if any. */
  get pending(): { readonly value: T } | null {
    return this.waiting;
  }

  push(value: T): void {
    if (this.disposed) return;
    this.waiting = this.waiting ? { value: this.merge(this.waiting.value, value) } : { value };
    if (this.leading && this.gate.ready()) {
      this.flush();
      return;
    }
    if (this.trailing && !this.timer) {
      this.timer = setTimeout(() => this.flush(), this.leading ? this.gate.remainingMs() : this.options.intervalMs);
      this.timer.unref?.();
    }
  }

  /** Delivers the waiting value now, if there is one. */
  flush(): void {
    this.clearTimer();
    const waiting = this.waiting;
    this.waiting = null;
    if (!waiting) return;
    this.gate.pass();
    this.deliver(waiting.value);
  }

  /** Drops the waiting value and the timer; pushes after this are ignored. */
  dispose(): void {
    this.disposed = true;
    this.waiting = null;
    this.clearTimer();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
