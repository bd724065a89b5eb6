import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { E2E_OUT_DIR as outDir, startE2eApp } from '../support/e2eApp';
import type { TempDir } from '../support/tempDir';
import { testModelPath } from '../support/testModels';

/**
 * The Settings screen in real Chromium against `hearth serve`: generation defaults saved and
 * reset, presets, a chat's own values applied to a real reply, appearance kept by the browser,
 * and the keyboard shortcuts the screen lists.
 */
describe('settings: generation, presets, per-chat values, appearance, shortcuts (e2e)', () => {
  let page: Page;
  let data: TempDir;
  const errors: string[] = [];

  /** What the database says about the chats' replies, read as another process would. */
  const replies = () => {
    const db = new Database(join(data.path, 'hearth.db'), { readonly: true, fileMustExist: true });
    try {
      return db.prepare("SELECT thread_id AS threadId, status, content FROM messages WHERE role = 'assistant' ORDER BY seq").all() as {
        threadId: string;
        status: string;
        content: string;
      }[];
    } finally {
      db.close();
    }
  };

  beforeAll(async () => {
    const model = await testModelPath('stories260K');
    const app = await startE2eApp({
      prefix: 'hearth-e2e-settings-',
      viewport: { width: 1280, height: 800 },
      errors,
      // The first chat model added becomes the default: a message sent with nothing loaded loads it.
      seed: async (core) => expect((await core.models.add(model)).defaultFor).toEqual(['chat']),
      testModels: true,
      open: true,
    });
    ({ page, data } = app);
    return app.close;
  });

  it('opens Settings from the sidebar and with Ctrl+, and lists the shortcuts that work', async () => {
    await page.getByTestId('nav-settings').click();
    expect(new URL(page.url()).hash).toBe('#/settings');
    expect(await page.title()).toBe('Settings · Hearth');
    for (const section of ['settings-generation', 'settings-presets', 'settings-appearance', 'model-settings', 'settings-shortcuts', 'network-ledger']) {
      expect(await page.getByTestId(section).count(), section).toBe(1);
    }
    const keys = await page.getByTestId('shortcut-keys').allInnerTexts();
    expect(keys).toEqual(expect.arrayContaining(['Ctrl+Shift+O', 'Ctrl+K', 'Ctrl+,']));

    await page.getByTestId('nav-chat').click();
    await page.keyboard.press('Control+Comma');
    await expect.poll(() => new URL(page.url()).hash).toBe('#/settings');
  });

  it('saves generation defaults that survive a reload, refuses a value out of range, and resets them', async () => {
    expect(await page.getByTestId('setting-gen-temperature').inputValue()).toBe('0.7');
    expect(await page.getByTestId('setting-gen-topP').inputValue()).toBe('0.95');
    await page.getByTestId('setting-gen-topP').fill('1.5');
    await page.getByTestId('settings-generation-save').click();
    expect(await page.getByTestId('settings-generation-problem').innerText()).toMatch(/Top-p takes a number above 0 up to 1/);

    await page.getByTestId('setting-gen-topP').fill('0.9');
    await page.getByTestId('setting-gen-temperature').fill('0');
    await page.getByTestId('setting-gen-maxReplyTokens').fill('40');
    await page.getByTestId('setting-context-auto').uncheck();
    await page.getByTestId('setting-context-size').fill('1024');
    await page.getByTestId('settings-generation-save').click();
    await expect.poll(() => page.getByTestId('toast').allInnerTexts(), { timeout: 20_000 }).toContainEqual(expect.stringContaining('Generation settings saved'));

    await page.reload();
    await expect.poll(() => page.getByTestId('setting-gen-temperature').inputValue(), { timeout: 20_000 }).toBe('0');
    expect(await page.getByTestId('setting-gen-topP').inputValue()).toBe('0.9');
    expect(await page.getByTestId('setting-gen-maxReplyTokens').inputValue()).toBe('40');
    expect(await page.getByTestId('setting-context-size').inputValue()).toBe('1024');

    await page.getByTestId('settings-generation-reset').click();
    await expect.poll(() => page.getByTestId('setting-gen-temperature').inputValue(), { timeout: 20_000 }).toBe('0.7');
    expect(await page.getByTestId('setting-gen-maxReplyTokens').inputValue()).toBe('1024');
    expect(await page.getByTestId('setting-context-auto').isChecked()).toBe(true);
    await page.screenshot({ path: join(outDir, 'settings.png'), fullPage: true });
  });

  it('makes a preset, and a chat that takes it gets its system prompt and values, applied to a real reply', async () => {
    await page.getByTestId('preset-new').click();
    await page.getByTestId('preset-name').fill('Terse');
    await page.getByTestId('preset-system-prompt').fill('Answer in a few words.');
    await page.getByTestId('preset-maxReplyTokens').fill('3');
    await page.getByTestId('preset-temperature').fill('0');
    await page.getByTestId('preset-save').click();
    await expect.poll(() => page.getByTestId('preset-row-name').allInnerTexts(), { timeout: 20_000 }).toEqual(['Terse']);

    await page.keyboard.press('Control+Shift+O');
    await expect.poll(() => new URL(page.url()).hash, { timeout: 20_000 }).toMatch(/^#\/thread\//);
    const threadId = decodeURIComponent(new URL(page.url()).hash.replace('#/thread/', ''));
    await page.getByTestId('system-prompt-toggle').click();
    const presetValue = await page.getByTestId('chat-preset').locator('option', { hasText: 'Terse' }).getAttribute('value');
    await page.getByTestId('chat-preset').selectOption(presetValue!);
    expect(await page.getByTestId('system-prompt-input').inputValue()).toBe('Answer in a few words.');
    expect(await page.getByTestId('chat-gen-maxReplyTokens').inputValue()).toBe('3');
    // Fields the preset leaves empty show the defaults they fall back to.
    expect(await page.getByTestId('chat-gen-topP').getAttribute('placeholder')).toBe('0.95 (default)');
    await page.getByTestId('system-prompt-save').click();
    await expect.poll(() => page.getByTestId('chat-settings-state').innerText(), { timeout: 20_000 }).toMatch(/Saved/);

    // Sending loads the default chat model; the reply stops at the chat's 3 tokens.
    await page.getByTestId('composer').fill('Once upon a time');
    await page.getByTestId('composer').press('Enter');
    const reply = page.locator('[data-testid="message"][data-role="assistant"]').last();
    await expect.poll(() => reply.getAttribute('data-status'), { timeout: 60_000 }).toBe('length');
    const stored = replies().filter((r) => r.threadId === threadId);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.status).toBe('length');

    // Another chat keeps the defaults (1024 tokens): its reply is not cut at 3.
    await page.keyboard.press('Control+Shift+O');
    await expect.poll(() => new URL(page.url()).hash, { timeout: 20_000 }).not.toBe(`#/thread/${encodeURIComponent(threadId)}`);
    await page.getByTestId('composer').fill('Once upon a time');
    await page.getByTestId('composer').press('Enter');
    const other = page.locator('[data-testid="message"][data-role="assistant"]').last();
    await expect.poll(() => other.getAttribute('data-status'), { timeout: 60_000 }).toMatch(/^(complete|length)$/);
    const otherStored = replies().filter((r) => r.threadId !== threadId);
    expect(otherStored.at(-1)!.content.length).toBeGreaterThan(stored[0]!.content.length);
  }, 120_000);

  it('keeps the appearance in this browser: dark, light, or following the system live', async () => {
    await page.goto(`${new URL(page.url()).origin}${new URL(page.url()).pathname}#/settings`);
    const theme = () => page.evaluate(() => document.documentElement.getAttribute('data-theme'));
    await page.getByTestId('theme-dark').click();
    expect(await theme()).toBe('dark');
    const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(background).toBe('rgb(26, 25, 24)');
    await page.reload();
    await expect.poll(theme).toBe('dark');
    await page.getByTestId('theme-light').click();
    await page.emulateMedia({ colorScheme: 'dark' });
    expect(await theme()).toBe('light');
    await page.getByTestId('theme-system').click();
    expect(await theme()).toBe('dark');
    await page.emulateMedia({ colorScheme: 'light' });
    await expect.poll(theme).toBe('light');
    expect(await page.getByTestId('theme-system').getAttribute('aria-checked')).toBe('true');
  });

  it('logged no page errors', () => {
    expect(errors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
  });
});
