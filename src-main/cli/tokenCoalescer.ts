import type { EventName, EventPayload } from '#contract/api';
import { Throttler } from '../core/common/async';

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
  private readonly tokens: Throttler<TokenEvent>;

  constructor(
    private readonly deliver: Deliver,
    intervalMs = 16,
    now: () => number = () => performance.now(),
  ) {
    this.tokens = new Throttler((token) => this.deliver('chat.stream', token), {
      intervalMs,
      now,
      merge: (waiting, next) => ({ ...next, text: waiting.text + next.text }),
    });
  }

  push<N extends EventName>(name: N, payload: EventPayload<N>): void {
    const token = name === 'chat.stream' ? (payload as EventPayload<'chat.stream'>) : null;
    if (token?.type !== 'token') {
      this.flush();
      this.deliver(name, payload);
      return;
    }
    // Tokens of different replies are never merged.
    if (this.tokens.pending && this.tokens.pending.value.messageId !== token.messageId) this.flush();
    this.tokens.push(token);
  }

  flush(): void {
    this.tokens.flush();
  }
}
