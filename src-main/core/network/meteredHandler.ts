import type { NetworkPurpose } from '#contract/vocabulary';

/** A request being counted: filled in by its handler's callbacks until it ends. */
export interface MeteredRequest {
  at: number;
  started: number;
  host: string;
  local: boolean;
  purpose: NetworkPurpose;
  method: string;
  bytesOut: number;
  bytesIn: number;
  status: number | null;
}

type Callback = (...args: unknown[]) => unknown;

/**
 * The request line and headers undici writes for a dispatch: `METHOD path HTTP/1.1`, a host
 * header unless one is given, each header as `name: value`, and its connection header. The
 * body is counted as it is sent (onBodySent); chunked-encoding framing is not counted.
 */
export function requestHeadBytes(url: URL, options: { path?: string; method?: string; headers?: unknown }): number {
  const pairs = headerPairs(options.headers);
  let bytes = byteLength(`${(options.method ?? 'GET').toUpperCase()} ${options.path ?? '/'} HTTP/1.1\r\n`);
  if (!pairs.some(([name]) => name.toLowerCase() === 'host')) bytes += byteLength(`host: ${url.host}\r\n`);
  for (const [name, value] of pairs) bytes += byteLength(`${name}: ${value}\r\n`);
  if (!pairs.some(([name]) => name.toLowerCase() === 'connection')) bytes += byteLength('connection: keep-alive\r\n');
  return bytes + 2;
}

/**
 * Wraps a dispatch handler so the request's status and bytes are counted as undici reports
 * them, then calls `done` once when it ends: null on an answer read to the end, else why not.
 * Both handler styles are counted: undici 6's (onHeaders/onData, Node 20 and 22) and undici
 * 7's (onResponseStart/onResponseData); every other member passes through untouched.
 */
export function meterHandler(handler: object, request: MeteredRequest, done: (error: string | null) => void): object {
  let ended = false;
  const end = (error: string | null) => {
    if (ended) return;
    ended = true;
    done(error);
  };
  const wrappers: Record<string, (original: Callback | undefined) => Callback> = {
    onBodySent: (original) => (chunk) => {
      request.bytesOut += sizeOf(chunk);
      return original?.(chunk);
    },
    onHeaders: (original) => (status, rawHeaders, resume, statusText) => {
      request.status = typeof status === 'number' ? status : null;
      request.bytesIn += statusLineBytes(request.status, statusText) + rawHeaderBytes(rawHeaders);
      return original?.(status, rawHeaders, resume, statusText);
    },
    onData: (original) => (chunk) => {
      request.bytesIn += sizeOf(chunk);
      return original?.(chunk);
    },
    onComplete: (original) => (trailers) => {
      end(null);
      return original?.(trailers);
    },
    onUpgrade: (original) => (status, headers, socket) => {
      request.status = typeof status === 'number' ? status : null;
      request.bytesIn += statusLineBytes(request.status, 'Switching Protocols') + rawHeaderBytes(headers);
      end(null);
      return original?.(status, headers, socket);
    },
    onError: (original) => (error) => {
      end(describe(error));
      return original?.(error);
    },
    onResponseStart: (original) => (controller, status, headers, statusText) => {
      request.status = typeof status === 'number' ? status : null;
      request.bytesIn += statusLineBytes(request.status, statusText) + headerObjectBytes(headers);
      return original?.(controller, status, headers, statusText);
    },
    onResponseData: (original) => (controller, chunk) => {
      request.bytesIn += sizeOf(chunk);
      return original?.(controller, chunk);
    },
    onResponseEnd: (original) => (controller, trailers) => {
      end(null);
      return original?.(controller, trailers);
    },
    onResponseError: (original) => (controller, error) => {
      end(describe(error));
      return original?.(controller, error);
    },
  };
  const cache = new Map<string, Callback>();
  return new Proxy(handler, {
    get(target, key) {
      const value: unknown = Reflect.get(target, key, target);
      if (typeof key !== 'string' || !Object.hasOwn(wrappers, key)) {
        return typeof value === 'function' ? (value as Callback).bind(target) : value;
      }
      // onBodySent is wrapped even where the handler has none (fetch's has none): it is how the body is counted.
      if (typeof value !== 'function' && key !== 'onBodySent') return value;
      let wrapped = cache.get(key);
      if (!wrapped) {
        const original = typeof value === 'function' ? (value as Callback).bind(target) : undefined;
        wrapped = wrappers[key]!(original);
        cache.set(key, wrapped);
      }
      return wrapped;
    },
  });
}

function headerPairs(headers: unknown): [string, string][] {
  if (!headers) return [];
  if (Array.isArray(headers)) {
    // [[name, value], ...] or the flat [name, value, name, value, ...]
    if (headers.every((item) => Array.isArray(item))) return (headers as unknown[][]).map((pair) => [String(pair[0]), String(pair[1])]);
    const pairs: [string, string][] = [];
    for (let i = 0; i + 1 < headers.length; i += 2) pairs.push([String(headers[i]), String(headers[i + 1])]);
    return pairs;
  }
  if (typeof headers === 'object') {
    return Object.entries(headers as Record<string, unknown>).flatMap(([name, value]) =>
      Array.isArray(value) ? value.map((v): [string, string] => [name, String(v)]) : value === undefined ? [] : [[name, String(value)] as [string, string]],
    );
  }
  return [];
}

function statusLineBytes(status: number | null, statusText: unknown): number {
  return byteLength(`HTTP/1.1 ${status ?? 0}${typeof statusText === 'string' && statusText ? ` ${statusText}` : ''}\r\n`) + 2;
}

/** Raw headers as llhttp parsed them: [name, value, name, value, ...] as Buffers or strings. */
function rawHeaderBytes(raw: unknown): number {
  if (!Array.isArray(raw)) return headerObjectBytes(raw);
  let bytes = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) bytes += sizeOf(raw[i]) + sizeOf(raw[i + 1]) + 4; // ": " and CRLF
  return bytes;
}

function headerObjectBytes(headers: unknown): number {
  return headerPairs(headers).reduce((sum, [name, value]) => sum + byteLength(name) + byteLength(value) + 4, 0);
}

function sizeOf(chunk: unknown): number {
  if (typeof chunk === 'string') return byteLength(chunk);
  if (chunk instanceof Uint8Array) return chunk.byteLength;
  if (chunk instanceof ArrayBuffer) return chunk.byteLength;
  return 0;
}

function byteLength(text: string): number {
  return Buffer.byteLength(text);
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    const cause = error.cause instanceof Error ? (error.cause as NodeJS.ErrnoException).code : undefined;
    return (code ?? cause ?? error.name) + (error.message ? `: ${error.message}` : '');
  }
  return String(error);
}
