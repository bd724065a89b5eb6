import type { ErrorCode } from '#contract/errors';
import { HearthError } from './hearthError';

/**
 * The one mapping from what an HTTP request ended with to a contract error code. Each site
 * words the message for its own users (a hub, a download, an IPFS node) and may say what a
 * refusal means to it (a gated model, a node that wants credentials); the codes come from here.
 */

/** What an error status means, whoever answered it. */
export type HttpFailureKind = 'not-found' | 'refused' | 'failed';

const DEFAULT_CODES: Record<HttpFailureKind, ErrorCode> = {
  'not-found': 'NOT_FOUND',
  refused: 'UNAUTHORIZED',
  failed: 'NETWORK_ERROR',
};

/**
 * Hugging Face (and servers shaped like it) name the problem in an X-Error-Code header, which
 * wins over the status: the hub answers 401 for a repository that does not exist (so as not to
 * reveal private ones), which is "not found" to the user, not a gate.
 */
export function httpFailureKind(status: number, errorCode?: string | null): HttpFailureKind {
  if (errorCode === 'RepoNotFound' || errorCode === 'EntryNotFound' || errorCode === 'RevisionNotFound') return 'not-found';
  if (errorCode === 'GatedRepo') return 'refused';
  if (status === 404 || status === 410) return 'not-found';
  if (status === 401 || status === 403) return 'refused';
  return 'failed';
}

/** What an answer with an error status says about itself. */
export interface HttpFailure {
  kind: HttpFailureKind;
  status: number;
  statusText: string;
  /** The X-Error-Code header, when the server sent one. */
  errorCode: string | null;
}

/**
 * The contract error for an answer with an error status. `codes` overrides the code of a kind
 * where a site means something more specific (MODEL_GATED for a refused model download).
 */
export function httpError(
  response: { status: number; statusText?: string; headers?: Headers },
  message: (failure: HttpFailure) => string,
  codes: Partial<Record<HttpFailureKind, ErrorCode>> = {},
): HearthError {
  const errorCode = response.headers?.get('x-error-code') ?? null;
  const failure: HttpFailure = {
    kind: httpFailureKind(response.status, errorCode),
    status: response.status,
    statusText: response.statusText ?? '',
    errorCode,
  };
  return new HearthError(codes[failure.kind] ?? DEFAULT_CODES[failure.kind], message(failure));
}

/** Why a request got no answer, for a site's message. */
export type NetworkFailure =
  | { kind: 'timeout' }
  /** `code` is the socket error (ECONNREFUSED, ENOTFOUND...) when one is known; `message` the most specific text. */
  | { kind: 'unreachable'; code: string | undefined; message: string };

/**
 * The contract error for a request that got no answer: CANCELLED when the caller's signal
 * stopped it, an error of ours raised inside it as it is, NETWORK_ERROR otherwise.
 */
export function networkError(error: unknown, context: { signal?: AbortSignal; message: (failure: NetworkFailure) => string }): HearthError {
  const raised = hearthCause(error);
  if (raised) return raised;
  if (context.signal?.aborted) {
    const reason: unknown = context.signal.reason;
    if (reason instanceof HearthError) return reason;
    return new HearthError('CANCELLED', 'Cancelled', { cause: error });
  }
  const name = (error as Error | undefined)?.name;
  const failure: NetworkFailure =
    name === 'TimeoutError' || name === 'AbortError'
      ? { kind: 'timeout' }
      : { kind: 'unreachable', code: socketErrorCode(error), message: causeMessage(error) };
  return new HearthError('NETWORK_ERROR', context.message(failure), { cause: error });
}

/** An error of ours thrown inside a request body's stream comes back wrapped by fetch. */
function hearthCause(error: unknown): HearthError | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    if (current instanceof HearthError) return current;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** undici wraps the socket error: ECONNREFUSED sits in `cause`, or in an AggregateError. */
function socketErrorCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const e = current as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof e.code === 'string' && e.code.startsWith('E')) return e.code;
    if (e.code === 'UND_ERR_CONNECT_TIMEOUT') return e.code;
    if (Array.isArray(e.errors)) {
      const inner = e.errors.map(socketErrorCode).find((c) => c !== undefined);
      if (inner) return inner;
    }
    current = e.cause;
  }
  return undefined;
}

/** The innermost message ("connect ECONNREFUSED 127.0.0.1:9", "other side closed"). */
function causeMessage(error: unknown): string {
  let current: unknown = error;
  let message = 'unknown error';
  for (let depth = 0; current && depth < 5; depth++) {
    const e = current as { message?: unknown; cause?: unknown };
    if (typeof e.message === 'string' && e.message) message = e.message;
    current = e.cause;
  }
  return message.replace(/\.$/, '');
}
