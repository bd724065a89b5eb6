import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { ErrorCode } from '#contract/errors';
import type { ApiToken } from '#contract/dto';
import { collectionReach, reachIncludes, scopesAllow, type ApiScopeNeed, type CollectionReach } from '../../core/apiTokens/apiTokenScopes';
import type { ApiTokenService, TokenRefusal } from '../../core/apiTokens/apiTokenService';

export type { ApiScopeNeed };

/** What a request's API token lets it do, once it is in. */
export interface ApiGrant {
  tokenId: string;
  tokenName: string;
  scopes: readonly string[];
  /** The collections it may search: 'all' (documents:*) or these ids. */
  collections: CollectionReach;
  allows(need: ApiScopeNeed): boolean;
  allowsCollection(collectionId: string): boolean;
}

/** A refusal: 401 (no usable token) or 403 (a good token without the scope), with words for the caller. */
export interface ApiAuthFailure {
  status: 401 | 403;
  code: Extract<ErrorCode, 'UNAUTHORIZED' | 'FORBIDDEN'>;
  message: string;
}

export type ApiAuthResult = { ok: true; grant: ApiGrant } | { ok: false; failure: ApiAuthFailure };

const REFUSALS: Record<TokenRefusal, string> = {
  missing:
    'No API token: send "Authorization: Bearer <token>" (or "x-api-key: <token>"). Create one with `hearth tokens create NAME --scope ...` or in Settings → Local API.',
  unknown: "This API token is not valid (the UI's session token is not an API token). Create one with `hearth tokens create` or in Settings → Local API.",
  expired: 'This API token has expired. Create a new one with `hearth tokens create` or in Settings → Local API.',
  revoked: 'This API token was revoked. Create a new one with `hearth tokens create` or in Settings → Local API.',
};

/**
 * Who may use the local API and MCP: holders of an API token (never the UI's session token)
 * whose scopes cover what the route needs. OpenAI clients send `Authorization: Bearer`,
 * Anthropic clients `x-api-key`; both are read on every route.
 */
export class ApiAuthorizer {
  constructor(private readonly tokens: ApiTokenService) {}

  authorize(headers: IncomingHttpHeaders, need: ApiScopeNeed): ApiAuthResult {
    const check = this.tokens.check(presentedToken(headers));
    if (!check.ok) return { ok: false, failure: { status: 401, code: 'UNAUTHORIZED', message: REFUSALS[check.reason] } };
    const grant = grantOf(check.token);
    if (!grant.allows(need)) return { ok: false, failure: scopeFailure(grant, need) };
    return { ok: true, grant };
  }
}

export function grantOf(token: ApiToken): ApiGrant {
  const collections = collectionReach(token.scopes);
  return {
    tokenId: token.id,
    tokenName: token.name,
    scopes: token.scopes,
    collections,
    allows: (need) => scopesAllow(token.scopes, need),
    allowsCollection: (collectionId) => reachIncludes(collections, collectionId),
  };
}

/** The 403 for a need the grant lacks. */
export function scopeFailure(grant: ApiGrant, need: ApiScopeNeed): ApiAuthFailure {
  const wanted = need === 'documents' ? '"documents:*" or "documents:<collection>"' : `"${need}"`;
  return { status: 403, code: 'FORBIDDEN', message: `The API token "${grant.tokenName}" lacks the scope ${wanted} this request needs.` };
}

/** The 403 for a collection outside the grant's documents scopes. */
export function collectionFailure(grant: ApiGrant, collection: string): ApiAuthFailure {
  return { status: 403, code: 'FORBIDDEN', message: `The API token "${grant.tokenName}" may not read the collection "${collection}" (it needs "documents:${collection}" or "documents:*").` };
}

/** The token a request presents: `Authorization: Bearer …`, else `x-api-key`; null when neither. */
export function presentedToken(headers: IncomingHttpHeaders): string | null {
  const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
  if (bearer) return bearer;
  const key = headers['x-api-key'];
  const value = Array.isArray(key) ? key[0] : key;
  return value?.trim() || null;
}

/** OpenAI's error JSON: `{ error: { message, type, param, code } }`. */
export function openAiAuthError(failure: ApiAuthFailure): { error: { message: string; type: string; param: null; code: string } } {
  return failure.status === 401
    ? { error: { message: failure.message, type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }
    : { error: { message: failure.message, type: 'permission_error', param: null, code: 'insufficient_permissions' } };
}

/** Anthropic's error JSON: `{ type: 'error', error: { type, message } }`. */
export function anthropicAuthError(failure: ApiAuthFailure): { type: 'error'; error: { type: string; message: string } } {
  return { type: 'error', error: { type: failure.status === 401 ? 'authentication_error' : 'permission_error', message: failure.message } };
}

export function writeOpenAiAuthError(res: ServerResponse, failure: ApiAuthFailure): void {
  writeAuthJson(res, failure, openAiAuthError(failure));
}

export function writeAnthropicAuthError(res: ServerResponse, failure: ApiAuthFailure): void {
  writeAuthJson(res, failure, anthropicAuthError(failure));
}

function writeAuthJson(res: ServerResponse, failure: ApiAuthFailure, body: unknown): void {
  const headers: Record<string, string> = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' };
  if (failure.status === 401) headers['WWW-Authenticate'] = 'Bearer realm="hearth"';
  res.writeHead(failure.status, headers);
  res.end(JSON.stringify(body));
}
