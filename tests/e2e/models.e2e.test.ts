import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { E2E_OUT_DIR as outDir, startE2eApp } from '../support/e2eApp';
import { startHubServer, type HubServer } from '../support/hubServer';
import type { ServeRun } from '../support/server';
import { testModelPath } from '../support/testModels';


const REPO = 'test-org/tiny-stories-GGUF';
const FILE = 'tiny-stories-F32.gguf';
const GATED_REPO = 'test-org/locked-stories-GGUF';
const GATED_FILE = 'locked-stories-F32.gguf';
const TOKEN = 'hf_e2e_secret_token';
/** Slow enough (about 3 s for the 1.2 MB file) that the progress bar is seen moving. */
const BYTES_PER_SECOND = 400_000;

/**
 * The Models screen in real Chromium against `hearth serve`, with a local server that answers
 * like the Hugging Face hub and serves a real GGUF: search, choose a file, see its fit,
 * download it while the progress bar moves, find it on this machine, load it, chat with it.
 */
describe('models screen in the browser (e2e)', () => {
  let hub: HubServer;
  let server: ServeRun;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    const stories = await testModelPath('stories260K');
    hub = await startHubServer(
      {
        [REPO]: { files: { [FILE]: stories }, downloads: 4321, likes: 17 },
        [GATED_REPO]: { files: { [GATED_FILE]: stories }, gated: true, downloads: 12, likes: 1 },
      },
      { token: TOKEN },
    );
    // No testModels (--models-dir): the only model this server will know is the one the test downloads.
    const app = await startE2eApp({
      prefix: 'hearth-e2e-models-',
      viewport: { width: 1280, height: 860 },
      errors,
      // The hub endpoint is a setting: point it at the local hub before the server starts.
      seed: (core) => core.settings.update({ hubEndpoint: hub.url }),
    });
    ({ server, page } = app);
    return app.close;
  });

  afterAll(async () => {
    await hub?.close();
  });

  const hubFile = () => page.locator(`[data-testid="hub-result"][data-repo="${REPO}"] [data-testid="hub-file"][data-file="${FILE}"]`);
  const lastAssistant = () => page.locator('[data-testid="message"][data-role="assistant"]').last();

  it('opens the Models screen from the sidebar and describes this machine', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.getByTestId('backend-badge').innerText(), { timeout: 20_000 }).toMatch(/CPU|CUDA|Vulkan|Metal/);
    await page.getByTestId('nav-models').click();
    expect(new URL(page.url()).hash).toBe('#/models');
    await expect.poll(() => page.getByTestId('models-tab-discover').getAttribute('aria-selected')).toBe('true');
    await expect.poll(() => page.getByTestId('hardware-summary').innerText(), { timeout: 30_000 }).toMatch(/\d+ cores.*RAM/s);
    expect(await page.getByTestId('hardware-summary').innerText()).toMatch(/GPU|VRAM/);
    // The curated catalog ships with the app.
    await expect.poll(() => page.getByTestId('catalog-entry').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(await page.getByTestId('catalog-entry').first().getAttribute('data-catalog-id')).toBeTruthy();
  });

  it('searches the hub, chooses a repository and shows its files with a fit badge', async () => {
    await page.getByTestId('hub-search-input').fill('stories');
    await page.getByTestId('hub-search-submit').click();
    const results = page.getByTestId('hub-result');
    await expect.poll(() => results.count(), { timeout: 20_000 }).toBe(2);
    const result = page.locator(`[data-testid="hub-result"][data-repo="${REPO}"]`);
    expect(await result.innerText()).toMatch(/4\.3K/); // downloads
    expect(await page.locator(`[data-testid="hub-result"][data-repo="${GATED_REPO}"] [data-testid="gated-badge"]`).count()).toBe(1);

    await result.getByRole('button', { name: new RegExp(REPO) }).click();
    await expect.poll(() => hubFile().count(), { timeout: 20_000 }).toBe(1);
    expect(await hubFile().innerText()).toMatch(/F32[\s\S]*1\.2 MB/);
    const badge = hubFile().getByTestId('fit-badge');
    await expect.poll(() => badge.getAttribute('data-verdict'), { timeout: 60_000 }).toMatch(/^(gpu|partial|cpu)$/);
    expect(await badge.innerText()).toMatch(/Fits on GPU|Partly offloaded|CPU only/);
    expect((await badge.getAttribute('title'))?.length).toBeGreaterThan(0);
    // The only file that runs here is the one to recommend.
    await expect.poll(() => hubFile().getByTestId('recommended').count()).toBe(1);
    await page.waitForTimeout(300); // let the recommended button's colour transition finish
    await page.screenshot({ path: join(outDir, 'models.png') });
  });

  it('downloads the file and the progress bar moves to completion', async () => {
    hub.fault(`/${REPO}/resolve/main/${FILE}`, { kind: 'slow', bytesPerSecond: BYTES_PER_SECOND });
    await hubFile().getByTestId('download-button').click();
    await page.getByTestId('models-tab-downloads').click();
    expect(new URL(page.url()).hash).toBe('#/models/downloads');
    const row = page.getByTestId('download-row').first();
    await expect.poll(() => page.getByTestId('download-row').count(), { timeout: 20_000 }).toBe(1);
    expect(await row.innerText()).toContain('tiny-stories');

    // Record every value the bar shows while the file arrives.
    await page.evaluate(() => {
      const w = window as unknown as { __progress: number[] };
      w.__progress = [];
      const record = () => {
        const bar = document.querySelector('[data-testid="download-progress"]');
        const now = bar?.getAttribute('aria-valuenow');
        if (now) w.__progress.push(Number(now));
      };
      record();
      new MutationObserver(record).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    });
    await expect.poll(() => row.getByTestId('download-bytes').innerText(), { timeout: 20_000 }).toMatch(/of 1\.2 MB/);
    await expect.poll(() => row.getAttribute('data-status'), { timeout: 60_000 }).toBe('completed');
    await expect.poll(() => row.getByTestId('download-progress').getAttribute('aria-valuenow')).toBe('100');
    const seen = await page.evaluate(() => (window as unknown as { __progress: number[] }).__progress);
    expect(seen.some((p) => p > 0 && p < 100)).toBe(true);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThanOrEqual(seen[i - 1]!);
    expect(hub.requests.some((r) => r.method === 'GET' && r.path === `/${REPO}/resolve/main/${FILE}`)).toBe(true);
    await page.screenshot({ path: join(outDir, 'models-downloads.png') });
  });

  it('lists the downloaded model on this machine and loads it', async () => {
    await page.getByTestId('models-tab-local').click();
    const model = page.getByTestId('local-model').filter({ hasText: 'tiny-stories' });
    await expect.poll(() => model.count(), { timeout: 20_000 }).toBe(1);
    const text = await model.innerText();
    expect(text).toMatch(/F32/);
    expect(text).toMatch(/in Hearth's models folder/);
    expect(await model.getByTestId('model-chat-template').innerText()).toBe('No');
    // A reload comes back to the same tab.
    await page.reload();
    await expect.poll(() => page.getByTestId('models-tab-local').getAttribute('aria-selected'), { timeout: 20_000 }).toBe('true');
    await expect.poll(() => model.count(), { timeout: 20_000 }).toBe(1);

    await model.getByTestId('local-model-load').click();
    await expect.poll(() => model.getByTestId('model-loaded').count(), { timeout: 60_000 }).toBe(1);
    expect(await model.getByTestId('gpu-effect').innerText()).toMatch(/\d+ of \d+ layers on the GPU/);
    await page.screenshot({ path: join(outDir, 'models-local.png') });
  });

  it('chats with the downloaded model', async () => {
    await page.getByTestId('nav-chat').click();
    await expect.poll(() => page.getByTestId('runtime-status').innerText(), { timeout: 20_000 }).toMatch(/Ready.*tiny-stories/s);
    await page.getByTestId('new-thread').click();
    await page.getByTestId('composer').fill('Once upon a time');
    await page.getByTestId('composer').press('Enter');
    await expect.poll(() => lastAssistant().getAttribute('data-status'), { timeout: 60_000 }).toMatch(/complete|length/);
    expect((await lastAssistant().getByTestId('message-content').innerText()).trim().length).toBeGreaterThan(0);
  });

  it('explains a gated repository and takes a token for it', async () => {
    await page.getByTestId('nav-models').click();
    await page.getByTestId('models-tab-discover').click();
    await page.getByTestId('hub-search-input').fill('locked');
    await page.getByTestId('hub-search-submit').click();
    // A single match opens by itself; without a token its files are refused.
    const gate = page.getByTestId('hub-gated');
    await expect.poll(() => gate.count(), { timeout: 20_000 }).toBe(1);
    expect(await gate.innerText()).toMatch(/gated/i);
    expect(await gate.innerText()).toContain('MODEL_GATED');

    await page.getByTestId('hub-token-input').fill(TOKEN);
    await page.getByTestId('hub-token-save').click();
    const file = page.locator(`[data-testid="hub-result"][data-repo="${GATED_REPO}"] [data-testid="hub-file"][data-file="${GATED_FILE}"]`);
    await expect.poll(() => file.count(), { timeout: 20_000 }).toBe(1);
    expect(await gate.count()).toBe(0);
  });

  it('logged no page errors', () => {
    expect(errors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
  });
});
