import type { IncomingMessage, ServerResponse } from 'node:http';
import { IMPORT_UPLOAD_PATH } from './importUpload';
import type { LocalAccess } from './localAccess';

/** How to get in again, for every refusal a person may read. */
const NEW_URL_HINT =
  'Each URL that `hearth serve` prints works once; for another, press Enter in the terminal where it runs, or send it SIGUSR1 (kill -USR1 PID).';

/**
 * The gate in front of every HTTP request: the Host must be this server, a one-time code is
 * exchanged for the session cookie, and anything else needs the token (bearer header, or the
 * cookie under the session prefix); only GET and HEAD, and the POST of a chat import
 * (importUpload.ts). Returns the path to serve, with the session prefix taken
 * off, or null when it has already answered.
 */
export function admitRequest(req: IncomingMessage, res: ServerResponse, access: LocalAccess): string | null {
  if (!access.hostAllowed(req.headers.host)) {
    sendText(res, 403, 'Forbidden: this server only answers to 127.0.0.1 and localhost.');
    return null;
  }
  const url = requestUrl(req);
  if (!url) {
    sendText(res, 400, 'Bad request');
    return null;
  }
  if (url.pathname === '/' && url.searchParams.has('code')) {
    exchangeCode(req, res, url, access);
    return null;
  }
  const { path, scoped } = access.route(url.pathname);
  // The cookie's path ends with a slash, so the browser sends it only once the slash is there.
  if (path === '') {
    redirect(res, 307, access.home);
    return null;
  }
  if (!access.authorize({ headers: req.headers, scoped })) {
    sendText(res, 401, `Unauthorized: open a URL that \`hearth serve\` printed. ${NEW_URL_HINT}`);
    return null;
  }
  if (req.method === 'POST' && path === IMPORT_UPLOAD_PATH) {
    // A browser's POST carries Origin: it must be this server's own page (no cross-site
    // form posts); a client without one must show the token itself.
    const origin = req.headers.origin;
    if (origin === undefined ? !req.headers.authorization : !access.originAllowed(origin, req.headers.host)) {
      sendText(res, 403, 'Forbidden: an import is posted by this server\'s own page, or with the token.');
      return null;
    }
    return path;
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('Allow', 'GET, HEAD');
    sendText(res, 405, 'Method not allowed');
    return null;
  }
  return path;
}

/**
 * GET /?code=…: a code that was issued and not yet used is spent, and the browser gets the
 * session cookie and goes to the session's home. The address it leaves behind in the
 * browser's history carries a dead code.
 */
function exchangeCode(req: IncomingMessage, res: ServerResponse, url: URL, access: LocalAccess): void {
  if (req.method !== 'GET') {
    // Only opening the URL spends the code: a HEAD (a link checker, a preview) must not.
    res.setHeader('Allow', 'GET');
    sendText(res, 405, 'Method not allowed: a one-time URL is opened with GET.');
    return;
  }
  const codes = url.searchParams.getAll('code');
  if (codes.length !== 1 || !access.redeemCode(codes[0]!)) {
    sendText(res, 401, `Unauthorized: this one-time URL was already used, or is from an earlier start. ${NEW_URL_HINT}`);
    return;
  }
  res.setHeader('Set-Cookie', [access.sessionCookie(), access.legacyCookieRemoval()]);
  redirect(res, 303, access.home);
}

/** Why a WebSocket handshake is refused ([status, text]), or null to accept it. */
export function upgradeRejection(req: IncomingMessage, access: LocalAccess): readonly [number, string] | null {
  const url = requestUrl(req);
  if (!url) return [400, 'Bad request'];
  const { path, scoped } = access.route(url.pathname);
  if (path !== '/ws') return [404, 'Not found'];
  if (!access.hostAllowed(req.headers.host)) return [403, 'Forbidden: unexpected Host'];
  if (!access.originAllowed(req.headers.origin, req.headers.host)) return [403, 'Forbidden: cross-origin WebSocket'];
  if (!access.authorize({ headers: req.headers, scoped, query: url.searchParams })) return [401, 'Unauthorized'];
  return null;
}

export function requestUrl(req: IncomingMessage): URL | null {
  try {
    // Only path and query are used; the base never decides where a request goes.
    return new URL(req.url ?? '/', 'http://127.0.0.1');
  } catch {
    return null;
  }
}

export function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(`${text}\n`);
}

function redirect(res: ServerResponse, status: 303 | 307, location: string): void {
  res.writeHead(status, { Location: location, 'Cache-Control': 'no-store', 'Content-Length': '0' });
  res.end();
}
