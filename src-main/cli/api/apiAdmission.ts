import type { ApiTokenService } from '../../core/apiTokens/apiTokenService';
import { ApiAuthorizer, grantOf, presentedToken } from './apiAuth';
import type { ApiAuthorize } from './apiRouter';

/**
 * The API routes' admission by API token (apiAuth.ts): a route's scope (chat, embeddings), or
 * any valid token where the route needs none (listing models).
 */
export function tokenAdmission(tokens: ApiTokenService): ApiAuthorize {
  const authorizer = new ApiAuthorizer(tokens);
  return (headers, need) => {
    const result = authorizer.authorize(headers, need ?? 'chat');
    if (result.ok) return result;
    if (need === null && result.failure.status === 403) {
      const check = tokens.check(presentedToken(headers));
      if (check.ok) return { ok: true, grant: grantOf(check.token) };
    }
    return { ok: false, failure: result.failure };
  };
}
