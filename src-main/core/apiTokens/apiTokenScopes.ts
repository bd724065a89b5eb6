import { API_TOKEN_SCOPES, isMember, type ApiTokenScope } from '#contract/vocabulary';
import { HearthError } from '../common/hearthError';

/** `documents:<collection id>`: one collection; `documents:*` (in API_TOKEN_SCOPES) is all of them. */
const DOCUMENTS_PREFIX = 'documents:';

/** What a route needs: a fixed scope, or `documents` (any documents scope; which collections is checked per collection). */
export type ApiScopeNeed = Exclude<ApiTokenScope, 'documents:*'> | 'documents';

/** A collection as a scope names it: by id, or by name when the token is created. */
export interface ScopeCollection {
  id: string;
  name: string;
}

/**
 * Turns scopes as a person writes them (`chat`, `documents:notes`, `documents:col_…`) into the
 * stored form, where a collection is named by its id (so renaming it keeps the token's reach).
 * Unknown scopes and collections are refused, never ignored.
 */
export function normalizeScopes(scopes: readonly string[], findCollection: (nameOrId: string) => ScopeCollection | null): string[] {
  const out = new Set<string>();
  for (const raw of scopes) {
    const scope = raw.trim();
    if (isMember(API_TOKEN_SCOPES, scope)) {
      out.add(scope);
      continue;
    }
    if (scope.startsWith(DOCUMENTS_PREFIX) && scope.length > DOCUMENTS_PREFIX.length) {
      const wanted = scope.slice(DOCUMENTS_PREFIX.length);
      const collection = findCollection(wanted);
      if (!collection) throw new HearthError('COLLECTION_NOT_FOUND', `No collection named "${wanted}" for the scope "${scope}".`);
      out.add(`${DOCUMENTS_PREFIX}${collection.id}`);
      continue;
    }
    throw new HearthError(
      'BAD_INPUT',
      `Unknown scope "${scope}": use ${API_TOKEN_SCOPES.map((s) => `"${s}"`).join(', ')} or "documents:<collection>".`,
    );
  }
  if (out.size === 0) throw new HearthError('BAD_INPUT', 'A token needs at least one scope.');
  // documents:* already reaches every collection.
  if (out.has('documents:*')) for (const scope of [...out]) if (scope.startsWith(DOCUMENTS_PREFIX) && scope !== 'documents:*') out.delete(scope);
  return [...out];
}

/** The collections a token reaches: all of them, or these ids (possibly none). */
export type CollectionReach = 'all' | ReadonlySet<string>;

export function collectionReach(scopes: readonly string[]): CollectionReach {
  if (scopes.includes('documents:*')) return 'all';
  return new Set(scopes.filter((s) => s.startsWith(DOCUMENTS_PREFIX)).map((s) => s.slice(DOCUMENTS_PREFIX.length)));
}

/** Whether stored scopes cover a need (`documents`: at least one collection). */
export function scopesAllow(scopes: readonly string[], need: ApiScopeNeed): boolean {
  if (need === 'documents') return scopes.some((s) => s.startsWith(DOCUMENTS_PREFIX));
  return scopes.includes(need);
}

export function reachIncludes(reach: CollectionReach, collectionId: string): boolean {
  return reach === 'all' || reach.has(collectionId);
}
