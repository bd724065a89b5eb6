import { HearthError } from '../common/hearthError';

/** Who asked for a generation: the UI's chats share one lane, each API client has its own. */
export type GenerationLane = string;

export const CHAT_LANE: GenerationLane = 'chat';

export interface GenerationQueueLimits {
  /** Generations run at once (one per context sequence the runtime offers); read at each turn. */
  concurrency: number | (() => number);
  /** API generations that may wait, all clients together; one more is refused with BUSY. */
  maxWaitingApi: number;
}

export const DEFAULT_QUEUE_LIMITS: GenerationQueueLimits = { concurrency: 1, maxWaitingApi: 32 };

interface Waiter {
  start(): void;
  bounded: boolean;
}

/**
 * The order in which replies use the model, shared by the UI's chats and API requests. Each
 * lane (the UI's chats, one per API client) queues its own requests in order; when the model
 * is free the lanes take turns (round robin), so a client sending 50 requests cannot starve a
 * chat or another client. The UI's chats are never refused (each chat writes one reply at a
 * time already); API requests beyond `maxWaitingApi` waiting are refused with BUSY at once,
 * and a request whose caller went away (its signal aborted) leaves the queue.
 */
export class GenerationQueue {
  private readonly lanes = new Map<GenerationLane, Waiter[]>();
  private running = 0;
  private waitingApi = 0;

  constructor(private readonly limits: GenerationQueueLimits = DEFAULT_QUEUE_LIMITS) {}

  private concurrency(): number {
    const { concurrency } = this.limits;
    return Math.max(1, typeof concurrency === 'function' ? concurrency() : concurrency);
  }

  /** How many generations wait and run now: for tests, the bench and the README's claims. */
  stats(): { running: number; waiting: number } {
    let waiting = 0;
    for (const queue of this.lanes.values()) waiting += queue.length;
    return { running: this.running, waiting };
  }

  /**
   * Runs `task` when its turn comes. `bounded` requests (the API's) are refused with BUSY when
   * too many wait; an aborted signal while waiting rejects with CANCELLED and frees the place.
   */
  async run<T>(lane: GenerationLane, task: () => Promise<T>, options: { signal?: AbortSignal; bounded?: boolean } = {}): Promise<T> {
    const { signal, bounded = false } = options;
    signal?.throwIfAborted();
    if (bounded && this.waitingApi >= this.limits.maxWaitingApi && this.running >= this.concurrency()) {
      throw new HearthError(
        'BUSY',
        `The model is busy: ${this.waitingApi} API requests are already waiting. Retry in a moment.`,
      );
    }
    await this.turn(lane, bounded, signal);
    try {
      return await task();
    } finally {
      this.running--;
      this.next();
    }
  }

  private turn(lane: GenerationLane, bounded: boolean, signal: AbortSignal | undefined): Promise<void> {
    if (this.running < this.concurrency() && this.lanes.size === 0) {
      this.running++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        bounded,
        start: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        const queue = this.lanes.get(lane);
        const index = queue?.indexOf(waiter) ?? -1;
        if (queue && index >= 0) {
          queue.splice(index, 1);
          if (queue.length === 0) this.lanes.delete(lane);
          if (bounded) this.waitingApi--;
        }
        reject(new HearthError('CANCELLED', 'The request was cancelled while it waited for the model.'));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      const queue = this.lanes.get(lane);
      if (queue) queue.push(waiter);
      else this.lanes.set(lane, [waiter]);
      if (bounded) this.waitingApi++;
    });
  }

  /** Starts the first waiter of the lane whose turn it is; that lane goes to the back. */
  private next(): void {
    while (this.running < this.concurrency()) {
      const first = this.lanes.entries().next();
      if (first.done) return;
      const [lane, queue] = first.value;
      const waiter = queue.shift()!;
      // Re-inserting moves the lane to the back of the Map's order: the lanes take turns.
      this.lanes.delete(lane);
      if (queue.length > 0) this.lanes.set(lane, queue);
      if (waiter.bounded) this.waitingApi--;
      this.running++;
      waiter.start();
    }
  }
}
