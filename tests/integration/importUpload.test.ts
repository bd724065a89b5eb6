import { request, type IncomingHttpHeaders } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ThreadImportResult } from '#contract/dto';
import type { Result } from '#contract/errors';
import { MAX_IMPORT_UPLOAD_BYTES } from '../../src-main/cli/importUpload';
import { startServer, type HearthServer } from '../../src-main/cli/server';
import type { Core } from '../../src-main/core/createCore';
import { tempDir } from '../support/tempDir';
import { createTestCore } from '../support/testCore';

interface HttpReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** Raw node:http: the test decides every header (Origin, Cookie, a declared length). */
function send(port: number, method: string, path: string, headers: Record<string, string>, body?: string | null): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    // null: the headers go out, the body never does (the server must answer from the headers).
    if (body === null) req.flushHeaders();
    else req.end(body);
  });
}

/** A Hearth export of one chat, larger than one WebSocket message (2 MB). */
function largeExport(): string {
  const messages = Array.from({ length: 40 }, (_, i) => ({
    role: i % 2 === 0 ? 'user' : 'assistant',
    content: `Part ${i}: ${'the long letter goes on '.repeat(3500)}`,
    status: 'complete',
    createdAt: 1_700_000_000_000 + i,
    modelName: null,
  }));
  return JSON.stringify({
    format: 'hearth.chats',
    version: 1,
    threads: [{ title: 'The long letter', systemPrompt: '', createdAt: 1_700_000_000_000, updatedAt: 1_700_000_000_000, messages }],
  });
}

/**
 * POST <session>/import: a chat import too large for one WebSocket message goes over HTTP,
 * admitted like the page itself (the session cookie, from this server's own page, or the
 * token), into the same threads.import call; past the size limit it is refused with a clear error.
 */
describe('chat import over HTTP (files past the WebSocket message limit)', () => {
  let core: Core;
  let cleanupCore: () => Promise<void>;
  const dir = tempDir('hearth-import-upload-');
  let server: HearthServer;
  let port: number;
  let home: string;
  let cookie: string;
  const origin = () => `http://127.0.0.1:${port}`;

  beforeAll(async () => {
    ({ core, cleanup: cleanupCore } = createTestCore());
    const rendererDir = join(dir.path, 'renderer');
    mkdirSync(rendererDir, { recursive: true });
    writeFileSync(join(rendererDir, 'index.html'), '<!doctype html><title>Hearth test</title>');
    server = await startServer(core, { port: 0, rendererDir });
    port = server.port;
    const url = new URL(server.url);
    const signIn = await send(port, 'GET', url.pathname + url.search, {});
    home = signIn.headers.location ?? '';
    cookie = (signIn.headers['set-cookie']?.[0] ?? '').split(';')[0]!;
    expect(home).toMatch(/^\/s\/[^/]+\/$/);
  });

  afterAll(async () => {
    await server?.close();
    await cleanupCore?.();
    dir.cleanup();
  });

  it('imports a file larger than 2 MB posted by the page, and the chat is there', async () => {
    const body = largeExport();
    expect(Buffer.byteLength(body)).toBeGreaterThan(3 * 1024 * 1024);
    const reply = await send(port, 'POST', `${home}import`, { Cookie: cookie, Origin: origin(), 'Content-Type': 'application/json' }, body);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toMatch(/^application\/json/);
    const result = JSON.parse(reply.body) as Result<ThreadImportResult>;
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.value.threads.map((t) => t.title)).toEqual(['The long letter']);
    const thread = core.chat.getThread(result.value.threads[0]!.id);
    expect(thread.messages).toHaveLength(40);
    expect(thread.messages[39]!.content.startsWith('Part 39: the long letter')).toBe(true);
  });

  it('answers a file that is not an export with the import’s own error', async () => {
    const reply = await send(port, 'POST', `${home}import`, { Cookie: cookie, Origin: origin() }, '{"format": "something else"}');
    expect(reply.status).toBe(200);
    const result = JSON.parse(reply.body) as Result<ThreadImportResult>;
    expect(result).toMatchObject({ ok: false, error: { code: 'IMPORT_INVALID' } });
  });

  it('refuses a post without credentials, from another site, or with the cookie but no Origin', async () => {
    expect((await send(port, 'POST', `${home}import`, { Origin: origin() }, '{}')).status).toBe(401);
    const crossSite = await send(port, 'POST', `${home}import`, { Cookie: cookie, Origin: 'http://evil.example' }, '{}');
    expect(crossSite.status).toBe(403);
    expect(crossSite.body).toMatch(/Forbidden/);
    expect((await send(port, 'POST', `${home}import`, { Cookie: cookie }, '{}')).status).toBe(403);
    // Any other POST is still not allowed.
    expect((await send(port, 'POST', `${home}ws`, { Cookie: cookie, Origin: origin() }, '{}')).status).toBe(405);
  });

  it('takes the token in place of the page (a script), without an Origin', async () => {
    const reply = await send(port, 'POST', '/import', { Authorization: `Bearer ${server.token}` }, '{"format": "something else"}');
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toMatchObject({ ok: false, error: { code: 'IMPORT_INVALID' } });
  });

  it('refuses a file past the limit from its declared size, with a clear error, without reading it', async () => {
    const reply = await send(
      port,
      'POST',
      `${home}import`,
      { Cookie: cookie, Origin: origin(), 'Content-Length': String(MAX_IMPORT_UPLOAD_BYTES + 1) },
      null,
    );
    expect(reply.status).toBe(413);
    const result = JSON.parse(reply.body) as Result<ThreadImportResult>;
    expect(result).toMatchObject({ ok: false, error: { code: 'IMPORT_INVALID', message: expect.stringContaining('larger than 64 MB') } });
  });
});
