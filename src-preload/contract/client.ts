import type { CallInput, CallName, CallOutput, EventName, EventPayload } from './api';
import type { Result } from './errors';

/**
 * What every front end gets: the preload exposes an object of this shape as window.hearth,
 * and the browser build implements it over a WebSocket. Both send only contract names.
 */
export interface HearthBridge {
  call<N extends CallName>(name: N, input: CallInput<N>): Promise<Result<CallOutput<N>>>;
  on<N extends EventName>(name: N, listener: (payload: EventPayload<N>) => void): () => void;
}

/** Wire format of the WebSocket transport. */
export type WireRequest = { t: 'call'; id: number; name: string; input: unknown };
export type WireMessage =
  /** id is null only in the answer to a message whose id could not be read. */
  | { t: 'result'; id: number | null; result: Result<unknown> }
  | { t: 'event'; name: string; payload: unknown };
