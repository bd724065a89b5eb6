import { describe, expect, it } from 'vitest';
import { cookieValues, LocalAccess, newToken } from '../../src-main/cli/localAccess';

describe('LocalAccess', () => {
  const token = newToken();
  const access = new LocalAccess(token, 4000);
  const query = (q: string) => new URLSearchParams(q);

  it('makes 256-bit base64url tokens, different every time', () => {
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newToken()).not.toBe(token);
  });

  it('accepts the token from the query, a bearer header or the cookie', () => {
    expect(access.authorize(query(`token=${token}`), {})).toBe('query');
    expect(access.authorize(query(''), { authorization: `Bearer ${token}` })).toBe('bearer');
    expect(access.authorize(query(''), { cookie: `a=1; hearth_token_4000=${token}; b=2` })).toBe('cookie');
    // A fresh link wins over a stale cookie from an earlier run.
    expect(access.authorize(query(`token=${token}`), { cookie: 'hearth_token_4000=stale' })).toBe('query');
  });

  it('refuses anything else', () => {
    expect(access.authorize(query(''), {})).toBeNull();
    expect(access.authorize(query(`token=${token}x`), {})).toBeNull();
    expect(access.authorize(query(`token=${token.slice(1)}`), {})).toBeNull();
    expect(access.authorize(query(''), { authorization: `Basic ${token}` })).toBeNull();
    expect(access.authorize(query(''), { cookie: `other_token=${token}` })).toBeNull();
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

  it('sets an HttpOnly, SameSite=Strict session cookie', () => {
    expect(access.sessionCookie()).toBe(`hearth_token_4000=${token}; HttpOnly; SameSite=Strict; Path=/`);
    // Another server's cookie (another port) does not authorize this one.
    expect(access.authorize(new URLSearchParams(''), { cookie: `hearth_token_4001=${token}` })).toBeNull();
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
