import { readFileSync, existsSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiTokenRepository } from '../../src-main/core/apiTokens/apiTokenRepository';
import { ApiTokenService } from '../../src-main/core/apiTokens/apiTokenService';
import type { Core } from '../../src-main/core/createCore';
import { ApiAuthorizer, writeAnthropicAuthError, writeOpenAiAuthError, type ApiScopeNeed } from '../../src-main/cli/api/apiAuth';
import { parseExpiry } from '../../src-main/cli/tokensCommand';
import { createTestCore } from '../support/testCore';

describe('API tokens', () => {
  let core: Core;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  beforeEach(() => {
    ({ core, dataDir, cleanup } = createTestCore());
  });
  afterEach(() => cleanup());

  it('returns the secret once; the database holds only its hash', () => {
    const { token, secret } = core.apiTokens.create({ name: 'editor', scopes: ['chat', 'embeddings'] });
    expect(secret).toMatch(/^hearth_[A-Za-z0-9_-]{43}$/);
    expect(core.apiTokens.list()).toEqual([token]);
    expect(JSON.stringify(core.apiTokens.list())).not.toContain(secret);
    core.db.pragma('wal_checkpoint(TRUNCATE)');
    for (const file of ['hearth.db', 'hearth.db-wal']) {
      const path = join(dataDir, file);
      if (existsSync(path)) expect(readFileSync(path).includes(Buffer.from(secret))).toBe(false);
    }
    const stored = core.db.prepare('SELECT token_sha256 FROM api_tokens WHERE id = ?').get(token.id) as { token_sha256: string };
    expect(stored.token_sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('names collections by id, refuses unknown scopes and collections', () => {
    const notes = core.library.createCollection('Notes');
    const { token } = core.apiTokens.create({ name: 'mcp', scopes: ['documents:notes'] });
    expect(token.scopes).toEqual([`documents:${notes.id}`]);
    expect(() => core.apiTokens.create({ name: 'x', scopes: ['admin'] })).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => core.apiTokens.create({ name: 'x', scopes: ['documents:nope'] })).toThrow(expect.objectContaining({ code: 'COLLECTION_NOT_FOUND' }));
    expect(() => core.apiTokens.create({ name: 'x', scopes: ['chat'], expiresAt: Date.now() - 1 })).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(core.apiTokens.create({ name: 'all', scopes: ['documents:*', 'documents:Notes'] }).token.scopes).toEqual(['documents:*']);
  });

  it('refuses revoked and expired tokens, and records last use at most once a minute', () => {
    let now = 1_000_000;
    const service = new ApiTokenService({ repo: new ApiTokenRepository(core.db), findCollection: () => null, now: () => now });
    const kept = service.create({ name: 'kept', scopes: ['chat'] });
    const brief = service.create({ name: 'brief', scopes: ['chat'], expiresAt: now + 10_000 });
    expect(service.activeCount()).toBe(2);

    expect(service.check(kept.secret)).toMatchObject({ ok: true, token: { id: kept.token.id, lastUsedAt: now } });
    now += 30_000;
    service.check(kept.secret);
    expect(service.list().find((t) => t.id === kept.token.id)!.lastUsedAt).toBe(1_000_000);
    now += 31_000;
    service.check(kept.secret);
    expect(service.list().find((t) => t.id === kept.token.id)!.lastUsedAt).toBe(now);

    expect(service.check(brief.secret)).toEqual({ ok: false, reason: 'expired' });
    expect(service.activeCount()).toBe(1);
    expect(service.revoke(kept.token.id).revokedAt).toBe(now);
    expect(service.check(kept.secret)).toEqual({ ok: false, reason: 'revoked' });
    expect(service.activeCount()).toBe(0);
    expect(service.check('hearth_not-a-token-at-all-xxxxxxxxxxxxxxxxxxxxxxx')).toEqual({ ok: false, reason: 'unknown' });
    expect(service.check(undefined)).toEqual({ ok: false, reason: 'missing' });
    expect(() => service.revoke('tok_missing')).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });

  it('--expires takes 90m, 12h, 30d, 2w or never, and nothing else', () => {
    expect(parseExpiry('90m', '--expires', 'tokens create')).toBe(90 * 60_000);
    expect(parseExpiry('12h', '--expires', 'tokens create')).toBe(12 * 3_600_000);
    expect(parseExpiry('30d', '--expires', 'tokens create')).toBe(30 * 86_400_000);
    expect(parseExpiry('2W', '--expires', 'tokens create')).toBe(14 * 86_400_000);
    expect(parseExpiry('never', '--expires', 'tokens create')).toBeNull();
    for (const bad of ['0d', '30', 'd', '1y', '-1d']) expect(() => parseExpiry(bad, '--expires', 'tokens create')).toThrow(/--expires must be a duration/);
  });

  it('the authorizer reads Bearer and x-api-key, 401s without a usable token and 403s outside the scopes', () => {
    const auth = new ApiAuthorizer(core.apiTokens);
    const notes = core.library.createCollection('Notes');
    const other = core.library.createCollection('Other');
    const { secret } = core.apiTokens.create({ name: 'notes', scopes: ['chat', 'documents:Notes'] });
    const bearer = { authorization: `Bearer ${secret}` };
    const ok = auth.authorize(bearer, 'chat');
    expect(ok.ok && ok.grant.allowsCollection(notes.id)).toBe(true);
    expect(ok.ok && ok.grant.allowsCollection(other.id)).toBe(false);
    expect(auth.authorize({ 'x-api-key': secret }, 'documents').ok).toBe(true);
    expect(auth.authorize({}, 'chat')).toMatchObject({ ok: false, failure: { status: 401, code: 'UNAUTHORIZED' } });
    expect(auth.authorize({ authorization: 'Bearer wrong' }, 'chat')).toMatchObject({ ok: false, failure: { status: 401 } });
    expect(auth.authorize(bearer, 'embeddings')).toMatchObject({ ok: false, failure: { status: 403, code: 'FORBIDDEN' } });
    expect(auth.authorize(bearer, 'models:manage')).toMatchObject({ ok: false, failure: { status: 403 } });
  });

  describe('errors in each API’s own JSON, as the official clients read them', () => {
    let server: Server;
    let baseURL: string;
    beforeEach(async () => {
      const auth = new ApiAuthorizer(core.apiTokens);
      server = createServer((req, res) => {
        const need: ApiScopeNeed = req.url?.includes('embeddings') ? 'embeddings' : 'chat';
        const result = auth.authorize(req.headers, need);
        const anthropic = req.url?.startsWith('/v1/messages') ?? false;
        if (!result.ok) return anthropic ? writeAnthropicAuthError(res, result.failure) : writeOpenAiAuthError(res, result.failure);
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [] }));
      });
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    });
    afterEach(() => new Promise<void>((done) => server.close(() => done())));

    it('openai: 401 AuthenticationError for a wrong or revoked token, 403 PermissionDeniedError out of scope', async () => {
      const { token, secret } = core.apiTokens.create({ name: 'chat only', scopes: ['chat'] });
      const client = (apiKey: string) => new OpenAI({ apiKey, baseURL, maxRetries: 0 });
      await expect(client(secret).models.list()).resolves.toBeDefined();
      const wrong = await client('hearth_wrong').models.list().catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(OpenAI.AuthenticationError);
      expect((wrong as InstanceType<typeof OpenAI.AuthenticationError>).error).toMatchObject({ type: 'invalid_request_error', code: 'invalid_api_key' });
      const denied = await client(secret).embeddings.create({ model: 'x', input: 'hi' }).catch((e: unknown) => e);
      expect(denied).toBeInstanceOf(OpenAI.PermissionDeniedError);
      expect((denied as InstanceType<typeof OpenAI.PermissionDeniedError>).message).toContain('embeddings');
      core.apiTokens.revoke(token.id);
      const revoked = await client(secret).models.list().catch((e: unknown) => e);
      expect(revoked).toBeInstanceOf(OpenAI.AuthenticationError);
      expect((revoked as Error).message).toContain('revoked');
    });

    it('anthropic: 401 authentication_error for a wrong token (x-api-key), 403 permission_error out of scope', async () => {
      const { secret } = core.apiTokens.create({ name: 'embeddings only', scopes: ['embeddings'] });
      const client = (apiKey: string) => new Anthropic({ apiKey, baseURL: baseURL.replace(/\/v1$/, ''), maxRetries: 0 });
      const body = { model: 'x', max_tokens: 8, messages: [{ role: 'user' as const, content: 'hi' }] };
      const wrong = await client('hearth_wrong').messages.create(body).catch((e: unknown) => e);
      expect(wrong).toBeInstanceOf(Anthropic.AuthenticationError);
      expect((wrong as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
      const denied = await client(secret).messages.create(body).catch((e: unknown) => e);
      expect(denied).toBeInstanceOf(Anthropic.PermissionDeniedError);
      expect((denied as InstanceType<typeof Anthropic.PermissionDeniedError>).error).toMatchObject({ type: 'error', error: { type: 'permission_error' } });
    });
  });
});
