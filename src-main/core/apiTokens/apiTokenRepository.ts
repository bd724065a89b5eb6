import type { ApiToken } from '#contract/dto';
import type { Db } from '../storage/database';

interface Row {
  id: string;
  name: string;
  scopes_json: string;
  created_at: number;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

const COLUMNS = 'id, name, scopes_json, created_at, expires_at, last_used_at, revoked_at';

/** The api_tokens table. A token is found by its sha256; the token itself is never written. */
export class ApiTokenRepository {
  constructor(private readonly db: Db) {}

  insert(token: ApiToken, sha256: string): void {
    this.db
      .prepare(
        `INSERT INTO api_tokens (id, name, token_sha256, scopes_json, created_at, expires_at, last_used_at, revoked_at)
         VALUES (?, ?, ?, ?, ?, ?, NULL, NULL)`,
      )
      .run(token.id, token.name, sha256, JSON.stringify(token.scopes), token.createdAt, token.expiresAt);
  }

  list(): ApiToken[] {
    const rows = this.db.prepare(`SELECT ${COLUMNS} FROM api_tokens ORDER BY created_at DESC, id`).all() as Row[];
    return rows.map(toToken);
  }

  get(id: string): ApiToken | null {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM api_tokens WHERE id = ?`).get(id) as Row | undefined;
    return row ? toToken(row) : null;
  }

  bySha256(sha256: string): ApiToken | null {
    const row = this.db.prepare(`SELECT ${COLUMNS} FROM api_tokens WHERE token_sha256 = ?`).get(sha256) as Row | undefined;
    return row ? toToken(row) : null;
  }

  revoke(id: string, at: number): void {
    this.db.prepare('UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL').run(at, id);
  }

  touch(id: string, at: number): void {
    this.db.prepare('UPDATE api_tokens SET last_used_at = ? WHERE id = ?').run(at, id);
  }

  /** Tokens that would let a request in now: not revoked, not expired. */
  activeCount(now: number): number {
    const row = this.db
      .prepare('SELECT COUNT(*) AS n FROM api_tokens WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?)')
      .get(now) as { n: number };
    return row.n;
  }
}

function toToken(row: Row): ApiToken {
  let scopes: string[] = [];
  try {
    const parsed: unknown = JSON.parse(row.scopes_json);
    // A damaged row grants nothing rather than something.
    if (Array.isArray(parsed)) scopes = parsed.filter((s): s is string => typeof s === 'string');
  } catch {
    scopes = [];
  }
  return {
    id: row.id,
    name: row.name,
    scopes,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
  };
}
