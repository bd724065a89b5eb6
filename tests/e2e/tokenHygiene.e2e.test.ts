import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openProfileBrowser } from '../support/browser';
import { startServe, type ServeRun } from '../support/server';
import { tempDir } from '../support/tempDir';

/** Every file below a folder, with its path. */
function filesBelow(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path, { throwIfNoEntry: false })?.isFile() === true);
}

/** Every http://127.0.0.1:PORT/… address written in a file, binary or not (Chromium's session files are binary). */
function addressesIn(path: string, port: number): string[] {
  const text = readFileSync(path).toString('latin1');
  return [...text.matchAll(new RegExp(`http://(?:127\\.0\\.0\\.1|localhost):${port}/[\\x21-\\x7e]*`, 'g'))].map((m) => m[0]);
}

/** Rows of one column of a Chromium SQLite database (opened read-only, after the browser closed). */
function column(path: string, sql: string): string[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return db.prepare(sql).pluck().all() as string[];
  } finally {
    db.close();
  }
}

/**
 * The server's credentials in a real browser: the printed URL carries a one-time code, the
 * browser's session cookie is bound to this server's random path, and nothing Chromium keeps
 * on disk (History, Favicons, Sessions, caches) opens the server again.
 */
describe('the server token stays with its server (e2e, real Chromium profile)', () => {
  let server: ServeRun;
  let data: ReturnType<typeof tempDir>;
  let profile: ReturnType<typeof tempDir>;
  let context: BrowserContext | null = null;
  let page: Page;
  let port: number;
  let home: string;
  let sessionToken: string;
  const errors: string[] = [];

  /** A second, unrelated server on another port of 127.0.0.1; it records what browsers send it. */
  let other: Server;
  let otherPort: number;
  const otherSaw: { url: string; headers: IncomingHttpHeaders }[] = [];

  beforeAll(async () => {
    data = tempDir('hearth-e2e-');
    profile = tempDir('hearth-chromium-profile-');
    server = await startServe(['--data-dir', data.path, '--gpu', 'off', '--threads', '1']);
    port = Number(new URL(server.url).port);
    other = createServer((req, res) => {
      otherSaw.push({ url: req.url ?? '', headers: req.headers });
      // Its own Path=/ cookie: proof that this browser does send cookies to this port.
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Set-Cookie': 'other_server=1; Path=/; SameSite=Lax' });
      res.end('<!doctype html><title>another server</title><p>another server</p>');
    });
    await new Promise<void>((done) => other.listen(0, '127.0.0.1', done));
    otherPort = (other.address() as AddressInfo).port;
    ({ context, page } = await openProfileBrowser(profile.path, { width: 1280, height: 800 }, errors));
  });

  afterAll(async () => {
    await context?.close();
    await server?.stop();
    await new Promise((done) => other?.close(done));
    data?.cleanup();
    profile?.cleanup();
  });

  const bareFetch = (url: string, headers: Record<string, string> = {}) => fetch(url, { headers, redirect: 'manual' });

  it('opens the printed one-time URL, and the session survives reloads and new tabs', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.getByTestId('backend-badge').innerText(), { timeout: 20_000 }).toMatch(/CPU/);
    const landed = new URL(page.url());
    expect(landed.pathname).toMatch(/^\/s\/[A-Za-z0-9_-]{22}\/$/);
    expect(landed.search).toBe('');
    home = `http://127.0.0.1:${port}${landed.pathname}`;

    await page.getByTestId('nav-models').click();
    expect(new URL(page.url()).hash).toBe('#/models');
    await page.getByTestId('nav-documents').click();
    await expect.poll(() => page.getByTestId('documents-empty').count(), { timeout: 20_000 }).toBe(1);
    await page.reload();
    await expect.poll(() => page.getByTestId('documents-empty').count(), { timeout: 20_000 }).toBe(1);

    // A new tab on the session's address (a bookmark, a copied link) needs no new code.
    const tab = await context!.newPage();
    await tab.goto(`${home}#/models`);
    await expect.poll(() => tab.getByTestId('backend-badge').innerText(), { timeout: 20_000 }).toMatch(/CPU/);
    await tab.close();

    // The browser holds exactly one Hearth cookie: HttpOnly, and only for this server's path.
    const cookies = (await context!.cookies()).filter((c) => c.name.startsWith('hearth'));
    expect(cookies).toHaveLength(1);
    expect(cookies[0]).toMatchObject({ name: 'hearth_session', path: landed.pathname, httpOnly: true, sameSite: 'Strict' });
    sessionToken = cookies[0]!.value;
    expect(sessionToken).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await bareFetch(`http://127.0.0.1:${port}/healthz`, { Authorization: `Bearer ${sessionToken}` })).status).toBe(200);
    expect(errors).toEqual([]);
  });

  it('sends no credential of the first server to a second server on another port of 127.0.0.1', async () => {
    const visit = await context!.newPage();
    // Paths the first server uses, and the address the first server's cookie would match with Path=/.
    for (const path of ['/', '/s/', '/ws', '/healthz', '/assets/index.js', '/documents/doc_000000000000000000000000/file', '/?code=x']) {
      await visit.goto(`http://127.0.0.1:${otherPort}${path}`);
    }
    await visit.close();

    expect(otherSaw.length).toBeGreaterThanOrEqual(7);
    // The control: this browser does send cookies to the second server, just never Hearth's.
    expect(otherSaw.some((r) => r.headers.cookie?.includes('other_server=1'))).toBe(true);
    for (const { url, headers } of otherSaw) {
      expect(headers.cookie ?? '', url).not.toMatch(/hearth/);
      expect(headers.authorization, url).toBeUndefined();
      for (const value of Object.values(headers)) expect(String(value), url).not.toContain(sessionToken);
      // Whatever it got, none of it opens the first server.
      for (const [, value] of (headers.cookie ?? '').matchAll(/[^=;\s]+=([^;]*)/g)) {
        expect((await bareFetch(home, { Cookie: `hearth_session=${value}` })).status).toBe(401);
        expect((await bareFetch(`http://127.0.0.1:${port}/healthz`, { Authorization: `Bearer ${value}` })).status).toBe(401);
      }
    }
  });

  it("leaves nothing in Chromium's History, Favicons or Sessions that opens the server; the spent code gets 401", async () => {
    // Chromium writes its databases out when it closes.
    await context!.close();
    context = null;
    const profileDir = join(profile.path, 'Default');
    const history = column(join(profileDir, 'History'), 'SELECT url FROM urls');
    const favicons = [
      ...column(join(profileDir, 'Favicons'), 'SELECT page_url FROM icon_mapping'),
      ...column(join(profileDir, 'Favicons'), 'SELECT url FROM favicons'),
    ];
    const sessionFiles = filesBelow(join(profileDir, 'Sessions'));
    expect(sessionFiles.length).toBeGreaterThan(0);
    const sessions = sessionFiles.flatMap((file) => addressesIn(file, port));

    // The test reads the right places: the printed URL and the session's address are recorded.
    expect(history).toContain(server.url);
    expect(history.some((url) => url.startsWith(home))).toBe(true);
    expect(sessions.some((url) => url.startsWith(home))).toBe(true);

    const addresses = [...new Set([...history, ...favicons, ...sessions].filter((url) => new URL(url).port === String(port)))];
    for (const address of addresses) {
      expect(address).not.toContain(sessionToken);
      // No recorded address opens the server by itself: the spent code included (401, not a new session).
      const reply = await bareFetch(address);
      expect(reply.status, address).toBe(401);
      expect(reply.headers.getSetCookie(), address).toEqual([]);
    }
    const replay = await bareFetch(server.url);
    expect(replay.status).toBe(401);
    expect(await replay.text()).toMatch(/already used/);

    // Nor does the token appear in any file of the profile, caches included, outside the cookie jar
    // (where a browser keeps cookies, encrypted on Linux).
    const needles = [Buffer.from(sessionToken, 'utf8'), Buffer.from(sessionToken, 'utf16le')];
    for (const file of filesBelow(profile.path)) {
      if (/[/\\]Cookies(-journal)?$/.test(file)) continue;
      const bytes = readFileSync(file);
      for (const needle of needles) expect(bytes.includes(needle), file).toBe(false);
    }

    // A new browser needs a new one-time URL, and gets one from the running server.
    const fresh = await server.newUrl();
    expect(fresh).not.toBe(server.url);
    const signIn = await bareFetch(fresh);
    expect(signIn.status).toBe(303);
    expect(signIn.headers.get('location')).toBe(new URL(home).pathname);
  });
});
