import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBrowser } from '../support/browser';
import { spawnServe, type ServeRun } from '../support/server';
import { tempDir } from '../support/tempDir';

/**
 * A server restart seen from an open page: the header says the connection is gone (not the
 * model's last state), the page reconnects by itself to the restarted server (same port, same
 * token, same session path), and a reload after the restart opens the app again.
 */
describe('the page survives a server restart (e2e, real Chromium)', () => {
  const data = tempDir('hearth-e2e-reconnect-');
  const env: NodeJS.ProcessEnv = { ...process.env };
  // The secrets (the remembered token) go to the data directory, not a desktop keyring.
  delete env.DBUS_SESSION_BUS_ADDRESS;
  delete env.HEARTH_LOG;
  const args = ['--data-dir', data.path, '--gpu', 'off', '--threads', '1'];
  const errors: string[] = [];
  let browser: Browser;
  let page: Page;
  let server: ServeRun | null = null;

  const status = () => page.getByTestId('runtime-status').innerText();

  beforeAll(async () => {
    server = await spawnServe(args, env);
    ({ browser, page } = await openBrowser({ width: 1280, height: 800 }, errors));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    data.cleanup();
  });

  it('shows Reconnecting…, then Disconnected, while the server is down, and reconnects without a reload', async () => {
    await page.goto(server!.url);
    await expect.poll(status, { timeout: 30_000 }).toMatch(/No model loaded/);
    const port = new URL(server!.url).port;
    const home = new URL(page.url());
    expect(home.port).toBe(port);
    // Marks this very document: a reload would lose it.
    await page.evaluate(() => Object.assign(window, { hearthTestMarker: 'same document' }));

    await server!.stop();
    server = null;
    await expect.poll(status, { timeout: 10_000 }).toMatch(/Reconnecting…/);
    expect(await page.getByTestId('connection-banner').count()).toBe(1);
    // A call made now waits for the server, then fails in words for this page's host, with Retry.
    await page.evaluate(() => (location.hash = '#/models/local'));
    // Still down after a while: said plainly, and still trying.
    await expect.poll(status, { timeout: 30_000, interval: 500 }).toMatch(/Disconnected/);
    const lost = page.locator('[data-testid="error-toast"][data-code="CONNECTION_LOST"]');
    await expect.poll(() => lost.count(), { timeout: 30_000 }).toBe(1);
    expect(await lost.getByTestId('error-sentence').innerText()).toBe('This page cannot reach Hearth. Check that `hearth serve` is still running; the page reconnects by itself.');
    expect(await lost.getByTestId('error-details').innerText()).toContain('Details: CONNECTION_LOST');
    expect(await lost.innerText()).not.toMatch(/INTERNAL/);
    // The pointer on a toast keeps it, so there is time to press its action.
    await lost.hover();

    server = await spawnServe(args, env);
    expect(new URL(server.url).port).toBe(port);
    await expect.poll(status, { timeout: 20_000 }).toMatch(/No model loaded/);
    expect(await page.getByTestId('connection-banner').count()).toBe(0);
    // Retry runs the failed call again, now against the restarted server: the toast goes and no error follows.
    expect(await lost.count()).toBe(1);
    expect(await lost.getByTestId('error-action').innerText()).toBe('Retry');
    await lost.getByTestId('error-action').click();
    await expect.poll(() => lost.count()).toBe(0);
    await page.waitForTimeout(500);
    expect(await page.getByTestId('error-toast').count()).toBe(0);
    await page.getByTestId('models-tab-discover').click();
    await page.getByTestId('nav-chat').click();
    expect(await page.evaluate(() => (window as unknown as { hearthTestMarker?: string }).hearthTestMarker)).toBe('same document');
    // The reconnected page talks to the new server: the Models screen lists its data.
    await page.getByTestId('nav-models').click();
    expect(new URL(page.url()).hash).toBe('#/models');
  }, 120_000);

  it('opens again on reload after another restart', async () => {
    const port = new URL(server!.url).port;
    await server!.stop();
    server = await spawnServe(args, env);
    expect(new URL(server.url).port).toBe(port);
    const reply = await page.reload();
    expect(reply?.status()).toBe(200);
    await expect.poll(status, { timeout: 30_000 }).toMatch(/No model loaded/);
    expect(new URL(page.url()).pathname).toMatch(/^\/s\/[A-Za-z0-9_-]{22}\/$/);
  }, 90_000);

  it('logged no page errors (beyond the refused or cut connections while the server was down)', () => {
    expect(errors.filter((e) => !/WebSocket|net::ERR_(CONNECTION_REFUSED|CONNECTION_RESET|EMPTY_RESPONSE)/.test(e))).toEqual([]);
  });
});
