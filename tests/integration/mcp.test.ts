import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LanHosts } from '../../src-main/cli/api/lanAccess';
import type { McpPassage } from '../../src-main/cli/mcp/libraryTools';
import { indexPath } from '../support/libraryCore';
import { writeCorpus } from '../support/retrievalCorpus';
import { assertBuilt, runHearth, startServe, type ServeRun } from '../support/server';
import { tempDir } from '../support/tempDir';
import { createTestCore } from '../support/testCore';
import { testModelPath } from '../support/testModels';

const root = join(__dirname, '..', '..');
const cpu = ['--gpu', 'off', '--threads', '1'];

type Passages = { passages: McpPassage[] };

function structured<T>(result: unknown): T {
  const call = result as CallToolResult;
  expect(call.isError, JSON.stringify(call.content)).toBeFalsy();
  return call.structuredContent as T;
}

/**
 * The MCP server for your documents, driven by the official MCP SDK client: over stdio
 * (`hearth mcp`, the built CLI) and over Streamable HTTP (/mcp on a real `hearth serve`),
 * against collections indexed with the real stories260K embedding model.
 */
describe('MCP: your documents for other apps', () => {
  const data = tempDir('hearth-mcp-data-');
  const docs = tempDir('hearth-mcp-docs-');
  const secrets = { handbook: '', chatOnly: '', all: '' };

  beforeAll(async () => {
    assertBuilt();
    writeCorpus(join(docs.path, 'handbook'));
    mkdirSync(join(docs.path, 'private'));
    writeFileSync(join(docs.path, 'private', 'diary.md'), '# Diary\n\nThe zeppelin over the marmalade factory was my secret all along.\n');
    const { core, cleanup } = createTestCore({ dataDir: data.path });
    try {
      const model = await core.models.add(await testModelPath('stories260K'));
      core.models.setDefault('embedding', model.id);
      await indexPath(core, join(docs.path, 'handbook'), 'Handbook');
      await indexPath(core, join(docs.path, 'private'), 'Private');
      secrets.handbook = core.apiTokens.create({ name: 'handbook reader', scopes: ['documents:Handbook'] }).secret;
      secrets.chatOnly = core.apiTokens.create({ name: 'chat only', scopes: ['chat'] }).secret;
      secrets.all = core.apiTokens.create({ name: 'everything', scopes: ['documents:*'] }).secret;
    } finally {
      await cleanup();
    }
  }, 120_000);
  afterAll(() => {
    data.cleanup();
    docs.cleanup();
  });

  it('stdio: `hearth mcp` lists collections, searches with locations and reads a passage by id', async () => {
    const client = new Client({ name: 'hearth-test', version: '1.0.0' });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [join(root, 'bin', 'hearth.mjs'), 'mcp', '--data-dir', data.path, ...cpu],
      cwd: root,
      stderr: 'pipe',
    });
    await client.connect(transport);
    try {
      const tools = await client.listTools();
      expect(tools.tools.map((t) => t.name).sort()).toEqual(['list_collections', 'read_passage', 'search_documents']);

      const listed = structured<{ collections: { name: string; documents: number }[] }>(await client.callTool({ name: 'list_collections', arguments: {} }));
      expect(listed.collections.map((c) => c.name).sort()).toEqual(['Handbook', 'Private']);

      const found = structured<Passages>(await client.callTool({ name: 'search_documents', arguments: { query: 'varroa mites oxalic acid', k: 3 } }));
      const top = found.passages[0]!;
      expect(top).toMatchObject({ collection: 'Handbook', file: join(docs.path, 'handbook', 'garden', 'beekeeping.txt'), line_start: expect.any(Number) });
      expect(top.text).toContain('varroa');
      expect(found.passages.length).toBeLessThanOrEqual(3);

      const headed = structured<Passages>(await client.callTool({ name: 'search_documents', arguments: { query: 'levain acetone rye flour', collections: ['Handbook'], k: 1 } }));
      expect(headed.passages[0]).toMatchObject({ heading: 'Sourdough starter', file: expect.stringContaining('sourdough.md') });

      const read = structured<{ passage: McpPassage }>(await client.callTool({ name: 'read_passage', arguments: { passage_id: top.passage_id } }));
      expect(read.passage).toMatchObject({ passage_id: top.passage_id, file: top.file, text: top.text, line_start: top.line_start });
      // The id is stable: the same search finds the same passage id.
      const again = structured<Passages>(await client.callTool({ name: 'search_documents', arguments: { query: 'varroa mites oxalic acid', k: 3 } }));
      expect(again.passages[0]!.passage_id).toBe(top.passage_id);

      const missing = (await client.callTool({ name: 'read_passage', arguments: { passage_id: 'nope' } })) as CallToolResult;
      expect(missing.isError).toBe(true);
    } finally {
      await client.close();
    }
  }, 120_000);

  describe('over HTTP on `hearth serve`', () => {
    let serve: ServeRun;
    let port: number;
    const connect = async (secret: string | null, host = '127.0.0.1') => {
      const client = new Client({ name: 'hearth-test', version: '1.0.0' });
      const headers: Record<string, string> = secret ? { Authorization: `Bearer ${secret}` } : {};
      await client.connect(new StreamableHTTPClientTransport(new URL(`http://${host}:${port}/mcp`), { requestInit: { headers } }));
      return client;
    };

    beforeAll(async () => {
      serve = await startServe(['--data-dir', data.path, ...cpu]);
      port = Number(new URL(serve.url).port);
    }, 120_000);
    afterAll(() => serve.stop());

    it('a documents:Handbook token sees only Handbook: list, search, read; Private is refused or not found', async () => {
      const client = await connect(secrets.handbook);
      try {
        const listed = structured<{ collections: { name: string }[] }>(await client.callTool({ name: 'list_collections', arguments: {} }));
        expect(listed.collections.map((c) => c.name)).toEqual(['Handbook']);

        const found = structured<Passages>(await client.callTool({ name: 'search_documents', arguments: { query: 'zeppelin marmalade factory', k: 5 } }));
        expect(found.passages.length).toBeGreaterThan(0);
        expect(found.passages.every((p) => p.collection === 'Handbook')).toBe(true);

        const refused = (await client.callTool({ name: 'search_documents', arguments: { query: 'zeppelin', collections: ['Private'] } })) as CallToolResult;
        expect(refused.isError).toBe(true);
        expect(JSON.stringify(refused.content)).toContain('FORBIDDEN');
      } finally {
        await client.close();
      }

      const everything = await connect(secrets.all);
      try {
        const secret = structured<Passages>(await everything.callTool({ name: 'search_documents', arguments: { query: 'zeppelin marmalade factory', collections: ['Private'], k: 1 } }));
        const privateId = secret.passages[0]!.passage_id;
        expect(secret.passages[0]!.file).toContain('diary.md');
        const narrow = await connect(secrets.handbook);
        try {
          const hidden = (await narrow.callTool({ name: 'read_passage', arguments: { passage_id: privateId } })) as CallToolResult;
          expect(hidden.isError).toBe(true);
          expect(JSON.stringify(hidden.content)).toContain('NOT_FOUND');
        } finally {
          await narrow.close();
        }
      } finally {
        await everything.close();
      }
    }, 120_000);

    it('binds 127.0.0.1 only without --lan: another address of this machine gets no connection', async () => {
      const address = LanHosts.addresses()[0];
      if (!address) throw new Error('This test needs a non-loopback IPv4 address on this machine (ip addr shows none).');
      await expect(fetch(`http://${address}:${port}/mcp`, { method: 'POST', body: '{}' })).rejects.toThrow();
    });

    it('no token, a wrong one → 401; a token without a documents scope → 403', async () => {
      const status = async (headers: Record<string, string>) =>
        (await fetch(`http://127.0.0.1:${port}/mcp`, { method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream', ...headers }, body: '{}' })).status;
      expect(await status({})).toBe(401);
      expect(await status({ Authorization: 'Bearer hearth_wrong' })).toBe(401);
      expect(await status({ Authorization: `Bearer ${secrets.chatOnly}` })).toBe(403);
      await expect(connect(null)).rejects.toThrow();
      await expect(connect(secrets.chatOnly)).rejects.toThrow();
    });

    it('tokens made and revoked with the CLI work at once on the running server', async () => {
      const created = await runHearth(['tokens', 'create', 'cli-made', '--scope', 'documents:Handbook', '--expires', '1d', '--json', '--data-dir', data.path]);
      expect(created.code, created.stderr).toBe(0);
      const { token, secret } = JSON.parse(created.stdout) as { token: { id: string; expiresAt: number }; secret: string };
      expect(token.expiresAt).toBeGreaterThan(Date.now() + 23 * 3_600_000);
      const client = await connect(secret);
      await client.close();

      const listed = await runHearth(['tokens', 'list', '--json', '--data-dir', data.path]);
      expect(listed.stdout).not.toContain(secret);
      expect((JSON.parse(listed.stdout) as { id: string; lastUsedAt: number | null }[]).find((t) => t.id === token.id)?.lastUsedAt).toEqual(expect.any(Number));

      const revoked = await runHearth(['tokens', 'revoke', token.id, '--data-dir', data.path]);
      expect(revoked.code, revoked.stderr).toBe(0);
      await expect(connect(secret)).rejects.toThrow();
    }, 240_000);
  });

  describe('--lan', () => {
    it('refuses to start without an API token, and says how to make one', async () => {
      const empty = tempDir('hearth-mcp-lan-');
      try {
        const run = await runHearth(['serve', '--lan', '--port', '0', '--data-dir', empty.path, ...cpu]);
        expect(run.code).toBe(1);
        expect(run.stderr).toContain('--lan needs at least one API token');
        expect(run.stderr).toContain('hearth tokens create');
      } finally {
        empty.cleanup();
      }
    }, 120_000);

    it('serves MCP to another address of this machine with a token, never the UI', async () => {
      const address = LanHosts.addresses()[0];
      if (!address) throw new Error('This test needs a non-loopback IPv4 address on this machine (ip addr shows none).');
      const lan = await startServe(['--lan', '--data-dir', data.path, ...cpu]);
      try {
        const lanPort = Number(new URL(lan.url).port);
        const ui = await fetch(`http://${address}:${lanPort}/`);
        expect(ui.status).toBe(404);
        expect(await ui.text()).toContain('UI is served on 127.0.0.1 only');
        const noToken = await fetch(`http://${address}:${lanPort}/mcp`, { method: 'POST', body: '{}' });
        expect(noToken.status).toBe(401);
        const client = new Client({ name: 'hearth-test', version: '1.0.0' });
        await client.connect(
          new StreamableHTTPClientTransport(new URL(`http://${address}:${lanPort}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${secrets.handbook}` } } }),
        );
        const listed = structured<{ collections: { name: string }[] }>(await client.callTool({ name: 'list_collections', arguments: {} }));
        expect(listed.collections.map((c) => c.name)).toEqual(['Handbook']);
        await client.close();
        // The loopback UI still works as before.
        expect((await fetch(lan.url, { redirect: 'manual' })).status).toBe(303);
      } finally {
        await lan.stop();
      }
    }, 180_000);
  });
});
