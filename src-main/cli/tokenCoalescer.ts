import type { EventName, EventPayload } from '#contract/api';

type Deliver = <N extends EventName>(name: N, payload: EventPayload<N>) => void;
type TokenEvent = Extract<EventPayload<'chat.stream'>, { type: 'token' }>;

/**
 * Merges a reply's token events into at most one WebSocket message per interval. A fast
 * model makes thousands of tokens a second; one frame (and one JSON.parse in the browser)
 * per token costs more than the UI gains, since it paints at most once a frame anyway.
 * The first token after a pause goes out at once, so time-to-first-token is untouched, and
 * any other event flushes what is pending first, so order is kept.
 */
export class TokenCoalescer {
  private pending: TokenEvent | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private lastSent = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly deliver: Deliver,
    private readonly intervalMs = 16,
    private readonly now: () => number = () => performance.now(),
  ) {}

  push<N extends EventName>(name: N, payload: EventPayload<N>): void {
    const token = name === 'chat.stream' ? (payload as EventPayload<'chat.stream'>) : null;
    if (token?.type !== 'token') {
      this.flush();
      this.deliver(name, payload);
      return;
    }
    if (this.pending && this.pending.messageId === token.messageId) {
      this.pending = { ...this.pending, text: this.pending.text + token.text };
      return;
    }
    this.flush();
    if (this.now() - this.lastSent >= this.intervalMs) {
      this.send(token);
      return;
    }
    this.pending = { ...token };
    this.timer ??= setTimeout(() => this.flush(), Math.max(0, this.lastSent + this.intervalMs - this.now()));
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const pending = this.pending;
    this.pending = null;
    if (pending) this.send(pending);
  }

  private send(token: TokenEvent): void {
    this.lastSent = this.now();
    this.deliver('chat.stream', token);
  }
}
