import { describe, expect, it } from 'vitest';
import { cookieValues, LocalAccess, newToken } from '../../src-main/cli/localAccess';
import { OneTimeCodes } from '../../src-main/cli/oneTimeCodes';

describe('LocalAccess', () => {
  const token = newToken();
  const access = new LocalAccess(token, 4000, 'scope-for-tests');
  const query = (q: string) => new URLSearchParams(q);

  it('makes 256-bit base64url tokens, different every time', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newToken()).not.toBe(token);
  });

  it('accepts the token from a bearer header, the cookie under its prefix, or ?token= where allowed', () => {
    expect(access.authorize({ headers: { authorization: `Bearer ${token}` }, scoped: false })).toBe('bearer');
    expect(access.authorize({ headers: { cookie: `a=1; hearth_session=${token}; b=2` }, scoped: true })).toBe('cookie');
    // A stale cookie from an earlier run does not hide a valid one beside it.
    expect(access.authorize({ headers: { cookie: `hearth_session=stale; hearth_session=${token}` }, scoped: true })).toBe('cookie');
    expect(access.authorize({ headers: {}, scoped: false, query: query(`token=${token}`) })).toBe('query');
  });

  it('refuses anything else', () => {
    expect(access.authorize({ headers: {}, scoped: true })).toBeNull();
    expect(access.authorize({ headers: {}, scoped: false, query: query(`token=${token}x`) })).toBeNull();
    expect(access.authorize({ headers: {}, scoped: false, query: query(`token=${token.slice(1)}`) })).toBeNull();
    expect(access.authorize({ headers: { authorization: `Basic ${token}` }, scoped: true })).toBeNull();
    expect(access.authorize({ headers: { cookie: `other_token=${token}` }, scoped: true })).toBeNull();
    // The cookie counts only under the session prefix, where the browser sends it.
    expect(access.authorize({ headers: { cookie: `hearth_session=${token}` }, scoped: false })).toBeNull();
  });

  it('allows only 127.0.0.1 and localhost on its own port', () => {
    expect(access.hostAllowed('127.0.0.1:4000')).toBe(true);
    expect(access.hostAllowed('LOCALHOST:4000')).toBe(true);
    for (const host of [undefined, '', '127.0.0.1', '127.0.0.1:4001', 'evil.example:4000', '[::1]:4000', '0.0.0.0:4000']) {
      expect(access.hostAllowed(host), String(host)).toBe(false);
    }
  });

  it('allows no Origin (non-browser clients) or exactly its own', () => {
    expect(access.originAllowed(undefined, '127.0.0.1:4000')).toBe(true);
    expect(access.originAllowed('http://127.0.0.1:4000', '127.0.0.1:4000')).toBe(true);
    expect(access.originAllowed('http://localhost:4000', '127.0.0.1:4000')).toBe(false);
    expect(access.originAllowed('null', '127.0.0.1:4000')).toBe(false);
    expect(access.originAllowed('https://127.0.0.1:4000', '127.0.0.1:4000')).toBe(false);
  });

  it('sets an HttpOnly, SameSite=Strict session cookie whose path is its own random prefix', () => {
    expect(access.home).toBe('/s/scope-for-tests/');
    expect(access.sessionCookie()).toBe(`hearth_session=${token}; HttpOnly; SameSite=Strict; Path=/s/scope-for-tests/`);
    expect(access.legacyCookieRemoval()).toBe('hearth_token_4000=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/');
    // Each server draws its own prefix, so no two servers share a cookie path.
    const a = new LocalAccess(newToken(), 4001);
    const b = new LocalAccess(newToken(), 4002);
    expect(a.scope).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(a.scope).not.toBe(b.scope);
  });

  it('takes the session prefix off a path, and only its own', () => {
    expect(access.route('/s/scope-for-tests/')).toEqual({ path: '/', scoped: true });
    expect(access.route('/s/scope-for-tests/assets/app.js')).toEqual({ path: '/assets/app.js', scoped: true });
    expect(access.route('/s/scope-for-tests')).toEqual({ path: '', scoped: true });
    for (const path of ['/', '/s/', '/s/other/', '/s/scope-for-test/', '/s/scope-for-testsx/', '/x/s/scope-for-tests/']) {
      expect(access.route(path), path).toEqual({ path, scoped: false });
    }
  });

  it('redeems each code it issued exactly once', () => {
    const first = access.issueCode();
    const second = access.issueCode();
    expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(first).not.toBe(second);
    expect(access.redeemCode(first)).toBe(true);
    expect(access.redeemCode(first)).toBe(false);
    expect(access.redeemCode(token)).toBe(false);
    expect(access.redeemCode(second)).toBe(true);
    // Another server's code is worth nothing here.
    expect(access.redeemCode(new LocalAccess(newToken(), 4001).issueCode())).toBe(false);
  });

  it('rejects weak or unsafe tokens', () => {
    expect(() => new LocalAccess('short', 1)).toThrow(/token/);
    expect(() => new LocalAccess('a token with spaces and; semicolons', 1)).toThrow(/token/);
  });

  it('reads every value of a cookie', () => {
    expect(cookieValues('a=1; hearth_token=x; hearth_token=y=z', 'hearth_token')).toEqual(['x', 'y=z']);
    expect(cookieValues(undefined, 'hearth_token')).toEqual([]);
  });
});

describe('OneTimeCodes', () => {
  it('keeps at most eight unused codes, forgetting the oldest', () => {
    const codes = new OneTimeCodes();
    const issued = Array.from({ length: 10 }, () => codes.issue());
    expect(codes.outstanding).toBe(8);
    expect(codes.redeem(issued[0]!)).toBe(false);
    expect(codes.redeem(issued[1]!)).toBe(false);
    for (const code of issued.slice(2)) expect(codes.redeem(code)).toBe(true);
    expect(codes.outstanding).toBe(0);
  });
});
