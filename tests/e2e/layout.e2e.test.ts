import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore } from '../../src-main/core/createCore';
import { openBrowser } from '../support/browser';
import { startServe } from '../support/server';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';
import { tempDir } from '../support/tempDir';
import { testModelCacheDir, testModelPath } from '../support/testModels';

const outDir = join(__dirname, '..', '..', 'test-results', 'e2e');

/**
 * The app at 800×600 in real Chromium against `hearth serve`: the sidebar starts collapsed and
 * toggles (remembered across reloads), the chat header stays one row with a model loaded,
 * nothing overflows sideways, and a dismissed CPU warning stays dismissed across screens and
 * reloads.
 */
describe('layout at 800×600: collapsible sidebar, one-row header, remembered dismissals (e2e)', () => {
  let server: Awaited<ReturnType<typeof startServe>>;
  let browser: Browser;
  let page: Page;
  let data: ReturnType<typeof tempDir>;
  const errors: string[] = [];

  const headerHeight = async () => (await page.locator('header.header').boundingBox())?.height ?? Number.NaN;
  const sideways = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);

  beforeAll(async () => {
    mkdirSync(outDir, { recursive: true });
    const model = await testModelPath('stories260K');
    data = tempDir('hearth-e2e-layout-');
    const seed = createCore({ dataDir: data.path, host: 'server', version: 'e2e', gpu: 'off', catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH }, { logger: createConsoleLogger('error') });
    expect((await seed.models.add(model)).defaultFor).toEqual(['chat']);
    await seed.dispose();
    // GPU detection as a user gets it: on a machine without a GPU the CPU warning shows.
    server = await startServe(['--data-dir', data.path, '--models-dir', testModelCacheDir(), '--threads', '1']);
    ({ browser, page } = await openBrowser({ width: 800, height: 600 }, errors));
    await page.goto(server.url);
    await page.getByTestId('composer').waitFor();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    data?.cleanup();
  });

  it('starts with the sidebar collapsed below 900 px, toggles it, and remembers the choice across reloads', async () => {
    expect(await page.getByTestId('sidebar-show').getAttribute('aria-expanded')).toBe('false');
    expect(await page.getByTestId('nav-chat').isVisible()).toBe(false);
    expect(await sideways()).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(outDir, 'layout-welcome-collapsed-800x600.png') });

    await page.getByTestId('sidebar-show').click();
    expect(await page.getByTestId('nav-chat').isVisible()).toBe(true);
    expect(await page.getByTestId('sidebar-hide').getAttribute('aria-expanded')).toBe('true');
    expect(await page.getByTestId('sidebar-show').count()).toBe(0);
    await page.reload();
    await page.getByTestId('composer').waitFor();
    expect(await page.getByTestId('nav-chat').isVisible()).toBe(true);
    expect(await sideways()).toBeLessThanOrEqual(0);

    await page.getByTestId('sidebar-hide').click();
    expect(await page.getByTestId('nav-chat').isVisible()).toBe(false);
    await page.reload();
    await page.getByTestId('composer').waitFor();
    expect(await page.getByTestId('sidebar-show').getAttribute('aria-expanded')).toBe('false');
  });

  it('keeps the chat header to one row with a model loaded, with the sidebar open or closed', async () => {
    await page.getByTestId('composer').fill('Once upon a time');
    await page.getByTestId('composer').press('Enter');
    const reply = page.locator('[data-testid="message"][data-role="assistant"]').last();
    await expect.poll(() => reply.getAttribute('data-status'), { timeout: 60_000 }).toMatch(/^(complete|length)$/);
    await expect.poll(() => page.getByTestId('runtime-status').innerText(), { timeout: 20_000 }).toMatch(/Ready/);

    expect(await headerHeight()).toBeLessThanOrEqual(64);
    expect(await sideways()).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(outDir, 'layout-chat-collapsed-800x600.png') });
    await page.getByTestId('sidebar-show').click();
    expect(await headerHeight()).toBeLessThanOrEqual(64);
    expect(await sideways()).toBeLessThanOrEqual(0);
    await page.screenshot({ path: join(outDir, 'layout-chat-open-800x600.png') });
  }, 90_000);

  it('a dismissed CPU warning stays dismissed on other screens and after a reload', async () => {
    await expect.poll(() => page.getByTestId('backend-badge').innerText(), { timeout: 20_000 }).toMatch(/CPU|CUDA|Vulkan|Metal/);
    if (!(await page.getByTestId('backend-badge').innerText()).includes('CPU')) {
      // A GPU machine has no warning to dismiss; it must not show one either.
      expect(await page.getByTestId('backend-warning').count()).toBe(0);
      return;
    }
    await expect.poll(() => page.getByTestId('backend-warning').count()).toBe(1);
    await page.getByTestId('backend-warning-dismiss').click();
    expect(await page.getByTestId('backend-warning').count()).toBe(0);
    for (const screen of ['nav-models', 'nav-documents', 'nav-backup', 'nav-chat']) {
      await page.getByTestId(screen).click();
      await page.waitForTimeout(200);
      expect(await page.getByTestId('backend-warning').count(), screen).toBe(0);
    }
    await page.reload();
    await expect.poll(() => page.getByTestId('backend-badge').innerText(), { timeout: 20_000 }).toMatch(/CPU/);
    await page.getByTestId('composer').waitFor();
    expect(await page.getByTestId('backend-warning').count()).toBe(0);
  });

  it('logged no page errors', () => {
    expect(errors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
  });
});
