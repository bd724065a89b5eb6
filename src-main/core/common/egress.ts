import { AsyncLocalStorage } from 'node:async_hooks';
import type { NetworkPurpose } from '#contract/vocabulary';

/**
 * The one way Hearth's code leaves the machine: `egressFetch(purpose, url, init)` for its own
 * requests, `withPurpose(purpose, work)` around a library that fetches on its own (ipull,
 * node-llama-cpp's GGUF reader, the web3.storage client). Both only declare *why*; the network
 * ledger (core/network) sees every request Node's fetch sends, whoever sent it, and records it
 * under the purpose declared where it started, or as `unattributed`.
 *
 * The purpose travels with the async context (AsyncLocalStorage), so a library's requests
 * made long after the call began (a download's ranged requests, a sign-in's polling) still
 * carry it. The store is process-wide like fetch itself: it holds only the purpose.
 */
const purposes = new AsyncLocalStorage<NetworkPurpose>();

/** Runs `work` (and everything it starts) with its outbound requests recorded under `purpose`. */
export function withPurpose<T>(purpose: NetworkPurpose, work: () => T): T {
  return purposes.run(purpose, work);
}

/** fetch, with the request recorded in the network ledger under `purpose`. */
export function egressFetch(purpose: NetworkPurpose, input: string | URL, init?: RequestInit): Promise<Response> {
  return withPurpose(purpose, () => fetch(input, init));
}

/** A fetch bound to one purpose, for code that takes a fetch function. */
export function purposeFetch(purpose: NetworkPurpose, base: typeof fetch = fetch): typeof fetch {
  return (input, init) => withPurpose(purpose, () => base(input, init));
}

/** The purpose declared for the code running now, if any (read by the ledger's hook). */
export function currentPurpose(): NetworkPurpose | undefined {
  return purposes.getStore();
}
