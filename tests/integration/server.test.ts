import { request, type IncomingHttpHeaders } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ChatStreamEvent, LoadedModel, ModelInfo, SendResult, Thread } from '#contract/dto';
import { startServer, type HearthServer } from '../../src-main/cli/server';
import { WireClient } from '../support/wireClient';
import type { Core } from '../../src-main/core/createCore';
import { tempDir } from '../support/tempDir';
import { createTestCore } from '../support/testCore';
import { testModelPath } from '../support/testModels';

interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Raw node:http, so paths stay unnormalized and the Host header can be forged. */
function httpGet(port: number, path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** Resolves with the HTTP status the server answered a refused WebSocket handshake with. */
function refusedUpgrade(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      ws.close();
      reject(new Error('the handshake was accepted'));
    });
    ws.on('error', () => undefined);
  });
}

describe('local server: HTTP, auth and the contract over WebSocket', () => {
  let core: Core;
  let cleanupCore: () => Promise<void>;
  const dir = tempDir('hearth-server-test-');
  let server: HearthServer;
  let port: number;
  let token: string;
  let wsUrl: string;
  const clients: WireClient[] = [];

  const open = async (headers: Record<string, string> = {}, url = wsUrl) => {
    const client = await WireClient.open(url, headers);
    clients.push(client);
    return client;
  };
  const bearer = () => ({ Authorization: `Bearer ${token}` });
  /** Opens a fresh one-time URL as a browser would: its reply's redirect and session cookie. */
  const signIn = async (): Promise<{ home: string; cookie: string; reply: HttpReply }> => {
    const url = new URL(server.newUrl());
    const reply = await httpGet(port, url.pathname + url.search);
    const home = reply.headers.location ?? '';
    const cookie = (reply.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
    return { home, cookie, reply };
  };

  beforeAll(async () => {
    ({ core, cleanup: cleanupCore } = createTestCore());
    // A tiny stand-in for the built renderer, plus a file beside it that must never be served.
    const rendererDir = join(dir.path, 'renderer');
    mkdirSync(join(rendererDir, 'assets'), { recursive: true });
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Hearth test</title><script type="module" src="./assets/app.js"></script>');
    writeFileSync(join(rendererDir, 'assets', 'app.js'), 'console.log("hearth");');
    writeFileSync(join(dir.path, 'secret.txt'), 'not for the browser');
    server = await startServer(core, { port: 0, rendererDir });
    ({ port, token } = server);
    wsUrl = `ws://127.0.0.1:${port}/ws?token=${token}`;
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
    await cleanupCore?.();
    dir.cleanup();
  });

  describe('HTTP', () => {
    it('prints a one-time URL on 127.0.0.1 that never carries the random token', () => {
      expect(server.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${port}/\\?code=[A-Za-z0-9_-]{43}$`));
      expect(server.url).not.toContain(token);
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(server.newUrl()).not.toBe(server.url);
    });

    it('refuses a request without a token with 401', async () => {
      const reply = await httpGet(port, '/');
      expect(reply.status).toBe(401);
      expect(reply.body).toMatch(/Unauthorized/);
      expect(reply.body).not.toContain('<!doctype');
      expect(reply.headers['set-cookie']).toBeUndefined();
    });

    it('refuses a wrong token with 401, in the URL, a cookie or a bearer header', async () => {
      const wrong = `${token.slice(0, -1)}${token.endsWith('A') ? 'B' : 'A'}`;
      const { home } = await signIn();
      expect((await httpGet(port, `/?token=${wrong}`)).status).toBe(401);
      expect((await httpGet(port, home, { Cookie: `hearth_session=${wrong}` })).status).toBe(401);
      expect((await httpGet(port, '/', { Cookie: `hearth_token_${port}=${token}` })).status).toBe(401);
      expect((await httpGet(port, '/', { Authorization: `Bearer ${wrong}` })).status).toBe(401);
      expect((await httpGet(port, '/?token=')).status).toBe(401);
      // The right token in a page's URL is refused too: such a URL would stay in the browser's history.
      expect((await httpGet(port, `/?token=${token}`)).status).toBe(401);
      expect((await httpGet(port, `${home}?token=${token}`)).status).toBe(401);
    });

    it('exchanges a one-time code once for a session cookie bound to its own random path', async () => {
      const code = new URL(server.newUrl()).searchParams.get('code')!;
      const reply = await httpGet(port, `/?code=${code}`);
      expect(reply.status).toBe(303);
      const home = reply.headers.location ?? '';
      expect(home).toMatch(/^\/s\/[A-Za-z0-9_-]{22}\/$/);
      expect(reply.headers['cache-control']).toBe('no-store');
      expect(reply.headers['referrer-policy']).toBe('no-referrer');
      const [session, legacy] = reply.headers['set-cookie'] ?? [];
      expect(session).toBe(`hearth_session=${token}; HttpOnly; SameSite=Strict; Path=${home}`);
      expect(legacy).toBe(`hearth_token_${port}=; Max-Age=0; HttpOnly; SameSite=Strict; Path=/`);

      // Spent: the same code again, or a code this server never issued, gets 401 and no cookie.
      for (const again of [code, `${code.slice(0, -1)}A`, token]) {
        const replay = await httpGet(port, `/?code=${again}`);
        expect(replay.status).toBe(401);
        expect(replay.body).toMatch(/already used/);
        expect(replay.headers['set-cookie']).toBeUndefined();
      }
      // Only opening the URL spends a code; a HEAD or POST leaves it for the browser.
      const unused = new URL(server.newUrl()).searchParams.get('code')!;
      expect((await httpGet(port, `/?code=${unused}`, {}, 'HEAD')).status).toBe(405);
      expect((await httpGet(port, `/?code=${unused}`, {}, 'POST')).status).toBe(405);
      expect((await httpGet(port, `/?code=${unused}`)).status).toBe(303);
      // The session path without its slash leads to it (the cookie is only sent with the slash).
      const bare = await httpGet(port, home.slice(0, -1));
      expect(bare.status).toBe(307);
      expect(bare.headers.location).toBe(home);
    });

    it('serves the UI with the session cookie under its path, with the strict CSP and the security headers', async () => {
      const { home, cookie } = await signIn();
      const reply = await httpGet(port, home, { Cookie: cookie });
      expect(reply.status).toBe(200);
      expect(reply.body).toContain('<title>Hearth test</title>');
      expect(reply.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(reply.headers['content-security-policy']).toBe(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
      );
      expect(reply.headers['x-content-type-options']).toBe('nosniff');
      expect(reply.headers['referrer-policy']).toBe('no-referrer');
      expect(reply.headers['cache-control']).toBe('no-store');
      expect(reply.headers['set-cookie']).toBeUndefined();
      expect(cookie).toBe(`hearth_session=${token}`);
    });

    it('accepts the cookie alone afterwards, for the page assets, with the right content type', async () => {
      const { home, cookie } = await signIn();
      // Outside its path the cookie is worth nothing (a browser would not even send it there).
      expect((await httpGet(port, '/assets/app.js', { Cookie: cookie })).status).toBe(401);
      expect((await httpGet(port, `/s/another-scope/assets/app.js`, { Cookie: cookie })).status).toBe(401);
      const reply = await httpGet(port, `${home}assets/app.js`, { Cookie: `other=1; ${cookie}` });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toBe('text/javascript; charset=utf-8');
      expect(reply.headers['content-security-policy']).toContain("frame-ancestors 'none'");
      expect(reply.headers['set-cookie']).toBeUndefined();
      expect(reply.body).toBe('console.log("hearth");');
    });

    it('accepts a bearer token, and answers /healthz', async () => {
      const reply = await httpGet(port, '/healthz', { Authorization: `Bearer ${token}` });
      expect(reply.status).toBe(200);
      expect(reply.headers['content-type']).toMatch(/^application\/json/);
      expect(JSON.parse(reply.body)).toEqual({ ok: true });
      expect((await httpGet(port, '/healthz')).status).toBe(401);
    });

    it('refuses a forged Host header with 403 even with the token (DNS rebinding)', async () => {
      const code = new URL(server.newUrl()).searchParams.get('code')!;
      for (const host of [`evil.example:${port}`, `127.0.0.1:${port + 1}`, '127.0.0.1', `127.0.0.1.nip.io:${port}`]) {
        const reply = await httpGet(port, '/', { Host: host, ...bearer() });
        expect(reply.status, host).toBe(403);
        const exchange = await httpGet(port, `/?code=${code}`, { Host: host });
        expect(exchange.status, host).toBe(403);
        expect(exchange.headers['set-cookie'], host).toBeUndefined();
      }
      expect((await httpGet(port, '/', { Host: `localhost:${port}`, ...bearer() })).status).toBe(200);
      // A refused request does not spend the code.
      expect((await httpGet(port, `/?code=${code}`, { Host: `localhost:${port}` })).status).toBe(303);
    });

    it('never serves a file outside the renderer folder', async () => {
      const { home, cookie } = await signIn();
      for (const path of [
        '/../secret.txt',
        '/../package.json',
        '/%2e%2e/secret.txt',
        '/%2E%2E/%2E%2E/package.json',
        '/..%2fsecret.txt',
        '/assets/..%2f..%2fsecret.txt',
        '/assets/%2e%2e%2f%2e%2e%2fsecret.txt',
        '/..%5csecret.txt',
        '/%00index.html',
        '/%E0%A4%A',
      ]) {
        const reply = await httpGet(port, path, bearer());
        expect(reply.status, path).toBe(404);
        expect(reply.body, path).not.toContain('not for the browser');
        // Under the session path too; a ".." that climbs out of it also leaves the cookie's reach (401).
        const scoped = await httpGet(port, `${home}${path.slice(1)}`, { Cookie: cookie });
        expect([401, 404], path).toContain(scoped.status);
        expect(scoped.body, path).not.toContain('not for the browser');
      }
    });

    it('answers 404 for a missing file and 405 for other methods', async () => {
      expect((await httpGet(port, '/nope.js', { Authorization: `Bearer ${token}` })).status).toBe(404);
      expect((await httpGet(port, '/assets', { Authorization: `Bearer ${token}` })).status).toBe(404);
      const post = await httpGet(port, '/', { Authorization: `Bearer ${token}` }, 'POST');
      expect(post.status).toBe(405);
      expect(post.headers.allow).toBe('GET, HEAD');
    });
  });

  describe('WebSocket handshake', () => {
    it('refuses a client without a token, or with a wrong one, with 401', async () => {
      expect(await refusedUpgrade(`ws://127.0.0.1:${port}/ws`)).toBe(401);
      expect(await refusedUpgrade(`ws://127.0.0.1:${port}/ws?token=nope`)).toBe(401);
    });

    it('refuses a foreign Origin or Host with 403, and other paths with 404', async () => {
      expect(await refusedUpgrade(wsUrl, { Origin: 'http://evil.example' })).toBe(403);
      expect(await refusedUpgrade(wsUrl, { Origin: `http://localhost:${port + 1}` })).toBe(403);
      expect(await refusedUpgrade(wsUrl, { Host: `evil.example:${port}` })).toBe(403);
      expect(await refusedUpgrade(`ws://127.0.0.1:${port}/other?token=${token}`)).toBe(404);
    });

    it("accepts the page's own origin, and the session cookie under its path instead of ?token=", async () => {
      const byOrigin = await open({ Origin: `http://127.0.0.1:${port}` });
      expect((await byOrigin.call('app.info')).ok).toBe(true);
      const { home, cookie } = await signIn();
      const byCookie = await open({ Cookie: cookie, Origin: `http://127.0.0.1:${port}` }, `ws://127.0.0.1:${port}${home}ws`);
      expect((await byCookie.call('app.info')).ok).toBe(true);
      expect(await refusedUpgrade(`ws://127.0.0.1:${port}/ws`, { Cookie: cookie })).toBe(401);
      expect(await refusedUpgrade(`ws://127.0.0.1:${port}${home}ws`, { Cookie: cookie, Origin: `http://127.0.0.1:${port + 1}` })).toBe(403);
    });
  });

  describe('the contract over WebSocket', () => {
    it('round-trips app.info', async () => {
      const client = await open();
      const result = await client.call('app.info');
      expect(result).toEqual({
        ok: true,
        value: expect.objectContaining({ host: 'server', version: 'test', canPickFiles: false }) as unknown,
      });
    });

    it('answers an unknown call name or invalid input with BAD_INPUT', async () => {
      const client = await open();
      const unknown = await client.call('fs.readFile', { path: '/etc/passwd' });
      expect(unknown.ok ? null : unknown.error.code).toBe('BAD_INPUT');
      const proto = await client.call('__proto__');
      expect(proto.ok ? null : proto.error.code).toBe('BAD_INPUT');
      const invalid = await client.call('threads.get', { threadId: 5 });
      expect(invalid.ok ? null : invalid.error.code).toBe('BAD_INPUT');
      const extra = await client.call('app.info', { sneaky: true });
      expect(extra.ok ? null : extra.error.code).toBe('BAD_INPUT');
    });

    it('answers a malformed message with BAD_INPUT, with its id when it can be read and id null otherwise', async () => {
      const client = await open();
      client.ws.send('{"id": 9001, "t": "call", "name": ');
      expect(await client.resultOf(9001)).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
      client.ws.send(JSON.stringify({ id: 9002, name: 'app.info' }));
      expect(await client.resultOf(9002)).toMatchObject({ ok: false, error: { code: 'BAD_INPUT' } });
      const unreadable = ['not json at all', '[1,2,3]', '{"t":"call","id":"7","name":"app.info"}', '{"t":"call","id":1.5,"name":"app.info"}'];
      for (const text of unreadable) client.ws.send(text);
      client.ws.send(Buffer.from('{"t":"call","id":9003,"name":"app.info"}'), { binary: true });
      const answers = await client.until(() => (client.unaddressed.length === unreadable.length + 1 ? client.unaddressed : undefined));
      for (const answer of answers) expect(answer).toMatchObject({ ok: false, error: { code: 'BAD_INPUT', message: expect.any(String) } });
      // Still connected and answering.
      expect((await client.call('app.info')).ok).toBe(true);
    });

    it('streams a real chat (stories260K) as events to every client, and reports a deleted thread', async () => {
      const client = await open();
      const watcher = await open();
      const model = await client.value<ModelInfo>('models.add', { path: await testModelPath('stories260K') });
      const loaded = await client.value<LoadedModel>('runtime.load', { modelId: model.id });
      expect(loaded.backend.backend).toBe('cpu');
      expect(client.eventsNamed<{ state: string }>('runtime.state').map((s) => s.state)).toContain('ready');

      await client.value('settings.update', { maxReplyTokens: 24 });
      const thread = await client.value<Thread>('threads.create', { title: 'Over the wire' });
      const sent = await client.value<SendResult>('chat.send', { threadId: thread.id, content: 'Once upon a time' });

      type EndEvent = Extract<ChatStreamEvent, { type: 'end' }>;
      const endOf = (c: WireClient) => () =>
        c.eventsNamed<ChatStreamEvent>('chat.stream').find((e): e is EndEvent => e.type === 'end' && e.message.id === sent.assistantMessageId);
      const end = await client.until(endOf(client));
      await watcher.until(endOf(watcher));

      const stream = client.eventsNamed<ChatStreamEvent>('chat.stream').filter((e) => e.threadId === thread.id);
      expect(stream[0]?.type).toBe('start');
      const tokens = stream.filter((e) => e.type === 'token');
      // The first token goes out at once, the rest coalesced to at most one frame per 16 ms: a
      // fast reply can arrive in two frames.
      expect(tokens.length).toBeGreaterThanOrEqual(2);
      expect(['complete', 'length']).toContain(end.message.status);
      expect(end.message.content).toBe(tokens.map((e) => (e.type === 'token' ? e.text : '')).join(''));
      expect(watcher.eventsNamed<ChatStreamEvent>('chat.stream').filter((e) => e.type === 'token')).toHaveLength(tokens.length);

      const saved = await client.value<Thread>('threads.get', { threadId: thread.id });
      expect(saved.messages.map((m) => m.role)).toEqual(['user', 'assistant']);

      expect(await client.call('threads.delete', { threadId: thread.id })).toEqual({ ok: true, value: null });
      const gone = await client.call('threads.get', { threadId: thread.id });
      expect(gone.ok ? null : gone.error.code).toBe('THREAD_NOT_FOUND');
    });
  });

  describe('start-up and shutdown', () => {
    it('refuses to listen on a non-loopback address', async () => {
      for (const host of ['0.0.0.0', '192.168.1.10', '::', 'example.com']) {
        await expect(startServer(core, { port: 0, host, rendererDir: dir.path }), host).rejects.toMatchObject({ code: 'BAD_INPUT' });
      }
    });

    it('takes a given token, and closes its WebSocket clients on close()', async () => {
      const given = 'a-given-token-for-this-test_1234';
      const other = await startServer(core, { port: 0, host: 'localhost', rendererDir: dir.path, token: given });
      try {
        expect(other.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:${other.port}/\\?code=[A-Za-z0-9_-]{43}$`));
        // Codes are per server: this server's code opens nothing on the other.
        expect((await httpGet(port, `/?code=${new URL(other.url).searchParams.get('code')!}`)).status).toBe(401);
        expect((await httpGet(other.port, '/healthz', { Authorization: `Bearer ${given}` })).status).toBe(200);
        expect((await httpGet(other.port, '/healthz', { Authorization: `Bearer ${token}` })).status).toBe(401);
        const client = await WireClient.open(`ws://127.0.0.1:${other.port}/ws?token=${given}`);
        const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
        await other.close();
        expect(await closed).toBe(1001);
      } finally {
        await other.close();
      }
      await expect(httpGet(other.port, '/healthz')).rejects.toThrow();
    });

    it('refuses a weak given token', async () => {
      await expect(startServer(core, { port: 0, rendererDir: dir.path, token: 'short' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    });
  });
});
