import type { ServerResponse } from 'node:http';
import { IntervalGate } from '../../core/common/async';

/** How long a burst of events gathers before it is written: a fast model's tokens share a write. */
export const SSE_WINDOW_MS = 8;

interface PendingEvent {
  data: unknown;
  event: string | undefined;
}

/**
 * A server-sent event stream: headers go out with the first event (so an error found before
 * it still gets a proper status), each event is one `data:` line (with `event:` where the API
 * names its events).
 *
 * Events are not written as they are sent. A model that writes a token a millisecond calls
 * `send` from inside node-llama-cpp's generation loop, and what is done there (JSON, the HTTP
 * chunk, the write syscall, the client waking up) is done between two tokens' decodes, per
 * token. So events wait, unserialised, and go out together in one socket write:
 * - after the event loop's work already queued: node-llama-cpp dispatches the next decode with
 *   setImmediate once a token is handled, and a setImmediate queued in turn by a setImmediate
 *   runs after it, so the write overlaps the decode instead of preceding it;
 * - at most once per window (SSE_WINDOW_MS): the first event after a pause goes out at once
 *   (the next turn), the rest of a fast burst is written when the window ends (after the
 *   queued work as well);
 * - `end` writes what waits at once, so the last token is never held back.
 * The client sees the same events, each its own `data:` event, in the same order.
 */
export class SseStream {
  private opened = false;
  private pending: PendingEvent[] = [];
  /** Whether what waits holds more than opening events (see `announce`). */
  private burst = false;
  private scheduled = false;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly gate: IntervalGate;

  constructor(
    private readonly res: ServerResponse,
    windowMs = SSE_WINDOW_MS,
  ) {
    this.gate = new IntervalGate(windowMs, () => performance.now());
  }

  get started(): boolean {
    return this.opened;
  }

  /** An event of the reply: written with the others of its window. */
  send(data: unknown, event?: string): void {
    if (!this.enqueue(data, event)) return;
    this.burst = true;
    if (this.scheduled || this.timer) return;
    if (this.gate.ready()) this.afterQueuedWork();
    else this.timer = setTimeout(this.windowEnded, this.gate.remainingMs());
  }

  /**
   * The reply's opening event (OpenAI's role chunk, Anthropic's message_start), sent before the
   * prompt is evaluated: written at once, and it opens no window, so the first token is not held
   * back behind it.
   */
  announce(data: unknown, event?: string): void {
    if (!this.enqueue(data, event)) return;
    if (!this.scheduled && !this.timer) this.afterQueuedWork();
  }

  end(): void {
    this.open();
    this.cancel();
    if (this.res.writableEnded) return;
    const text = this.take();
    if (text && !this.res.destroyed) this.res.end(text);
    else this.res.end();
  }

  private enqueue(data: unknown, event: string | undefined): boolean {
    this.open();
    if (this.closed()) return false;
    this.pending.push({ data, event });
    return true;
  }

  /** The window's end writes after the queued work too: a decode that just ended is dispatched first. */
  private readonly windowEnded = (): void => {
    this.timer = null;
    this.afterQueuedWork();
  };

  private afterQueuedWork(): void {
    this.scheduled = true;
    setImmediate(() => setImmediate(this.flush));
  }

  private readonly flush = (): void => {
    this.cancel();
    if (this.burst) this.gate.pass();
    const text = this.take();
    if (text && !this.closed()) this.res.write(text);
  };

  private cancel(): void {
    // A scheduled setImmediate finds nothing waiting; a timer is cleared.
    this.scheduled = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  /** What waits, serialised as its events, and forgotten. */
  private take(): string {
    this.burst = false;
    if (this.pending.length === 0) return '';
    let text = '';
    for (const { data, event } of this.pending) {
      text += `${event ? `event: ${event}\n` : ''}data: ${typeof data === 'string' ? data : JSON.stringify(data)}\n\n`;
    }
    this.pending = [];
    return text;
  }

  private closed(): boolean {
    return this.res.writableEnded || this.res.destroyed;
  }

  private open(): void {
    if (this.opened) return;
    this.opened = true;
    this.res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    this.res.flushHeaders();
  }
}
