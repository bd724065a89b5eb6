import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { HearthError } from '../core/common/hearthError';
import { OneTimeCodes } from './oneTimeCodes';

/** The browser session's cookie. Its Path (the server's session prefix) keeps it to this server. */
export const SESSION_COOKIE = 'hearth_session';

/** The cookie earlier versions set with Path=/ (sent to every port of 127.0.0.1); cleared on sign-in. */
export const legacyCookieName = (port: number): string => `hearth_token_${port}`;

/** Tokens go into headers and cookies, so they are kept to URL-safe characters. */
const TOKEN_PATTERN = /^[A-Za-z0-9_-]{16,512}$/;

/** A fresh per-start secret: 32 random bytes, base64url. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The session prefix's secret part for a token: derived from it (HMAC, so the prefix, which a
 * browser's history keeps, reveals nothing of the token), hence as stable as the token. A
 * server that keeps its token across restarts keeps its prefix, so an open page's cookie and
 * address still work after a restart; a new token moves the prefix too.
 */
export function sessionScope(token: string): string {
  return createHmac('sha256', token).update('hearth session scope v1').digest().subarray(0, 16).toString('base64url');
}

export function assertValidToken(token: string): void {
  if (!TOKEN_PATTERN.test(token)) {
    throw new HearthError('BAD_INPUT', 'The server token must be 16 to 512 characters of A-Z, a-z, 0-9, "-" or "_".');
  }
}

export type CredentialSource = 'query' | 'bearer' | 'cookie';

export interface CredentialRequest {
  headers: IncomingHttpHeaders;
  /** Whether the request is under the session prefix, the only place the cookie counts. */
  scoped: boolean;
  /** ?token= is read only where given: on WebSocket handshakes, whose URLs never enter a browser's history. */
  query?: URLSearchParams;
}

/** A request path with the session prefix taken off. */
export interface RoutedPath {
  path: string;
  scoped: boolean;
}

/**
 * Who may talk to the local server: requests addressed to 127.0.0.1:PORT or localhost:PORT
 * (any other Host means DNS rebinding or a proxy, so it is refused) that carry the token.
 *
 * Browsers get the token as a cookie, in exchange for a one-time code (see OneTimeCodes).
 * Cookies ignore ports, so a cookie with Path=/ would go to every server on 127.0.0.1; this
 * one has Path=/s/<scope>/, where the scope is a secret string that only this server and the
 * browser know (random, or derived from the token: see sessionScope), so the browser sends it
 * to no other server.
 */
export class LocalAccess {
  private readonly digest: Buffer;
  private readonly scopeDigest: Buffer;
  private readonly codes = new OneTimeCodes();

  constructor(
    readonly token: string,
    readonly port: number,
    readonly scope: string = randomBytes(16).toString('base64url'),
  ) {
    assertValidToken(token);
    this.digest = sha256(token);
    this.scopeDigest = sha256(scope);
  }

  /** Where the UI lives for a browser session: the cookie's path. */
  get home(): string {
    return `/s/${this.scope}/`;
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

  /** A code for one more browser session (`/?code=…`); it works once. */
  issueCode(): string {
    return this.codes.issue();
  }

  /** True the first time an issued code is presented, never again. */
  redeemCode(candidate: string): boolean {
    return this.codes.redeem(candidate);
  }

  /**
   * /s/<scope>/x → { path: '/x', scoped: true }; /s/<scope> alone → { path: '', scoped: true }
   * (to be redirected to the home with its slash); any other path stays as it is.
   */
  route(pathname: string): RoutedPath {
    const match = /^\/s\/([^/]*)(\/.*)?$/.exec(pathname);
    if (match && timingSafeEqual(sha256(match[1]!), this.scopeDigest)) return { path: match[2] ?? '', scoped: true };
    return { path: pathname, scoped: false };
  }

  /** Where a valid token was found (bearer header, the cookie under the session prefix, ?token= where allowed), or null. */
  authorize(request: CredentialRequest): CredentialSource | null {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
    if (bearer !== undefined && this.matches(bearer)) return 'bearer';
    if (request.scoped) {
      for (const candidate of cookieValues(request.headers.cookie, SESSION_COOKIE)) if (this.matches(candidate)) return 'cookie';
    }
    for (const candidate of request.query?.getAll('token') ?? []) if (this.matches(candidate)) return 'query';
    return null;
  }

  /** Set-Cookie for a redeemed code. HttpOnly: page scripts never see it; the path keeps it here. */
  sessionCookie(): string {
    return `${SESSION_COOKIE}=${this.token}; HttpOnly; SameSite=Strict; Path=${this.home}`;
  }

  /** Set-Cookie that deletes an earlier version's Path=/ cookie for this port, so it stops going to other servers. */
  legacyCookieRemoval(): string {
    return `${legacyCookieName(this.port)}=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/`;
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
