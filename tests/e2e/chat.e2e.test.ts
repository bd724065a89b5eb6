import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { E2E_OUT_DIR as outDir, startE2eApp } from '../support/e2eApp';
import { startServe, type ServeRun } from '../support/server';
import { tempDir } from '../support/tempDir';
import { testModelPath } from '../support/testModels';

/**
 * The real UI in real Chromium against `hearth serve`: the same Svelte app and contract the
 * desktop app uses, over the WebSocket transport instead of IPC.
 */
describe('chat in the browser (e2e)', () => {
  let server: ServeRun;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await testModelPath('stories260K');
    await testModelPath('tinyRandom');
    const app = await startE2eApp({
      prefix: 'hearth-e2e-',
      viewport: { width: 1280, height: 800 },
      errors,
      // Long replies, so there is time to press Esc while one streams.
      seed: (core) => core.settings.update({ maxReplyTokens: 3000 }),
      testModels: true,
    });
    ({ server, page } = app);
    return app.close;
  });

  const lastAssistant = () => page.locator('[data-testid="message"][data-role="assistant"]').last();

  async function loadModel(file: string) {
    const select = page.getByTestId('model-select');
    const value = await select.locator('option', { hasText: file.replace('.gguf', '') }).first().getAttribute('value');
    expect(value).toBeTruthy();
    await select.selectOption(value!);
    await page.getByTestId('model-load').click();
    // Wait for this model, not the one loaded before it (its status said Ready until the switch began).
    await expect.poll(() => page.getByTestId('runtime-status').getAttribute('title'), { timeout: 30_000 }).toContain(`(${file})`);
    await expect.poll(() => page.getByTestId('runtime-status').innerText(), { timeout: 30_000 }).toMatch(/Ready/);
    // The status says how many conversations stay warm and what their KV cache costs.
    expect(await page.getByTestId('runtime-status').getAttribute('title')).toMatch(/Keeps \d+ recent conversations? warm: .+ KV cache, budget .+ CPU threads?/);
  }

  it('opens the UI with the token and shows which backend runs inference', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.getByTestId('backend-badge').innerText(), { timeout: 20_000 }).toMatch(/CPU|CUDA|Vulkan|Metal/);
    const badge = await page.getByTestId('backend-badge').innerText();
    if (badge.includes('CPU')) await expect.poll(() => page.getByTestId('backend-warning').isVisible()).toBe(true);
    expect(page.url()).not.toContain('token='); // the token leaves the address bar
    expect(page.url()).not.toContain('code='); // and so does the one-time code (spent anyway)
    await expect.poll(() => page.getByTestId('runtime-status').innerText()).toMatch(/No model/i);
  });

  it('welcomes with the real flow: get a model on the Models screen, then send (the default model loads)', async () => {
    const welcome = page.getByTestId('welcome');
    await welcome.waitFor();
    const text = await welcome.innerText();
    // No stale positional hint, and no "press Load" step: sending loads the default model.
    expect(text).not.toMatch(/bottom left|press\s+load/i);
    expect(await page.getByTestId('welcome-step-model').innerText()).toMatch(/Get a model/);
    // The library already has the test models: the first step is done.
    expect(await page.getByTestId('welcome-step-model').getAttribute('class')).toMatch(/\bdone\b/);
    expect(await page.getByTestId('welcome-step-send').innerText()).toMatch(/Enter: .+ loads by itself\./);
    // Its button opens the Models screen (on the models this machine has, as the step is done).
    await page.getByTestId('welcome-models').click();
    await expect.poll(() => page.getByTestId('models-view').count()).toBe(1);
    expect(new URL(page.url()).hash).toBe('#/models/local');
    await expect.poll(() => page.getByTestId('import-path').count()).toBe(1);
    await page.goBack();
    await expect.poll(() => page.getByTestId('welcome').count()).toBe(1);
  });

  it('has no path box in the sidebar on any screen: adding a model happens on the Models screen', async () => {
    const sidebar = page.locator('aside.sidebar');
    for (const screen of ['chat', 'documents', 'models', 'backup', 'settings', 'chat']) {
      await page.getByTestId(`nav-${screen}`).click();
      await expect.poll(() => page.getByTestId(`nav-${screen}`).getAttribute('aria-current')).toBe('page');
      // No text field for a path (the sidebar keeps only the chat search box and the chats' file input).
      expect(await sidebar.locator('input:not([type]), input[type="text"], textarea').count(), screen).toBe(0);
      expect(await sidebar.locator('input:not([type="search"]):not([type="file"])').count(), screen).toBe(0);
      expect(await sidebar.locator('input[placeholder*=".gguf"]').count(), screen).toBe(0);
      expect(await sidebar.innerText(), screen).not.toMatch(/add a model/i);
    }
  });

  it('picks a local model, sends a message and streams the reply token by token', async () => {
    await loadModel('stories260K.gguf');
    await page.getByTestId('new-thread').click();
    // Count how often the reply's text changes while it streams.
    await page.evaluate(() => {
      const w = window as unknown as { __lengths: number[] };
      w.__lengths = [];
      new MutationObserver(() => {
        const all = document.querySelectorAll('[data-testid="message"][data-role="assistant"] [data-testid="message-content"]');
        const last = all[all.length - 1];
        if (last) w.__lengths.push(last.textContent?.length ?? 0);
      }).observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByTestId('composer').fill('Once upon a time');
    await page.getByTestId('composer').press('Enter');
    await expect.poll(() => lastAssistant().getAttribute('data-status'), { timeout: 60_000 }).toMatch(/complete|length/);
    const lengths = await page.evaluate(() => (window as unknown as { __lengths: number[] }).__lengths);
    expect(new Set(lengths.filter((n) => n > 0)).size).toBeGreaterThan(3);
    const text = await lastAssistant().getByTestId('message-content').innerText();
    expect(text.trim().length).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('context-meter').innerText()).toMatch(/\d+\s*\/\s*2,?048/);
    await page.screenshot({ path: join(outDir, 'chat.png'), fullPage: true });
  });

  it('stops a generation with Esc and keeps what was written', async () => {
    await loadModel('llama-2-tiny-random.gguf');
    // Esc goes to the composer the moment the reply's first words are on screen, from inside the
    // page. Polling for them from here answers up to seconds late on a busy machine, and by then
    // the tiny model may have filled its context and finished (status "length", not "stopped").
    await page.evaluate(() => {
      const composer = document.querySelector('[data-testid="composer"]');
      const observer = new MutationObserver(() => {
        const replies = document.querySelectorAll('[data-testid="message"][data-role="assistant"]');
        const reply = replies[replies.length - 1];
        const content = reply?.querySelector<HTMLElement>('[data-testid="message-content"]');
        if (reply?.getAttribute('data-status') !== 'streaming' || !content?.innerText) return;
        observer.disconnect();
        composer?.dispatchEvent(new KeyboardEvent('keydown', { key: 'Escape', bubbles: true, cancelable: true }));
      });
      observer.observe(document.body, { subtree: true, childList: true, characterData: true });
    });
    await page.getByTestId('composer').fill('Tell me everything.');
    await page.getByTestId('composer').press('Enter');
    await expect.poll(() => lastAssistant().getAttribute('data-status'), { timeout: 30_000 }).toBe('stopped');
    expect((await lastAssistant().getByTestId('message-content').innerText()).length).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('stop').count()).toBe(0);
  });

  it('finds the thread again after a reload', async () => {
    await page.reload();
    const thread = page.getByTestId('thread-item').filter({ hasText: 'Once upon a time' });
    await expect.poll(() => thread.count(), { timeout: 20_000 }).toBe(1);
    await thread.click();
    await expect.poll(() => page.getByTestId('message').count()).toBe(4);
    expect(await page.locator('[data-testid="message"][data-role="user"]').first().innerText()).toContain('Once upon a time');
  });

  it('shows errors in words for people, with an action, and their codes in a details line', async () => {
    await expect.poll(() => page.getByTestId('runtime-status').innerText()).toMatch(/Ready/);
    const before = await page.getByTestId('message').count();
    await page.getByTestId('composer').fill('x'.repeat(100_001));
    await page.getByTestId('send').click();
    await expect.poll(() => page.getByTestId('error-toast').filter({ hasText: 'MESSAGE_TOO_LARGE' }).count()).toBe(1);
    expect(await page.getByTestId('message').count()).toBe(before); // nothing was added to the thread
    const tooLarge = page.locator('[data-testid="error-toast"][data-code="MESSAGE_TOO_LARGE"]');
    expect(await tooLarge.getByTestId('error-sentence').innerText()).toMatch(/^This message is too long\./);
    expect(await tooLarge.getByTestId('error-sentence').innerText()).not.toMatch(/MESSAGE_TOO_LARGE|—/);
    expect(await tooLarge.getByTestId('error-details').innerText()).toContain('Details: MESSAGE_TOO_LARGE');
    // Its action opens the setting that helps (the context size), and the toast goes.
    const action = tooLarge.getByTestId('error-action');
    expect(await action.innerText()).toBe('Open settings');
    const chatUrl = page.url();
    await action.click();
    await expect.poll(() => page.getByTestId('settings-view').count()).toBe(1);
    expect(new URL(page.url()).hash).toBe('#/settings');
    await expect.poll(() => page.getByTestId('setting-context-auto').isVisible()).toBe(true);
    await expect.poll(() => tooLarge.count()).toBe(0);
    await page.goBack();
    expect(page.url()).toBe(chatUrl);
    await expect.poll(() => page.getByTestId('composer').count()).toBe(1);
    await page.getByTestId('composer').fill('');

    // A model is added where a user adds one: Models → On this machine → Import.
    await page.getByTestId('nav-models').click();
    await page.getByTestId('models-tab-local').click();
    await page.getByTestId('import-path').fill('/no/such/model.gguf');
    await page.getByTestId('import-submit').click();
    await expect.poll(() => page.getByTestId('error-toast').filter({ hasText: 'FILE_NOT_FOUND' }).count()).toBe(1);
    const notFound = page.locator('[data-testid="error-toast"][data-code="FILE_NOT_FOUND"]');
    expect(await notFound.getByTestId('error-sentence').innerText()).toBe('The file could not be found. Check that it still exists and that the path is complete.');
    // The server's specifics (which file) stay as a detail beside the code.
    expect(await notFound.getByTestId('error-details').innerText()).toMatch(/\/no\/such\/model\.gguf[\s\S]*Details: FILE_NOT_FOUND/);
    await page.getByTestId('nav-chat').click();
    await expect.poll(() => page.getByTestId('composer').count()).toBe(1);
    await page.getByTestId('model-unload').click();
    await expect.poll(() => page.getByTestId('runtime-status').innerText()).toMatch(/No model/i);
  });

  it('deletes a thread after confirmation, and it stays gone after a reload', async () => {
    const thread = page.getByTestId('thread-item').filter({ hasText: 'Once upon a time' });
    await thread.hover();
    await thread.getByTestId('thread-delete').click();
    await page.getByTestId('thread-delete-confirm').click();
    await expect.poll(() => page.getByTestId('thread-item').filter({ hasText: 'Once upon a time' }).count()).toBe(0);
    await page.reload();
    await expect.poll(() => page.getByTestId('backend-badge').count(), { timeout: 20_000 }).toBe(1);
    expect(await page.getByTestId('thread-item').filter({ hasText: 'Once upon a time' }).count()).toBe(0);
  });

  it('logged no page errors', () => {
    expect(errors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
  });
});

describe('the server refuses requests without its token', () => {
  it('answers 401 to a request without the token', async () => {
    const data = tempDir('hearth-e2e-');
    const server = await startServe(['--data-dir', data.path, '--gpu', 'off']);
    try {
      const bare = server.url.replace(/\?code=.*/, '');
      expect((await fetch(bare)).status).toBe(401);
      const signIn = await fetch(server.url, { redirect: 'manual' });
      expect(signIn.status).toBe(303);
      const home = new URL(signIn.headers.get('location')!, server.url);
      expect((await fetch(home, { headers: { Cookie: signIn.headers.getSetCookie()[0]!.split(';')[0]! } })).status).toBe(200);
      expect((await fetch(home)).status).toBe(401);
    } finally {
      await server.stop();
      data.cleanup();
    }
  });
});
