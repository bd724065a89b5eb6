import { createHash, randomBytes } from 'node:crypto';
import type { ApiToken, ApiTokenCreated } from '#contract/dto';
import { HearthError } from '../common/hearthError';
import { newId } from '../common/ids';
import type { ApiTokenRepository } from './apiTokenRepository';
import { normalizeScopes, type ScopeCollection } from './apiTokenScopes';

/** Every token starts so; secret scanners and people can tell what it is. */
const TOKEN_PREFIX = 'hearth_';
/** A token's last use is written at most this often (a busy client must not write on every request). */
const TOUCH_INTERVAL_MS = 60_000;

/** Why a presented token lets nobody in. */
export type TokenRefusal = 'missing' | 'unknown' | 'expired' | 'revoked';

export type TokenCheck = { ok: true; token: ApiToken } | { ok: false; reason: TokenRefusal };

export interface ApiTokenServiceDeps {
  repo: ApiTokenRepository;
  /** A collection by name or id, for `documents:<collection>` scopes. */
  findCollection: (nameOrId: string) => ScopeCollection | null;
  now?: () => number;
}

/**
 * API tokens for the local API and MCP. A token is 32 random bytes; only its sha256 is
 * stored (a token with this much entropy needs no slow hash), so the secret is returned once,
 * by create, and cannot be shown again.
 */
export class ApiTokenService {
  private readonly now: () => number;
  private readonly touched = new Map<string, number>();

  constructor(private readonly deps: ApiTokenServiceDeps) {
    this.now = deps.now ?? Date.now;
  }

  list(): ApiToken[] {
    return this.deps.repo.list();
  }

  create(input: { name: string; scopes: readonly string[]; expiresAt?: number | null }): ApiTokenCreated {
    const name = input.name.trim();
    if (name.length === 0 || name.length > 100) throw new HearthError('BAD_INPUT', 'A token needs a name of 1 to 100 characters.');
    const scopes = normalizeScopes(input.scopes, this.deps.findCollection);
    const createdAt = this.now();
    const expiresAt = input.expiresAt ?? null;
    if (expiresAt !== null && expiresAt <= createdAt) throw new HearthError('BAD_INPUT', 'A token cannot expire in the past.');
    const secret = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    const token: ApiToken = { id: newId('tok'), name, scopes, createdAt, expiresAt, lastUsedAt: null, revokedAt: null };
    this.deps.repo.insert(token, tokenSha256(secret));
    return { token, secret };
  }

  /** Revokes at once (the next request with it gets 401); revoking twice keeps the first time. */
  revoke(tokenId: string): ApiToken {
    if (!this.deps.repo.get(tokenId)) throw new HearthError('NOT_FOUND', `No API token with id "${tokenId}".`);
    this.deps.repo.revoke(tokenId, this.now());
    this.touched.delete(tokenId);
    return this.deps.repo.get(tokenId)!;
  }

  /** Tokens that would let a request in now (for `--lan`, which needs one). */
  activeCount(): number {
    return this.deps.repo.activeCount(this.now());
  }

  /** Looks a presented secret up by its hash; a usable one has its last use recorded (throttled). */
  check(secret: string | null | undefined): TokenCheck {
    if (!secret) return { ok: false, reason: 'missing' };
    const token = this.deps.repo.bySha256(tokenSha256(secret));
    if (!token) return { ok: false, reason: 'unknown' };
    const now = this.now();
    if (token.revokedAt !== null) return { ok: false, reason: 'revoked' };
    if (token.expiresAt !== null && token.expiresAt <= now) return { ok: false, reason: 'expired' };
    const last = this.touched.get(token.id) ?? token.lastUsedAt ?? 0;
    if (now - last >= TOUCH_INTERVAL_MS) {
      this.touched.set(token.id, now);
      this.deps.repo.touch(token.id, now);
      return { ok: true, token: { ...token, lastUsedAt: now } };
    }
    return { ok: true, token };
  }
}

export function tokenSha256(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}
