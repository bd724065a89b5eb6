import type { NetworkPurpose } from '#contract/vocabulary';
import { currentPurpose, providePurposeDispatchers } from '../common/egress';
import { meterHandler, requestHeadBytes, type MeteredRequest } from './meteredHandler';

/** A request as the hook saw it end: what the ledger records. */
export interface EgressRecord {
  at: number;
  host: string;
  local: boolean;
  purpose: NetworkPurpose;
  method: string;
  status: number | null;
  bytesOut: number;
  bytesIn: number;
  durationMs: number;
  error: string | null;
}

export type EgressListener = (record: EgressRecord) => void;

/** Node's fetch (undici) sends every request through the dispatcher stored under this symbol. */
const GLOBAL_DISPATCHER = Symbol.for('undici.globalDispatcher.1');

interface Dispatcher {
  dispatch(options: DispatchOptions, handler: object): boolean;
}

interface DispatchOptions {
  origin?: string | URL;
  path?: string;
  method?: string;
  headers?: unknown;
}

const listeners = new Set<EgressListener>();
let installed: Dispatcher | null = null;
/** While the hook waits for the first request: Node's own fetch, and the stand-in that installs the hook first. */
let waiting: { nodeFetch: typeof fetch; standIn: typeof fetch } | null = null;

/**
 * Starts telling `listener` about every request Node's fetch sends in this process (Hearth's own,
 * and every library's that uses fetch: ipull, node-llama-cpp, the web3.storage client), once
 * each has ended. Returns the function that stops it.
 *
 * fetch is process-wide, so the hook is too: installed once, it wraps the global dispatcher
 * undici keeps under a well-known symbol and counts each request's bytes in its handler's
 * callbacks, below fetch's decompression (the bytes that crossed the wire, less TLS framing).
 * egressFetch sends its requests through a wrapper of the same dispatcher that knows their purpose.
 *
 * Node loads undici (~25 ms of CPU, a tenth of a `hearth vault status`) at the first use of
 * fetch or of its classes, and most commands send nothing. So when nothing has loaded it yet, the
 * hook waits: the global fetch is replaced by one that installs the hook first, and egressFetch
 * asks for its dispatcher (which installs it) before it sends. The libraries Hearth runs look the
 * global fetch up when they send, or when a client of theirs is made (bound to the global), so
 * after this call; Node's fetch taken before the ledger opened would send around a hook that
 * waits, which is why this runs when the core is created, before any client exists.
 */
export function listenToEgress(listener: EgressListener): () => void {
  listeners.add(listener);
  watch();
  return () => listeners.delete(listener);
}

const globals = globalThis as unknown as Record<symbol, Dispatcher | undefined>;

function watch(): void {
  if (installed && globals[GLOBAL_DISPATCHER] === installed) return;
  // undici already loaded (its dispatcher exists): wrap it now.
  if (globals[GLOBAL_DISPATCHER] !== undefined || typeof globalThis.fetch !== 'function') {
    install();
    return;
  }
  if (waiting) return;
  const nodeFetch = globalThis.fetch;
  const standIn: typeof fetch = function fetch(input, init) {
    install();
    return nodeFetch(input, init);
  };
  waiting = { nodeFetch, standIn };
  globalThis.fetch = standIn;
  providePurposeDispatchers((purpose) => {
    install();
    return purposeDispatcher(purpose);
  });
}

function install(): void {
  if (installed && globals[GLOBAL_DISPATCHER] === installed) return;
  // Node loads undici (and creates its global Agent) lazily, on first use of fetch or its classes.
  void globalThis.Response;
  const inner = globals[GLOBAL_DISPATCHER];
  if (!inner) throw new Error("Node's fetch has no global dispatcher to watch: this Node version is not supported.");
  // A request sent with no declared purpose, or from inside a withPurpose, gets it from the context.
  installed = wrap(inner, () => currentPurpose() ?? 'unattributed');
  // undici defines the symbol writable but not configurable: an assignment is what setGlobalDispatcher does too.
  globals[GLOBAL_DISPATCHER] = installed;
  // egressFetch's requests carry their purpose in the dispatcher they are sent through.
  byPurpose.clear();
  dispatcherInside = inner;
  providePurposeDispatchers(purposeDispatcher);
  // The hook is in place: Node's fetch serves again as it was (a fetch bound to the stand-in installs nothing twice).
  if (waiting) {
    if (globalThis.fetch === waiting.standIn) globalThis.fetch = waiting.nodeFetch;
    waiting = null;
  }
}

const byPurpose = new Map<NetworkPurpose, Dispatcher>();
let dispatcherInside: Dispatcher | null = null;

/** The dispatcher that meters a request under `purpose` (after install). */
function purposeDispatcher(purpose: NetworkPurpose): Dispatcher {
  let dispatcher = byPurpose.get(purpose);
  if (!dispatcher) byPurpose.set(purpose, (dispatcher = wrap(dispatcherInside!, () => purpose)));
  return dispatcher;
}

/** The dispatcher as it was, with each dispatch metered; every other member passes through. */
function wrap(inner: Dispatcher, purposeOf: () => NetworkPurpose): Dispatcher {
  return new Proxy(inner, {
    get(target, key) {
      if (key === 'dispatch') return (options: DispatchOptions, handler: object) => target.dispatch(options, meter(options, handler, purposeOf()));
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

function meter(options: DispatchOptions, handler: object, purpose: NetworkPurpose): object {
  let url: URL;
  try {
    url = new URL(String(options.origin ?? ''));
  } catch {
    return handler; // not an HTTP origin undici could connect to either
  }
  const request: MeteredRequest = {
    at: Date.now(),
    started: performance.now(),
    host: url.host,
    local: isLoopback(url.hostname),
    purpose,
    method: (options.method ?? 'GET').toUpperCase(),
    bytesOut: requestHeadBytes(url, options),
    bytesIn: 0,
    status: null,
  };
  return meterHandler(handler, request, (error) => {
    const record: EgressRecord = {
      at: request.at,
      host: request.host,
      local: request.local,
      purpose: request.purpose,
      method: request.method,
      status: request.status,
      bytesOut: request.bytesOut,
      bytesIn: request.bytesIn,
      durationMs: Math.round(performance.now() - request.started),
      error,
    };
    for (const listener of listeners) {
      try {
        listener(record);
      } catch {
        // A ledger that cannot write must not break the request it records; it logs for itself.
      }
    }
  });
}

/** localhost, 127.0.0.0/8 and ::1 (also as an IPv4-mapped address): this machine. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (host === '::1' || host === '0:0:0:0:0:0:0:1') return true;
  const v4 = host.startsWith('::ffff:') ? host.slice(7) : host;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
