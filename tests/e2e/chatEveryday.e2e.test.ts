import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Download, Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { E2E_OUT_DIR as outDir, startE2eApp } from '../support/e2eApp';
import type { ServeRun } from '../support/server';
import { testModelPath } from '../support/testModels';

/** A Hearth export holding math, a task list and a word to search for. */
const PHYSICS = JSON.stringify({
  format: 'hearth.chats',
  version: 1,
  threads: [
    {
      title: 'Physics notes',
      systemPrompt: '',
      createdAt: 1_700_000_000_000,
      updatedAt: 1_700_000_000_000,
      messages: [
        { role: 'user', content: 'What did Einstein write down?', status: 'complete', createdAt: 1_700_000_000_001, modelName: null },
        {
          role: 'assistant',
          content: 'Energy and mass: $E = mc^2$, and in display form\n\n$$\\int_0^1 x^2 \\, dx = \\frac{1}{3}$$\n\nIt costs $5 and $10, not math.\n\n- [x] read the paper\n- [ ] do the exercises\n\n<img src=x onerror="window.__pwned=1">',
          status: 'complete',
          createdAt: 1_700_000_000_002,
          modelName: 'stories260K',
        },
      ],
    },
  ],
});

/** A ChatGPT conversations.json of 30 conversations, about 3 MB: more than one WebSocket message carries. */
function largeChatgptExport(): string {
  const conversation = (n: number) => ({
    title: `Archive ${n}`,
    create_time: 1_700_000_000 + n,
    update_time: 1_700_000_000 + n,
    current_node: 'b',
    mapping: {
      a: { parent: null, message: { author: { role: 'user' }, content: { content_type: 'text', parts: [`Question ${n}: ${'why is the sky blue '.repeat(2600)}`] } } },
      b: { parent: 'a', message: { author: { role: 'assistant' }, content: { content_type: 'text', parts: [`Answer ${n}: ${'scattering of sunlight '.repeat(2200)}`] } } },
    },
  });
  return JSON.stringify(Array.from({ length: 30 }, (_, i) => conversation(i + 1)));
}

/**
 * The everyday chat features in real Chromium against `hearth serve`: New chat reuse, reply
 * versions (‹ 1/2 ›), the context meter of a chat with history, import and export round trip,
 * math and task lists, and search across chats that jumps to the message.
 */
describe('chat, everyday (e2e)', () => {
  let server: ServeRun;
  let page: Page;
  const errors: string[] = [];

  beforeAll(async () => {
    await testModelPath('stories260K');
    const app = await startE2eApp({
      prefix: 'hearth-e2e-everyday-',
      viewport: { width: 1280, height: 800 },
      errors,
      seed: (core) => core.settings.update({ maxReplyTokens: 24, temperature: 1 }),
      testModels: true,
    });
    ({ server, page } = app);
    return app.close;
  });

  const lastAssistant = () => page.locator('[data-testid="message"][data-role="assistant"]').last();
  const replyText = async () => (await lastAssistant().getByTestId('message-content').innerText()).trim();

  async function download(trigger: () => Promise<void>): Promise<{ name: string; content: string }> {
    const [file] = await Promise.all([page.waitForEvent('download') as Promise<Download>, trigger()]);
    const path = await file.path();
    return { name: file.suggestedFilename(), content: readFileSync(path, 'utf8') };
  }

  it('New chat twice gives one empty chat', async () => {
    await page.goto(server.url);
    await expect.poll(() => page.getByTestId('runtime-status').innerText(), { timeout: 20_000 }).toMatch(/No model/i);
    await page.getByTestId('new-thread').click();
    await expect.poll(() => page.getByTestId('thread-item').count()).toBe(1);
    const first = page.url();
    await page.getByTestId('new-thread').click();
    await page.waitForTimeout(300);
    expect(await page.getByTestId('thread-item').count()).toBe(1);
    expect(page.url()).toBe(first);
  });

  it('regenerate keeps the earlier reply: ‹ 1/2 › switches between them, and the meter counts the history', async () => {
    const select = page.getByTestId('model-select');
    await select.selectOption((await select.locator('option', { hasText: 'stories260K' }).first().getAttribute('value'))!);
    await page.getByTestId('model-load').click();
    await expect.poll(() => page.getByTestId('runtime-status').innerText(), { timeout: 30_000 }).toMatch(/Ready/);

    await page.getByTestId('composer').fill('Once upon a time');
    await page.getByTestId('composer').press('Enter');
    await expect.poll(() => lastAssistant().getAttribute('data-status'), { timeout: 60_000 }).toMatch(/complete|length/);
    const firstText = await replyText();

    await lastAssistant().hover();
    await lastAssistant().getByTestId('regenerate').click();
    await expect.poll(() => lastAssistant().getByTestId('version-label').innerText().catch(() => ''), { timeout: 60_000 }).toBe('2/2');
    await expect.poll(() => lastAssistant().getAttribute('data-status'), { timeout: 60_000 }).toMatch(/complete|length/);
    const secondText = await replyText();
    expect(await page.getByTestId('message').count()).toBe(2);

    await lastAssistant().getByTestId('version-prev').click();
    await expect.poll(() => lastAssistant().getByTestId('version-label').innerText()).toBe('1/2');
    await expect.poll(replyText).toBe(firstText);
    await lastAssistant().getByTestId('version-next').click();
    await expect.poll(replyText).toBe(secondText);

    // After a reload the meter shows what the history takes, not 0.
    await page.reload();
    await expect.poll(() => page.getByTestId('message').count(), { timeout: 20_000 }).toBe(2);
    await expect.poll(async () => Number(await page.getByTestId('context-meter').getAttribute('data-used'))).toBeGreaterThan(5);
    expect(await lastAssistant().getByTestId('version-label').innerText()).toBe('2/2');
  });

  it('imports a chat file, renders its math and task list, and exports it back unchanged', async () => {
    await page.getByTestId('import-file').setInputFiles({ name: 'physics.json', mimeType: 'application/json', buffer: Buffer.from(PHYSICS) });
    await expect.poll(() => page.getByTestId('thread-item').filter({ hasText: 'Physics notes' }).count(), { timeout: 20_000 }).toBe(1);
    await expect.poll(() => page.locator('h1.title').innerText()).toBe('Physics notes');

    const reply = lastAssistant().getByTestId('message-content');
    await expect.poll(() => reply.locator('.katex math').count()).toBe(2);
    expect(await reply.locator('p .katex math msup').count()).toBe(1); // E = mc², inline
    expect(await reply.locator('.math-block math[display="block"] mfrac').count()).toBe(1);
    expect(await reply.innerText()).toContain('$5 and $10'); // prices stay text
    expect(await reply.locator('annotation').count()).toBe(0);
    const boxes = reply.locator('input[type="checkbox"]');
    expect(await boxes.count()).toBe(2);
    expect(await boxes.evaluateAll((els) => els.map((e) => [(e as HTMLInputElement).checked, (e as HTMLInputElement).disabled]))).toEqual([
      [true, true],
      [false, true],
    ]);
    expect(await reply.locator('img').count()).toBe(0); // raw HTML from a reply stays text
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.screenshot({ path: join(outDir, 'chat-math.png') });

    await page.getByTestId('export-thread').click();
    const json = await download(() => page.getByTestId('export-thread-json').click());
    expect(json.name).toBe('physics-notes.json');
    expect(JSON.parse(json.content)).toEqual(JSON.parse(PHYSICS));

    await page.getByTestId('export-thread').click();
    const markdown = await download(() => page.getByTestId('export-thread-markdown').click());
    expect(markdown.name).toBe('physics-notes.md');
    expect(markdown.content).toMatch(/^# Physics notes\n/);
    expect(markdown.content).toContain('$E = mc^2$');

    // The exported file imported again gives a second, identical chat.
    await page.getByTestId('import-file').setInputFiles({ name: json.name, mimeType: 'application/json', buffer: Buffer.from(json.content) });
    await expect.poll(() => page.getByTestId('thread-item').filter({ hasText: 'Physics notes' }).count(), { timeout: 20_000 }).toBe(2);
    await page.getByTestId('export-thread').click();
    const again = await download(() => page.getByTestId('export-thread-json').click());
    expect(again.content).toBe(json.content);

    // A damaged file says why, and adds nothing.
    await page.getByTestId('import-file').setInputFiles({ name: 'broken.json', mimeType: 'application/json', buffer: Buffer.from('{"format": "hearth.chats", "version": 1, "threads": [{}]}') });
    await expect.poll(() => page.getByTestId('error-toast').filter({ hasText: 'IMPORT_INVALID' }).count(), { timeout: 10_000 }).toBeGreaterThan(0);
    expect(await page.getByTestId('thread-item').count()).toBe(3);
  });

  it('searches every chat with Ctrl+K, marks the words, and a hit opens the chat at its message', async () => {
    // Start from the first chat, so the jump has to switch chats.
    await page.getByTestId('thread-item').filter({ hasText: 'Once upon a time' }).click();
    await expect.poll(() => page.getByTestId('message').count()).toBe(2);

    await page.getByTestId('composer').click();
    await page.keyboard.press('Control+k');
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('chat-search');
    await page.keyboard.type('einst');
    const hits = page.getByTestId('search-hit');
    await expect.poll(() => hits.count(), { timeout: 10_000 }).toBe(2); // the chat and its re-imported copy
    expect(await hits.first().locator('mark').innerText()).toBe('Einstein');
    expect(await page.getByTestId('thread-item').count()).toBe(0); // the results replace the list

    const messageId = await hits.first().getAttribute('data-message-id');
    await hits.first().click();
    const target = page.locator(`[data-testid="message"][data-message-id="${messageId}"]`);
    await expect.poll(() => target.count(), { timeout: 10_000 }).toBe(1);
    await expect.poll(() => target.evaluate((el) => el.classList.contains('found'))).toBe(true);
    expect(await target.isVisible()).toBe(true);
    await page.screenshot({ path: join(outDir, 'chat-search.png') });

    // Esc empties the box and brings the list back.
    await page.getByTestId('chat-search').press('Escape');
    await expect.poll(() => page.getByTestId('thread-item').count()).toBe(3);
    expect(errors).toEqual([]);
  });

  it('imports a ChatGPT export larger than one WebSocket message (posted over HTTP)', async () => {
    const content = largeChatgptExport();
    expect(Buffer.byteLength(content)).toBeGreaterThan(2.5 * 1024 * 1024);
    await page.getByTestId('import-file').setInputFiles({ name: 'conversations.json', mimeType: 'application/json', buffer: Buffer.from(content) });
    await expect.poll(() => page.getByTestId('thread-item').count(), { timeout: 30_000 }).toBe(33);
    expect(await page.getByTestId('thread-item').filter({ hasText: 'Archive 30' }).count()).toBe(1);
    expect(await page.getByTestId('toast').filter({ hasText: 'Imported 30 chats from the ChatGPT export.' }).count()).toBe(1);
    expect(errors).toEqual([]);
  });
});
