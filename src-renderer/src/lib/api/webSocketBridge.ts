import type { CallInput, CallName, CallOutput, EventName, EventPayload } from '#contract/api';
import type { HearthBridge, WireMessage, WireRequest } from '#contract/client';
import type { ErrorData, Result } from '#contract/errors';

/**
 * connecting: the first attempt; open; reconnecting: lost, trying again (a server restart
 * takes a few seconds); disconnected: still down after disconnectedAfterMs (still retrying).
 */
export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'disconnected';

export interface ConnectionMonitor {
  readonly state: ConnectionState;
  /** Calls the listener now and on every change; returns an unsubscribe function. */
  subscribe(listener: (state: ConnectionState) => void): () => void;
}

export interface WebSocketBridgeOptions {
  /** Injected for tests; the browser's WebSocket otherwise. */
  createSocket?: (url: string) => WebSocket;
  /** Backoff bounds in ms. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** A call still unsent after this long fails instead of waiting forever for a server. */
  queueTimeoutMs?: number;
  /** How long the connection may be down before it counts as disconnected rather than reconnecting. */
  disconnectedAfterMs?: number;
}

/** The messages are details; the UI shows its own sentence for CONNECTION_LOST, which fits the host. */
const LOST: ErrorData = { code: 'CONNECTION_LOST', message: 'The connection dropped while this was running; it may or may not have finished.' };
const UNREACHABLE: ErrorData = { code: 'CONNECTION_LOST', message: 'No answer from the Hearth server.' };

interface Queued {
  request: WireRequest;
  resolve: (result: Result<unknown>) => void;
  timer: ReturnType<typeof setTimeout>;
}

/**
 * The contract over a WebSocket, for the browser build served by `hearth serve`. Calls made
 * while the socket is down wait in a queue; calls in flight when it drops fail (the server
 * may or may not have run them, so they are not retried). Reconnects with capped backoff.
 */
export class WebSocketBridge implements HearthBridge, ConnectionMonitor {
  private socket: WebSocket | null = null;
  private nextId = 1;
  private readonly queue: Queued[] = [];
  private readonly pending = new Map<number, (result: Result<unknown>) => void>();
  private readonly listeners = new Map<string, Set<(payload: unknown) => void>>();
  private readonly stateListeners = new Set<(state: ConnectionState) => void>();
  private stateValue: ConnectionState = 'connecting';
  private attempt = 0;
  private readonly createSocket: (url: string) => WebSocket;
  private readonly minDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly queueTimeoutMs: number;
  private readonly disconnectedAfterMs: number;
  private retryTimer: ReturnType<typeof setTimeout> | null = null;
  /** When the connection was lost (or first tried); null while open. */
  private downSince: number | null = Date.now();

  constructor(
    private readonly url: string,
    options: WebSocketBridgeOptions = {},
  ) {
    this.createSocket = options.createSocket ?? ((u) => new WebSocket(u));
    this.minDelayMs = options.minDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 5_000;
    this.queueTimeoutMs = options.queueTimeoutMs ?? 20_000;
    this.disconnectedAfterMs = options.disconnectedAfterMs ?? 15_000;
    // Back online, or back to this tab: try at once instead of waiting out the backoff.
    if (typeof window !== 'undefined') {
      window.addEventListener('online', () => this.retryNow());
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible') this.retryNow();
      });
    }
    this.connect();
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  subscribe(listener: (state: ConnectionState) => void): () => void {
    this.stateListeners.add(listener);
    listener(this.stateValue);
    return () => this.stateListeners.delete(listener);
  }

  call<N extends CallName>(name: N, input: CallInput<N>): Promise<Result<CallOutput<N>>> {
    return new Promise((resolve) => {
      const request: WireRequest = { t: 'call', id: this.nextId++, name, input };
      const done = resolve as (result: Result<unknown>) => void;
      if (this.socket?.readyState === WebSocket.OPEN) {
        this.send(request, done);
        return;
      }
      const entry: Queued = {
        request,
        resolve: done,
        timer: setTimeout(() => {
          const index = this.queue.indexOf(entry);
          if (index !== -1) this.queue.splice(index, 1);
          done({ ok: false, error: UNREACHABLE });
        }, this.queueTimeoutMs),
      };
      this.queue.push(entry);
    });
  }

  on<N extends EventName>(name: N, listener: (payload: EventPayload<N>) => void): () => void {
    let set = this.listeners.get(name);
    if (!set) this.listeners.set(name, (set = new Set()));
    const entry = listener as (payload: unknown) => void;
    set.add(entry);
    return () => {
      set.delete(entry);
    };
  }

  private connect(): void {
    let socket: WebSocket;
    try {
      socket = this.createSocket(this.url);
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.attempt = 0;
      this.downSince = null;
      this.setState('open');
      for (const entry of this.queue.splice(0)) {
        clearTimeout(entry.timer);
        this.send(entry.request, entry.resolve);
      }
    };
    socket.onmessage = (event: MessageEvent) => this.receive(event.data);
    socket.onclose = () => {
      if (this.socket !== socket) return;
      this.socket = null;
      for (const resolve of this.pending.values()) resolve({ ok: false, error: LOST });
      this.pending.clear();
      this.scheduleReconnect();
    };
    // onclose follows every error, so reconnecting is handled there.
    socket.onerror = () => undefined;
  }

  private scheduleReconnect(): void {
    this.downSince ??= Date.now();
    this.setState(Date.now() - this.downSince >= this.disconnectedAfterMs ? 'disconnected' : 'reconnecting');
    const base = Math.min(this.maxDelayMs, this.minDelayMs * 2 ** this.attempt);
    this.attempt += 1;
    // Jitter keeps several tabs from hammering a restarting server in lockstep.
    const delay = base / 2 + Math.random() * (base / 2);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.connect();
    }, delay);
  }

  /** Skips the rest of a backoff wait (only while one is pending, so never two sockets at once). */
  private retryNow(): void {
    if (this.retryTimer === null) return;
    clearTimeout(this.retryTimer);
    this.retryTimer = null;
    this.connect();
  }

  private send(request: WireRequest, resolve: (result: Result<unknown>) => void): void {
    this.pending.set(request.id, resolve);
    try {
      this.socket!.send(JSON.stringify(request));
    } catch {
      this.pending.delete(request.id);
      resolve({ ok: false, error: LOST });
    }
  }

  private receive(data: unknown): void {
    if (typeof data !== 'string') return;
    let message: WireMessage;
    try {
      message = JSON.parse(data) as WireMessage;
    } catch {
      return;
    }
    if (message.t === 'result') {
      // id null: the server could not read the id of something sent; nothing here waits on it.
      if (message.id === null) return;
      const resolve = this.pending.get(message.id);
      if (!resolve) return;
      this.pending.delete(message.id);
      resolve(message.result);
    } else if (message.t === 'event') {
      for (const listener of this.listeners.get(message.name) ?? []) {
        try {
          listener(message.payload);
        } catch (error) {
          // One faulty listener must not starve the others of events.
          console.error(`listener for ${message.name} failed`, error);
        }
      }
    }
  }

  private setState(state: ConnectionState): void {
    if (state === this.stateValue) return;
    this.stateValue = state;
    for (const listener of this.stateListeners) listener(state);
  }
}
