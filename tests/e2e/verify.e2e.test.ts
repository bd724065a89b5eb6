import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { beforeAll, describe, expect, it } from 'vitest';
import type { ProofBundle } from '#contract/verify';
import { E2E_OUT_DIR as outDir, startE2eApp } from '../support/e2eApp';
import type { ServeRun } from '../support/server';
import { testModelPath } from '../support/testModels';

/** Verify and Export proof on a reply in the real UI: the checks shown, the bundle saved as a file. */
describe('verifying a reply in the browser (e2e)', () => {
  let server: ServeRun;
  let page: Page;
  let address: string;
  let messageId: string;
  const errors: string[] = [];

  beforeAll(async () => {
    const modelPath = await testModelPath('stories260K');
    const app = await startE2eApp({
      prefix: 'hearth-e2e-verify-',
      viewport: { width: 1280, height: 900 },
      errors,
      // A signed reply made before the server starts; the server then runs with the vault locked.
      seed: async (core) => {
        const model = await core.models.add(modelPath);
        core.models.setDefault('chat', model.id);
        await core.runner.load(model.id, { contextSize: 512 });
        core.settings.update({ maxReplyTokens: 24, temperature: 0.7 });
        ({ address } = await core.vault.create({ passphrase: 'verify in the browser' }));
        const thread = core.chat.createThread('Lily and the ball');
        ({ assistantMessageId: messageId } = await core.chat.send(thread.id, 'Lily found a ball', { seed: 3 }));
        await core.chat.idle(thread.id);
      },
      seedConfig: { threads: 1, vault: { scryptN: 1 << 12 } },
      testModels: true,
    });
    ({ server, page } = app);
    return app.close;
  });

  const reply = () => page.locator(`[data-testid="message"][data-message-id="${messageId}"]`);

  it('Verify shows each check: signed by this vault, chain, transcript, model, an identical replay', async () => {
    await page.goto(server.url);
    await page.getByTestId('thread-item').filter({ hasText: 'Lily and the ball' }).click();
    await reply().getByTestId('receipt-verify').click();
    const report = reply().getByTestId('verify-report');
    await expect.poll(() => report.getAttribute('data-ok'), { timeout: 60_000 }).toBe('true');
    const status = (check: string) => report.locator(`li[data-check="${check}"]`).getAttribute('data-status');
    for (const check of ['format', 'signature', 'chain', 'transcript', 'model', 'replay']) expect(await status(check), check).toBe('pass');
    expect(await status('sources')).toBe('skipped');
    expect(await report.locator('li[data-check="signature"]').innerText()).toContain(`Signed by ${address}: this vault's wallet.`);
    expect(await report.locator('li[data-check="replay"]').innerText()).toContain('Identical');
    await page.screenshot({ path: join(outDir, 'verify.png'), fullPage: true });
  });

  it('Export proof saves the bundle, with its transcript, as a JSON file', async () => {
    const [download] = await Promise.all([page.waitForEvent('download'), reply().getByTestId('receipt-export').click()]);
    expect(download.suggestedFilename()).toBe(`hearth-proof-${messageId}.json`);
    const bundle = JSON.parse(readFileSync((await download.path())!, 'utf8')) as ProofBundle;
    expect(bundle).toMatchObject({ format: 'hearth-proof-bundle', receipt: { signer: address, fields: { messageId } }, transcript: { question: 'Lily found a ball' } });
  });

  it('logged no page errors', () => {
    expect(errors).toEqual([]);
  });
});
