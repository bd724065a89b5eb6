import { AsyncLocalStorage } from 'node:async_hooks';
import type { NetworkPurpose } from '#contract/vocabulary';

/**
 * The one way Hearth's code leaves the machine: `egressFetch(purpose, url, init)` for its own
 * requests, `withPurpose(purpose, work)` around a library that fetches on its own (ipull,
 * node-llama-cpp's GGUF reader, the web3.storage client). Both only declare *why*; the network
 * ledger (core/network) sees every request Node's fetch sends, whoever sent it, and records it
 * under the purpose declared, or as `unattributed`.
 *
 * egressFetch hands the purpose to fetch with the request (the dispatcher the ledger provides
 * for it), so it costs nothing elsewhere. withPurpose has no request to tag: the purpose travels
 * with the async context (AsyncLocalStorage), so a library's requests made long after the call
 * began (a download's ranged requests, a sign-in's polling) still carry it. Tracking contexts
 * slows every promise in the process, so it is on only while such a call runs.
 */
const purposes = new AsyncLocalStorage<NetworkPurpose>();
/** withPurpose calls still running: context tracking is switched off when none is. */
let scopes = 0;
/** Set by the ledger's hook once it watches fetch: the dispatcher that meters a request under a purpose. */
let dispatcherFor: ((purpose: NetworkPurpose) => object) | null = null;

/** Runs `work` (and everything it starts) with its outbound requests recorded under `purpose`. */
export function withPurpose<T>(purpose: NetworkPurpose, work: () => T): T {
  scopes++;
  let result: T;
  try {
    result = purposes.run(purpose, work);
  } catch (error) {
    leaveScope();
    throw error;
  }
  if (isThenable(result)) void result.then(leaveScope, leaveScope);
  else leaveScope();
  return result;
}

/** fetch, with the request recorded in the network ledger under `purpose`. */
export function egressFetch(purpose: NetworkPurpose, input: string | URL | Request, init: RequestInit = {}): Promise<Response> {
  const dispatcher = dispatcherFor?.(purpose);
  // Node's fetch sends a request through the dispatcher given with it (undici's option; not in the DOM typing).
  return fetch(input, dispatcher ? ({ ...init, dispatcher } as RequestInit) : init);
}

/** A fetch bound to one purpose, for code that takes a fetch function. */
export function purposeFetch(purpose: NetworkPurpose): typeof fetch {
  return (input, init) => egressFetch(purpose, input, init);
}

/** The purpose declared by a withPurpose around the code running now, if any (read by the ledger's hook). */
export function currentPurpose(): NetworkPurpose | undefined {
  return purposes.getStore();
}

/** Called once by the ledger's hook: how egressFetch tags its requests. */
export function providePurposeDispatchers(factory: (purpose: NetworkPurpose) => object): void {
  dispatcherFor = factory;
}

function leaveScope(): void {
  scopes--;
  if (scopes === 0) purposes.disable();
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function';
}
