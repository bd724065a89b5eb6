import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_OUT_DIR, startE2eApp } from '../support/e2eApp';
import { startHubServer, type HubServer } from '../support/hubServer';
import type { ServeRun } from '../support/server';
import { testModelPath } from '../support/testModels';

/**
 * Models → On this machine → Import in real Chromium: a pasted URL is pulled as a download
 * (it used to become FILE_NOT_FOUND at a path under the server's working directory), and a
 * relative path is refused with a sentence saying a full path is needed.
 */
describe('pull a model by URL from the Models screen (e2e)', () => {
  let hub: HubServer;
  let server: ServeRun;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    hub = await startHubServer({}, { plainFiles: { 'tiny-tales.gguf': await testModelPath('stories260K') } });
    const app = await startE2eApp({ prefix: 'hearth-e2e-pull-url-', viewport: { width: 1280, height: 860 }, errors });
    ({ server, page } = app);
    return app.close;
  });

  afterAll(async () => {
    await hub?.close();
  });

  it('refuses a relative path, and downloads a pasted URL', async () => {
    const url = new URL(server.url);
    await page.goto(`${url.origin}${url.pathname}${url.search}#/models/local`);
    const path = page.getByTestId('import-path');
    await expect.poll(() => path.count(), { timeout: 20_000 }).toBe(1);

    await path.fill('models/tiny-tales.gguf');
    await page.getByTestId('import-submit').click();
    await expect.poll(() => page.getByTestId('error-toast').filter({ hasText: /full path/ }).count(), { timeout: 10_000 }).toBe(1);
    expect(await page.getByTestId('error-toast').innerText()).not.toMatch(/FILE_NOT_FOUND/);

    await path.fill(`${hub.url}/files/tiny-tales.gguf`);
    expect(await page.getByTestId('import-submit').innerText()).toBe('Download');
    await page.getByTestId('import-submit').click();
    const model = page.getByTestId('local-model').filter({ hasText: 'tiny-tales' });
    await expect.poll(() => model.count(), { timeout: 60_000 }).toBe(1);
    expect(await path.inputValue()).toBe('');
    expect(hub.requests.some((r) => r.method === 'GET' && r.path === '/files/tiny-tales.gguf')).toBe(true);
    await page.screenshot({ path: join(E2E_OUT_DIR, 'models-pull-url.png') });
  });
});
