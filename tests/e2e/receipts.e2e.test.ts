import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseReceipt, recoverSigner } from '../../src-main/core/receipts/receiptFormat';
import { E2E_OUT_DIR as outDir, startE2eApp } from '../support/e2eApp';
import type { ServeRun } from '../support/server';
import type { TempDir } from '../support/tempDir';
import { testModelPath } from '../support/testModels';
const PASSPHRASE = 'receipts in the browser';

/** Answer receipts in the real UI: a badge on each reply, unsigned while locked, Sign once unlocked. */
describe('answer receipts in the browser (e2e)', () => {
  let server: ServeRun;
  let page: Page;
  let data: TempDir;
  let address: string;
  const errors: string[] = [];

  beforeAll(async () => {
    await testModelPath('stories260K');
    const app = await startE2eApp({
      prefix: 'hearth-e2e-receipts-',
      viewport: { width: 1280, height: 800 },
      errors,
      // A wallet whose passphrase is not remembered: the server starts with the vault locked.
      seed: async (core) => {
        core.settings.update({ maxReplyTokens: 16, temperature: 0 });
        ({ address } = await core.vault.create({ passphrase: PASSPHRASE }));
      },
      seedConfig: { vault: { scryptN: 1 << 12 } },
      testModels: true,
    });
    ({ server, page, data } = app);
    return app.close;
  });

  const lastAssistant = () => page.locator('[data-testid="message"][data-role="assistant"]').last();

  async function ask(text: string): Promise<void> {
    await page.getByTestId('composer').fill(text);
    await page.getByTestId('composer').press('Enter');
    await expect.poll(() => lastAssistant().getAttribute('data-status'), { timeout: 60_000 }).toMatch(/complete|length/);
  }

  function storedSigner(messageId: string): string | null {
    const db = new BetterSqlite3(join(data.path, 'hearth.db'), { readonly: true, fileMustExist: true });
    try {
      const row = db.prepare('SELECT receipt_json AS json FROM messages WHERE id = ?').get(messageId) as { json: string };
      const receipt = parseReceipt(JSON.parse(row.json), messageId);
      return receipt.signature ? recoverSigner(receipt) : null;
    } finally {
      db.close();
    }
  }

  it('marks a reply made while the vault is locked as unsigned', async () => {
    await page.goto(server.url);
    const select = page.getByTestId('model-select');
    await expect.poll(() => select.locator('option', { hasText: 'stories260K' }).count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await select.selectOption((await select.locator('option', { hasText: 'stories260K' }).first().getAttribute('value'))!);
    await page.getByTestId('model-load').click();
    await expect.poll(() => page.getByTestId('runtime-status').innerText(), { timeout: 30_000 }).toMatch(/Ready/);
    await page.getByTestId('new-thread').click();
    await ask('Once upon a time');
    const badge = lastAssistant().getByTestId('receipt-badge');
    await expect.poll(() => badge.getAttribute('data-receipt')).toBe('unsigned');
    expect(await lastAssistant().getByTestId('receipt-sign').isVisible()).toBe(true);
  });

  it('signs it with Sign once the vault is unlocked, and signs the next reply at once', async () => {
    const reply = lastAssistant();
    const messageId = (await reply.getAttribute('data-message-id'))!;
    await page.getByTestId('nav-backup').click();
    await page.getByTestId('vault-unlock-passphrase').fill(PASSPHRASE);
    await page.getByTestId('vault-unlock').click();
    await expect.poll(() => page.getByTestId('vault-identity').getAttribute('data-state'), { timeout: 30_000 }).toBe('unlocked');
    expect(await page.getByTestId('receipts-toggle').isChecked()).toBe(true);

    await page.getByTestId('nav-chat').click();
    await page.getByTestId('thread-item').filter({ hasText: 'Once upon a time' }).click();
    await lastAssistant().getByTestId('receipt-sign').click();
    await expect.poll(() => lastAssistant().getByTestId('receipt-badge').getAttribute('data-receipt'), { timeout: 20_000 }).toBe('signed');
    expect(await lastAssistant().getByTestId('receipt-sign').count()).toBe(0);
    expect(storedSigner(messageId)).toBe(address);

    await ask('Then what?');
    await expect.poll(() => lastAssistant().getByTestId('receipt-badge').getAttribute('data-receipt')).toBe('signed');
    expect(storedSigner((await lastAssistant().getAttribute('data-message-id'))!)).toBe(address);
    await page.screenshot({ path: join(outDir, 'receipts.png'), fullPage: true });
  });

  it('logged no page errors', () => {
    expect(errors).toEqual([]);
  });
});
