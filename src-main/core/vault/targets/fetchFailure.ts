import type { HearthError } from '../../common/hearthError';
import { networkError } from '../../common/httpErrors';

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
 * Maps a request that got no answer (refused, timed out, cancelled) to a contract error, in
 * the vault's words. `service` names the other end for people ("the IPFS node at http://127.0.0.1:5001").
 */
export function fetchFailure(
  error: unknown,
  context: { service: string; signal?: AbortSignal; timeoutMs?: number; whenRefused?: string },
): HearthError {
  return networkError(error, {
    signal: context.signal,
    message: (failure) => {
      if (failure.kind === 'timeout') {
        const within = context.timeoutMs ? ` within ${Math.round(context.timeoutMs / 1000)} s` : '';
        return `${capitalize(context.service)} did not answer${within}; try again later.`;
      }
      const code = failure.code?.startsWith('E') ? failure.code : undefined;
      if (code === 'ECONNREFUSED' && context.whenRefused) return context.whenRefused;
      return `Cannot reach ${context.service}: ${(code && FRIENDLY[code]) ?? code ?? failure.message}.`;
    },
  });
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
