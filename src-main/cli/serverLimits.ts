/**
 * What one WebSocket client may cost the server, so that a flood, a client that never reads
 * its replies or a pile of idle connections cannot starve the others or exhaust memory and
 * file descriptors. The defaults suit a local UI with a few tabs and scripts; tests and the
 * flood bench pass smaller ones.
 */
export interface ServerLimits {
  /** Open TCP connections (HTTP and WebSocket together); beyond it new ones are closed at once. */
  maxConnections: number;
  /** A connection that has not shown the token by then is closed (slow or idle handshakes). */
  handshakeTimeoutMs: number;
  /** Calls running at once across all clients; each client's calls wait in its own queue. */
  concurrency: number;
  /** Calls one client may have running at once. */
  perClientRunning: number;
  /** Waiting calls (or their bytes) at which a client's socket stops being read until its queue drains. */
  pauseQueued: number;
  pauseQueuedBytes: number;
  /** Waiting calls beyond which a client that ignores backpressure gets BUSY answers. */
  maxQueued: number;
  /** Unsent reply bytes at which a client's calls and socket wait until it reads what it was sent. */
  pauseUnsentBytes: number;
  /** Unsent bytes (replies and events) at which a client is disconnected. */
  maxUnsentBytes: number;
  /** Calls started per scheduling round before other I/O (another client's frame) gets a turn. */
  roundCalls: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  maxConnections: 512,
  handshakeTimeoutMs: 10_000,
  concurrency: 64,
  perClientRunning: 32,
  pauseQueued: 64,
  pauseQueuedBytes: 4 * 1024 * 1024,
  maxQueued: 4096,
  pauseUnsentBytes: 1024 * 1024,
  maxUnsentBytes: 16 * 1024 * 1024,
  roundCalls: 16,
};

/** Largest JSON nesting a frame may have; the contract's inputs need fewer than ten levels. */
export const MAX_JSON_DEPTH = 32;
