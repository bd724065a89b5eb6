import { HearthError } from '../../common/hearthError';

const FRIENDLY: Record<string, string> = {
  ECONNREFUSED: 'the connection was refused',
  ECONNRESET: 'the connection was reset',
  ENOTFOUND: 'no such host name',
  EAI_AGAIN: 'the host name could not be looked up (is this computer online?)',
  ETIMEDOUT: 'the connection timed out',
  EHOSTUNREACH: 'the host is unreachable',
  ENETUNREACH: 'the network is unreachable',
};

/**
 * Maps a request that got no answer (refused, timed out, cancelled) to a contract error.
 * `service` names the other end for people ("the IPFS node at http://127.0.0.1:5001").
 */
export function fetchFailure(
  error: unknown,
  context: { service: string; signal?: AbortSignal; timeoutMs?: number; whenRefused?: string },
): HearthError {
  const raised = hearthCause(error);
  if (raised) return raised;
  if (context.signal?.aborted) {
    const reason: unknown = context.signal.reason;
    if (reason instanceof HearthError) return reason;
    return new HearthError('CANCELLED', 'Cancelled', { cause: error });
  }
  const name = (error as Error | undefined)?.name;
  if (name === 'TimeoutError' || name === 'AbortError') {
    const within = context.timeoutMs ? ` within ${Math.round(context.timeoutMs / 1000)} s` : '';
    return new HearthError('NETWORK_ERROR', `${capitalize(context.service)} did not answer${within}; try again later.`, { cause: error });
  }
  const code = causeCode(error);
  if (code === 'ECONNREFUSED' && context.whenRefused) return new HearthError('NETWORK_ERROR', context.whenRefused, { cause: error });
  const detail = (code && FRIENDLY[code]) ?? code ?? causeMessage(error);
  return new HearthError('NETWORK_ERROR', `Cannot reach ${context.service}: ${detail}.`, { cause: error });
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
function causeCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current && depth < 5; depth++) {
    const e = current as { code?: unknown; cause?: unknown; errors?: unknown };
    if (typeof e.code === 'string' && e.code.startsWith('E')) return e.code;
    if (Array.isArray(e.errors)) {
      const inner = e.errors.map(causeCode).find((c) => c !== undefined);
      if (inner) return inner;
    }
    current = e.cause;
  }
  return undefined;
}

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

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
