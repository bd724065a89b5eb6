import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProofBundle } from '#contract/verify';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore } from '../../src-main/core/createCore';
import { openBrowser } from '../support/browser';
import { startServe } from '../support/server';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';
import { tempDir } from '../support/tempDir';
import { testModelCacheDir, testModelPath } from '../support/testModels';

const outDir = join(__dirname, '..', '..', 'test-results', 'e2e');

/** Verify and Export proof on a reply in the real UI: the checks shown, the bundle saved as a file. */
describe('verifying a reply in the browser (e2e)', () => {
  let server: Awaited<ReturnType<typeof startServe>>;
  let browser: Browser;
  let page: Page;
  let data: ReturnType<typeof tempDir>;
  let address: string;
  let messageId: string;
  const errors: string[] = [];

  beforeAll(async () => {
    mkdirSync(outDir, { recursive: true });
    const modelPath = await testModelPath('stories260K');
    data = tempDir('hearth-e2e-verify-');
    // A signed reply made before the server starts; the server then runs with the vault locked.
    const seed = createCore(
      { dataDir: data.path, host: 'server', version: 'e2e', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, vault: { scryptN: 1 << 12 } },
      { logger: createConsoleLogger('error') },
    );
    try {
      const model = await seed.models.add(modelPath);
      seed.models.setDefault('chat', model.id);
      await seed.runner.load(model.id, { contextSize: 512 });
      seed.settings.update({ maxReplyTokens: 24, temperature: 0.7 });
      ({ address } = await seed.vault.create({ passphrase: 'verify in the browser' }));
      const thread = seed.chat.createThread('Lily and the ball');
      ({ assistantMessageId: messageId } = await seed.chat.send(thread.id, 'Lily found a ball', { seed: 3 }));
      await seed.chat.idle(thread.id);
    } finally {
      await seed.dispose();
    }
    server = await startServe(['--data-dir', data.path, '--models-dir', testModelCacheDir(), '--threads', '1']);
    ({ browser, page } = await openBrowser({ width: 1280, height: 900 }, errors));
  });

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    data?.cleanup();
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
