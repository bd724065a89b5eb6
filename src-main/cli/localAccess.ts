import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { HearthError } from '../core/common/hearthError';

/**
 * The cookie the page gets once it was opened with ?token=, so its assets and WebSocket carry
 * it. Browsers share cookies across ports, so the name carries the port: two servers on one
 * machine do not overwrite each other's session.
 */
export const tokenCookieName = (port: number): string => `hearth_token_${port}`;

/** Tokens go into URLs and cookies, so they are kept to URL-safe characters. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,512}$/;

/** A fresh per-start secret: 32 random bytes, base64url. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

export function assertValidToken(token: string): void {
  if (!TOKEN_PATTERN.test(token)) {
    throw new HearthError('BAD_INPUT', 'The server token must be 16 to 512 characters of A-Z, a-z, 0-9, "-" or "_".');
  }
}

export type CredentialSource = 'query' | 'bearer' | 'cookie';

/**
 * Who may talk to the local server: requests addressed to 127.0.0.1:PORT or localhost:PORT
 * (any other Host means DNS rebinding or a proxy, so it is refused) that carry the token.
 */
export class LocalAccess {
  private readonly digest: Buffer;

  constructor(
    readonly token: string,
    readonly port: number,
  ) {
    assertValidToken(token);
    this.digest = sha256(token);
  }

  hostAllowed(host: string | undefined): boolean {
    const value = host?.toLowerCase();
    return value === `127.0.0.1:${this.port}` || value === `localhost:${this.port}`;
  }

  /** Browsers send Origin on WebSocket handshakes: it must be this very server's page. */
  originAllowed(origin: string | undefined, host: string | undefined): boolean {
    if (origin === undefined) return true;
    return this.hostAllowed(host) && origin.toLowerCase() === `http://${host!.toLowerCase()}`;
  }

  /** Where a valid token was found (query first, so a fresh link can replace a stale cookie), or null. */
  authorize(query: URLSearchParams, headers: IncomingHttpHeaders): CredentialSource | null {
    for (const candidate of query.getAll('token')) if (this.matches(candidate)) return 'query';
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(headers.authorization ?? '')?.[1];
    if (bearer !== undefined && this.matches(bearer)) return 'bearer';
    for (const candidate of cookieValues(headers.cookie, tokenCookieName(this.port))) if (this.matches(candidate)) return 'cookie';
    return null;
  }

  /** Set-Cookie value for a page opened with the token. HttpOnly: page scripts never see it. */
  sessionCookie(): string {
    return `${tokenCookieName(this.port)}=${this.token}; HttpOnly; SameSite=Strict; Path=/`;
  }

  /** Constant-time: both sides are hashed first so their lengths cannot leak either. */
  private matches(candidate: string): boolean {
    return timingSafeEqual(sha256(candidate), this.digest);
  }
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

/** Every value of the named cookie in a Cookie header (a browser may send more than one). */
export function cookieValues(header: string | undefined, name: string): string[] {
  if (!header) return [];
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values;
}
