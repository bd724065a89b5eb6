import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { startE2eApp } from '../support/e2eApp';
import type { ServeRun } from '../support/server';

/**
 * Settings' Local API page in real Chromium against `hearth serve`: a token is created with its
 * scopes and shown once (gone after dismissing, never in the list), the examples carry this
 * server's base URL, the token works on the server (MCP), and revoking it there makes it 401 at once.
 */
describe('Local API settings (e2e)', () => {
  let server: ServeRun;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    const app = await startE2eApp({ prefix: 'hearth-e2e-local-api-', viewport: { width: 1280, height: 900 }, errors, serveArgs: ['--gpu', 'off'] });
    ({ server, page } = app);
    return app.close;
  });

  it('creates a token shown once, lists it without the secret, and revokes it', async () => {
    const origin = new URL(server.url).origin;
    await page.goto(server.url);
    await page.getByTestId('nav-settings').click();
    const section = page.getByTestId('local-api');
    await section.scrollIntoViewIfNeeded();
    expect(await page.getByTestId('local-api-base-url').innerText()).toBe(`${origin}/v1`);
    expect(await page.getByTestId('api-tokens-empty').count()).toBe(1);

    await page.getByTestId('api-token-name').fill('my editor');
    await page.getByTestId('api-token-scope-documents:*').check();
    await page.getByTestId('api-token-create').click();
    const secretBox = page.getByTestId('api-token-secret');
    await expect.poll(() => secretBox.count(), { timeout: 10_000 }).toBe(1);
    const secret = await secretBox.innerText();
    expect(secret).toMatch(/^hearth_[A-Za-z0-9_-]{43}$/);
    expect(await page.getByTestId('api-example-curl').innerText()).toContain(`${origin}/v1/chat/completions`);
    expect(await page.getByTestId('api-example-curl').innerText()).toContain(secret);
    expect(await page.getByTestId('api-example-mcp-http').innerText()).toContain(`${origin}/mcp`);

    const rows = page.getByTestId('api-token-row');
    await expect.poll(() => rows.count()).toBe(1);
    expect(await rows.first().innerText()).toContain('chat, documents:*');
    expect(await rows.first().innerText()).not.toContain(secret);

    // The token works on this server: MCP's initialize, which needs a documents scope.
    const initialize = () =>
      fetch(`${origin}/mcp`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${secret}`, 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'e2e', version: '1' } } }),
      }).then((response) => response.status);
    expect(await initialize()).toBe(200);

    await page.getByTestId('api-token-dismiss').click();
    expect(await secretBox.count()).toBe(0);
    expect(await page.content()).not.toContain(secret);
    await page.reload();
    await page.getByTestId('nav-settings').click();
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(1);
    expect(await page.content()).not.toContain(secret);

    await rows.first().getByTestId('api-token-revoke').click();
    await expect.poll(() => page.getByTestId('api-token-state').innerText(), { timeout: 10_000 }).toBe('revoked');
    expect(await initialize()).toBe(401);
    expect(errors).toEqual([]);
  }, 90_000);
});
