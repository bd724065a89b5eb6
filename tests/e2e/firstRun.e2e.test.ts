import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CatalogEntry } from '../../src-preload/contract/dto';
import { openBrowser } from '../support/browser';
import { E2E_OUT_DIR as outDir, seedDataDir } from '../support/e2eApp';
import { startHubServer, type HubRepo, type HubServer } from '../support/hubServer';
import { startServe } from '../support/server';
import { CATALOG_PATH } from '../support/testCore';
import { tempDir, type TempDir } from '../support/tempDir';
import { testModelPath } from '../support/testModels';

/** About 6 s for the 1.2 MB chat file: the bar is seen between 0 and 100, and a reload lands mid-download. */
const BYTES_PER_SECOND = 200_000;

/** A data directory whose hub endpoint is set before `hearth serve` starts, with no models. */
async function hubDataDir(prefix: string, hubEndpoint: string): Promise<TempDir> {
  const data = tempDir(prefix);
  await seedDataDir(data.path, (core) => core.settings.update({ hubEndpoint }));
  return data;
}

/** A port nothing listens on: the hub there is out of reach. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

const lastAssistant = (page: Page) => page.locator('[data-testid="message"][data-role="assistant"]').last();

async function expectAnswer(page: Page, prompt: string): Promise<void> {
  await page.getByTestId('composer').fill(prompt);
  await page.getByTestId('composer').press('Enter');
  await expect.poll(() => lastAssistant(page).getAttribute('data-status'), { timeout: 60_000 }).toMatch(/complete|length/);
  expect((await lastAssistant(page).getByTestId('message-content').innerText()).trim().length).toBeGreaterThan(0);
}

/**
 * A newcomer's first run in real Chromium against `hearth serve` with an empty library: the
 * flow shows the machine, proposes a chat and an embedding model from the catalog, downloads
 * both from a hub-shaped local server with progress, loads the chat model and opens a chat
 * that answers. Offline, it says so and takes a GGUF by full path instead. Skipping sticks.
 */
describe('first run in the browser (e2e)', () => {
  let browser: Browser;
  const errors: string[] = [];

  beforeAll(async () => {
    mkdirSync(outDir, { recursive: true });
    ({ browser } = await openBrowser({ width: 1280, height: 860 }, errors));
  });

  afterAll(async () => {
    await browser?.close();
  });

  describe('online: proposed models are downloaded and a chat answers', () => {
    let hub: HubServer;
    let server: Awaited<ReturnType<typeof startServe>>;
    let data: TempDir;
    let page: Page;

    beforeAll(async () => {
      // The hub holds every catalog chat and embedding model's recommended file (tiny real
      // GGUFs under those names), so whatever this machine's memory suggests can be fetched.
      const stories = readFileSync(await testModelPath('stories260K'));
      const tiny = readFileSync(await testModelPath('tinyRandom'));
      const catalog = (JSON.parse(readFileSync(CATALOG_PATH, 'utf8')) as { models: CatalogEntry[] }).models;
      const repos: Record<string, HubRepo> = {};
      for (const entry of catalog) {
        if (entry.purpose !== 'chat' && entry.purpose !== 'embedding') continue;
        const file = entry.files.find((f) => f.quantization === entry.recommendedQuantization);
        if (file) repos[entry.repo] = { files: { [file.file]: entry.purpose === 'chat' ? stories : tiny } };
      }
      hub = await startHubServer(repos);
      data = await hubDataDir('hearth-e2e-firstrun-', hub.url);
      server = await startServe(['--data-dir', data.path, '--threads', '1']);
      page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
      page.on('pageerror', (error) => errors.push(String(error)));
    });

    afterAll(async () => {
      await page?.close();
      await server?.stop();
      await hub?.close();
      data?.cleanup();
    });

    it('shows this machine and proposes one chat and one embedding model, without asking the network', async () => {
      await page.goto(server.url);
      const flow = page.getByTestId('firstrun');
      await expect.poll(() => flow.count(), { timeout: 20_000 }).toBe(1);
      await expect.poll(() => flow.getByTestId('hardware-summary').innerText(), { timeout: 30_000 }).toMatch(/\d+ cores.*RAM/s);
      const offers = flow.getByTestId('firstrun-offer');
      await expect.poll(() => offers.count(), { timeout: 20_000 }).toBe(2);
      expect(await offers.nth(0).getAttribute('data-purpose')).toBe('chat');
      expect(await offers.nth(1).getAttribute('data-purpose')).toBe('embedding');
      for (const text of await offers.allInnerTexts()) expect(text).toMatch(/\d+(\.\d+)? (MB|GB)[\s\S]*(Runs on the CPU|GPU|memory)/);
      // Nothing reached the hub before the user asked for a download.
      expect(hub.requests).toEqual([]);
      await page.screenshot({ path: join(outDir, 'firstrun.png') });
    });

    it('downloads both with progress, survives a reload mid-download, loads the chat model, opens a chat that answers', async () => {
      const chatId = await page.locator('[data-testid="firstrun-offer"][data-purpose="chat"]').getAttribute('data-catalog-id');
      const catalog = (JSON.parse(readFileSync(CATALOG_PATH, 'utf8')) as { models: CatalogEntry[] }).models;
      const entry = catalog.find((e) => e.id === chatId)!;
      const file = entry.files.find((f) => f.quantization === entry.recommendedQuantization)!;
      hub.fault(`/${entry.repo}/resolve/main/${file.file}`, { kind: 'slow', bytesPerSecond: BYTES_PER_SECOND });

      await page.getByTestId('firstrun-download').click();
      const jobs = page.getByTestId('firstrun-job');
      await expect.poll(() => jobs.count(), { timeout: 20_000 }).toBe(2);
      await page.evaluate(() => {
        const w = window as unknown as { __progress: number[] };
        w.__progress = [];
        const record = () => {
          const bar = document.querySelector('[data-testid="firstrun-progress"]');
          const now = bar?.getAttribute('aria-valuenow');
          if (now) w.__progress.push(Number(now));
        };
        record();
        new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
      });
      const seen = () => page.evaluate(() => (window as unknown as { __progress: number[] }).__progress);
      await expect.poll(async () => (await seen()).some((p) => p > 0 && p < 100), { timeout: 20_000 }).toBe(true);
      // Closing the page mid-download loses nothing: it opens on the same downloads.
      await page.reload();
      await expect.poll(() => page.locator('[data-testid="firstrun-job"][data-status="running"]').count(), { timeout: 20_000 }).toBeGreaterThan(0);
      // Done: the flow goes away and a chat is open with the model loaded.
      await expect.poll(() => page.getByTestId('firstrun').count(), { timeout: 60_000 }).toBe(0);
      await expect.poll(() => page.getByTestId('runtime-status').innerText(), { timeout: 30_000 }).toMatch(/Ready/);
      expect(new URL(page.url()).hash).toMatch(/^#\/thread\//);
      await expectAnswer(page, 'Once upon a time');

      // Both models are on this machine once the embedding download is done too.
      await page.getByTestId('nav-models').click();
      await page.getByTestId('models-tab-local').click();
      await expect.poll(() => page.getByTestId('local-model').count(), { timeout: 60_000 }).toBe(2);
      // Each is the default for what the flow fetched it for; the chat one is loaded.
      const chatDefault = page.locator('[data-testid="local-model"]:has([data-testid="default-badge"][data-purpose="chat"])');
      expect(await chatDefault.getByTestId('model-loaded').count()).toBe(1);
      await expect.poll(() => page.locator('[data-testid="default-badge"][data-purpose="embedding"]').count(), { timeout: 20_000 }).toBe(1);
      await page.getByTestId('nav-chat').click();
      await page.reload();
      await expect.poll(() => page.getByTestId('composer').count(), { timeout: 20_000 }).toBe(1);
      expect(await page.getByTestId('firstrun').count()).toBe(0);
    });
  });

  describe('offline: the flow says so, a GGUF by full path works, and skipping sticks', () => {
    let server: Awaited<ReturnType<typeof startServe>>;
    let data: TempDir;
    let page: Page;
    let hubPort: number;
    let hub: HubServer | undefined;

    beforeAll(async () => {
      hubPort = await closedPort();
      data = await hubDataDir('hearth-e2e-firstrun-offline-', `http://127.0.0.1:${hubPort}`);
      server = await startServe(['--data-dir', data.path, '--threads', '1']);
      page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
      page.on('pageerror', (error) => errors.push(String(error)));
    });

    afterAll(async () => {
      await page?.close();
      await server?.stop();
      await hub?.close();
      data?.cleanup();
    });

    it('"Skip for now" is remembered across a reload', async () => {
      await page.goto(server.url);
      await expect.poll(() => page.getByTestId('firstrun').count(), { timeout: 20_000 }).toBe(1);
      await page.getByTestId('firstrun-skip').click();
      expect(await page.getByTestId('firstrun').count()).toBe(0);
      await page.reload();
      await expect.poll(() => page.getByTestId('composer').count(), { timeout: 20_000 }).toBe(1);
      expect(await page.getByTestId('firstrun').count()).toBe(0);
      // Skipped with an empty library, the welcome card's first step is to get a model, and its
      // button opens Models → Discover (there is no path box to paste into "bottom left").
      const step = page.getByTestId('welcome-step-model');
      await expect.poll(() => step.count()).toBe(1);
      expect(await step.getAttribute('class')).not.toMatch(/\bdone\b/);
      expect(await page.getByTestId('welcome').innerText()).not.toMatch(/bottom left|press\s+load/i);
      expect(await page.getByTestId('welcome-models').innerText()).toBe('Get a model');
      await page.getByTestId('welcome-models').click();
      await expect.poll(() => page.getByTestId('models-view').count()).toBe(1);
      expect(new URL(page.url()).hash).toBe('#/models');
      await page.goBack();
      await expect.poll(() => page.getByTestId('welcome').count()).toBe(1);
      // Another browser (no memory of the skip) still gets the flow.
      await page.evaluate(() => localStorage.clear());
      await page.reload();
      await expect.poll(() => page.getByTestId('firstrun').count(), { timeout: 20_000 }).toBe(1);
    });

    it('says Hearth is offline when the hub cannot be reached, and points at importing a file', async () => {
      await expect.poll(() => page.getByTestId('firstrun-download').count(), { timeout: 20_000 }).toBe(1);
      await page.getByTestId('firstrun-download').click();
      const notice = page.getByTestId('firstrun-offline');
      await expect.poll(() => notice.count(), { timeout: 30_000 }).toBe(1);
      expect(await notice.innerText()).toMatch(/Hearth is offline/);
      const form = page.getByTestId('firstrun-import');
      expect(await form.count()).toBe(1);
      expect(await form.innerText()).toMatch(/full path/);
      await page.screenshot({ path: join(outDir, 'firstrun-offline.png') });
    });

    it('imports a GGUF by full path, loads it and opens a chat that answers', async () => {
      await page.getByTestId('firstrun-path').fill(await testModelPath('stories260K'));
      await page.getByTestId('firstrun-import-submit').click();
      await expect.poll(() => page.getByTestId('firstrun').count(), { timeout: 60_000 }).toBe(0);
      await expect.poll(() => page.getByTestId('runtime-status').innerText(), { timeout: 30_000 }).toMatch(/Ready/);
      await expectAnswer(page, 'Once upon a time');
    });

    it('Models → Discover says once that the hub is out of reach, turns downloads off and points at importing', async () => {
      await page.getByTestId('nav-models').click();
      await page.getByTestId('models-tab-discover').click();
      const notice = page.getByTestId('discover-offline');
      await expect.poll(() => notice.count(), { timeout: 30_000 }).toBe(1);
      expect(await notice.innerText()).toMatch(/Hugging Face can't be reached from this computer, so downloads are unavailable\. You can import a \.gguf file you already have\./);
      // Every catalog Download button is off, with the reason as its description, not a failing click each.
      const downloads = page.locator('[data-testid="catalog-file"] [data-testid="download-button"]');
      await expect.poll(() => downloads.count(), { timeout: 20_000 }).toBeGreaterThan(0);
      await expect.poll(() => page.locator('[data-testid="catalog-file"] [data-testid="download-button"]:not([disabled])').count(), { timeout: 20_000 }).toBe(0);
      expect(await downloads.first().getAttribute('title')).toMatch(/can't be reached/);
      expect(await downloads.first().getAttribute('aria-describedby')).toBe('discover-offline-text');
      // No row shows the network error: fits that failed offline are estimated from the catalog's size.
      const firstCard = page.getByTestId('catalog-entry').first();
      const badges = firstCard.getByTestId('fit-badge');
      await expect.poll(() => firstCard.locator('[data-testid="fit-badge"][data-verdict="pending"]').count(), { timeout: 30_000 }).toBe(0);
      expect(await firstCard.locator('[data-testid="fit-badge"][data-verdict="unknown"]').count()).toBe(0);
      expect(await badges.first().getAttribute('title')).toMatch(/Estimated from the file size/);
      expect(await notice.count()).toBe(1);
      await page.screenshot({ path: join(outDir, 'discover-offline.png') });

      await page.getByTestId('discover-offline-import').click();
      await expect.poll(() => new URL(page.url()).hash).toBe('#/models/local');
      await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('import-path');

      // The hub answers again: "Check again" brings the downloads back.
      hub = await startHubServer({}, { port: hubPort });
      await page.getByTestId('models-tab-discover').click();
      await page.getByTestId('discover-offline-retry').click();
      await expect.poll(() => notice.count(), { timeout: 20_000 }).toBe(0);
      await expect.poll(() => page.locator('[data-testid="catalog-file"] [data-testid="download-button"][disabled]').count(), { timeout: 20_000 }).toBe(0);
    });
  });

  it('logged no page errors', () => {
    expect(errors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
  });
});
