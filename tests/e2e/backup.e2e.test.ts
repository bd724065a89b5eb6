import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ended, threadRows } from '../support/backupPage';
import { E2E_OUT_DIR as outDir, screenshotOnFailure, startE2eApp } from '../support/e2eApp';
import type { ServeRun } from '../support/server';
import { tempDir, type TempDir } from '../support/tempDir';
const PASSPHRASE = 'lantern orchard 42';

/**
 * The Backup screen in real Chromium against `hearth serve`: create a wallet and see its
 * phrase once, show the phrase again only for the right passphrase, add a folder target,
 * snapshot into it, then restore that snapshot with the phrase and its CID into a new folder
 * and compare what the restored database holds with the original.
 */
describe('backup: wallet, snapshot, publish and restore in the browser (e2e)', () => {
  let server: ServeRun;
  let page: Page;
  let data: TempDir;
  let target: TempDir;
  let archive: TempDir;
  let restoreRoot: TempDir;
  const errors: string[] = [];
  let phrase = '';
  let address = '';
  let targetId = '';
  let cid = '';

  beforeAll(async () => {
    target = tempDir('hearth-e2e-backup-target-');
    archive = tempDir('hearth-e2e-backup-archive-');
    restoreRoot = tempDir('hearth-e2e-backup-restore-');
    const app = await startE2eApp({
      prefix: 'hearth-e2e-backup-',
      viewport: { width: 1280, height: 1000 },
      errors,
      // Chats to back up, so the restored database has something to compare.
      seed: (core) => {
        core.chat.createThread('Trip to Lisbon', 'Answer in Portuguese.');
        core.chat.createThread('Sourdough notes');
      },
    });
    ({ server, page, data } = app);
    return app.close;
  });

  screenshotOnFailure(() => page, 'backup');

  afterAll(async () => {
    target?.cleanup();
    archive?.cleanup();
    restoreRoot?.cleanup();
  });

  it('opens Backup and creates a wallet, showing the recovery phrase once', async () => {
    await page.goto(server.url);
    await page.getByTestId('nav-backup').click();
    expect(new URL(page.url()).hash).toBe('#/backup');
    await expect.poll(() => page.getByTestId('vault-identity').getAttribute('data-state'), { timeout: 20_000 }).toBe('none');
    expect(await page.title()).toBe('Backup · Hearth');

    // Too short, then different: the form says why and will not submit.
    await page.getByTestId('vault-passphrase').fill('short');
    expect(await page.getByTestId('vault-setup-problem').innerText()).toMatch(/at least 8/);
    await page.getByTestId('vault-passphrase').fill(PASSPHRASE);
    await page.getByTestId('vault-passphrase-confirm').fill(`${PASSPHRASE}!`);
    expect(await page.getByTestId('vault-setup-problem').innerText()).toMatch(/differ/);
    expect(await page.getByTestId('vault-create').isDisabled()).toBe(true);
    await page.getByTestId('vault-passphrase-confirm').fill(PASSPHRASE);
    await page.getByTestId('vault-create').click();

    const shown = page.getByTestId('vault-phrase');
    await expect.poll(() => shown.count(), { timeout: 30_000 }).toBe(1);
    phrase = (await shown.getAttribute('data-phrase')) ?? '';
    expect(phrase.split(' ')).toHaveLength(12);
    expect(await shown.locator('li').count()).toBe(12);
    expect(await page.getByTestId('vault-phrase-notice').innerText()).toMatch(/Write these 12 words down/);
    address = await page.getByTestId('vault-new-address').innerText();
    expect(address).toMatch(/^0x[0-9a-fA-F]{40}$/);
    await page.screenshot({ path: join(outDir, 'backup-new-wallet.png') });

    // "I wrote it down" is checked: three of the words, by position, typed back.
    await page.getByTestId('vault-phrase-done').click();
    expect(await page.getByTestId('vault-phrase').count()).toBe(0);
    const asked = page.getByTestId('vault-phrase-check-word');
    expect(await asked.count()).toBe(3);
    const positions = (await asked.evaluateAll((inputs) => inputs.map((i) => Number(i.getAttribute('data-position'))))) as number[];
    expect(new Set(positions).size).toBe(3);
    const words = phrase.split(' ');
    // A wrong word keeps the wallet's phrase on screen and says so.
    for (const [i, position] of positions.entries()) await asked.nth(i).fill(i === 0 ? 'wrong' : words[position - 1]!);
    await page.getByTestId('vault-phrase-check-done').click();
    expect(await page.getByTestId('vault-phrase-check-problem').innerText()).toMatch(/One word does not match/);
    expect(await page.getByTestId('vault-address').count()).toBe(0);
    // Back to the words and forward again: the same words are still there to check.
    await page.getByTestId('vault-phrase-check-back').click();
    expect(await page.getByTestId('vault-phrase').getAttribute('data-phrase')).toBe(phrase);
    await page.getByTestId('vault-phrase-done').click();
    const again = (await asked.evaluateAll((inputs) => inputs.map((i) => Number(i.getAttribute('data-position'))))) as number[];
    // Typed with stray spaces and capitals, the right words pass.
    for (const [i, position] of again.entries()) await asked.nth(i).fill(` ${words[position - 1]!.toUpperCase()} `);
    await page.getByTestId('vault-phrase-check-done').click();
    expect(await page.getByTestId('vault-phrase-check').count()).toBe(0);
    await expect.poll(() => page.getByTestId('vault-address').innerText()).toBe(address);
    expect((await page.getByTestId('vault-state').innerText()).trim()).toBe('Unlocked');
    expect(await page.getByTestId('vault-identity').getAttribute('data-state')).toBe('unlocked');
  });

  it('shows the phrase again only for the right passphrase', async () => {
    await page.getByTestId('vault-reveal').click();
    await page.getByTestId('vault-reveal-passphrase').fill('not the passphrase');
    await page.getByTestId('vault-reveal-submit').click();
    const error = page.getByTestId('vault-reveal-error');
    await expect.poll(() => error.getAttribute('data-code'), { timeout: 20_000 }).toBe('WRONG_PASSPHRASE');
    expect(await error.innerText()).toContain('WRONG_PASSPHRASE');
    expect(await page.getByTestId('vault-revealed-phrase').count()).toBe(0);

    await page.getByTestId('vault-reveal-passphrase').fill(PASSPHRASE);
    await page.getByTestId('vault-reveal-submit').click();
    const revealed = page.getByTestId('vault-revealed-phrase');
    await expect.poll(() => revealed.getAttribute('data-phrase'), { timeout: 20_000 }).toBe(phrase);
    await page.getByTestId('vault-hide-phrase').click();
    expect(await revealed.count()).toBe(0);
  });

  it('locks and unlocks with the passphrase', async () => {
    await page.getByTestId('vault-lock').click();
    await expect.poll(() => page.getByTestId('vault-identity').getAttribute('data-state'), { timeout: 20_000 }).toBe('locked');
    expect(await page.getByTestId('snapshot-now').isDisabled()).toBe(true);
    await page.getByTestId('vault-unlock-passphrase').fill(PASSPHRASE);
    await page.getByTestId('vault-unlock').click();
    await expect.poll(() => page.getByTestId('vault-identity').getAttribute('data-state'), { timeout: 20_000 }).toBe('unlocked');
    expect(await page.getByTestId('vault-address').innerText()).toBe(address);
  });

  it('adds a folder target', async () => {
    expect(await page.getByTestId('targets-empty').count()).toBe(1);
    await page.getByTestId('target-kind-folder').click();
    await page.getByTestId('target-folder-path').fill(target.path);
    await page.getByTestId('target-name-input').fill('USB disk');
    await page.getByTestId('target-add-folder').click();
    const row = page.getByTestId('target-row');
    await expect.poll(() => row.count(), { timeout: 20_000 }).toBe(1);
    targetId = (await row.getAttribute('data-target-id')) ?? '';
    expect(targetId).not.toBe('');
    expect(await row.getAttribute('data-kind')).toBe('folder');
    expect(await row.getByTestId('target-name').innerText()).toBe('USB disk');
    expect(await row.getByTestId('target-location').innerText()).toBe(target.path);
    expect(await row.getByTestId('target-pointer').count()).toBe(1);
  });

  it('snapshots now into the target and lists the snapshot with its CID and publication', async () => {
    expect(await page.getByTestId('snapshots-empty').count()).toBe(1);
    await page.getByTestId('snapshot-target').selectOption(targetId);
    await page.getByTestId('snapshot-now').click();
    expect(await ended(page, 'snapshot')).toBe('completed');
    expect(await page.getByTestId('snapshot-error').count()).toBe(0);

    const row = page.getByTestId('snapshot-row');
    await expect.poll(() => row.count(), { timeout: 20_000 }).toBe(1);
    // The CID and the byte counts are technical details, folded away until asked for.
    expect(await row.getByTestId('snapshot-cid').isVisible()).toBe(false);
    await row.getByTestId('snapshot-details').locator('summary').click();
    expect(await row.getByTestId('snapshot-cid').isVisible()).toBe(true);
    cid = (await row.getByTestId('snapshot-cid').getAttribute('data-cid')) ?? '';
    expect(cid).toMatch(/^b[a-z2-7]{20,}$/);
    expect(await row.getAttribute('data-cid')).toBe(cid);
    expect(await row.getByTestId('snapshot-cid').getAttribute('title')).toBe(cid);
    expect(await row.getByTestId('snapshot-cid').innerText()).toContain('…');
    expect(await row.getByTestId('snapshot-size').innerText()).toMatch(/\d+(\.\d)? (B|KB|MB|GB)$/);
    expect(await row.getByTestId('snapshot-files').innerText()).toMatch(/^[\d,]+ files?$/);

    const publication = row.getByTestId('snapshot-publication');
    await expect.poll(() => publication.count(), { timeout: 20_000 }).toBe(1);
    expect(await publication.getAttribute('data-target-id')).toBe(targetId);
    const text = await publication.innerText();
    expect(text).toContain('Copied to USB disk');
    expect(text).not.toContain(target.path);
    const details = await row.getByTestId('snapshot-publication-details').innerText();
    expect(details).toContain(target.path);
    expect(details).toMatch(/CAR \d/);
    // On every target already: nothing left to publish to.
    expect(await row.getByTestId('snapshot-publish').count()).toBe(0);
    // The folder holds what was published.
    expect(readdirSync(target.path).length).toBeGreaterThan(0);
    expect(await page.getByTestId('vault-threat-hint').innerText()).toMatch(/cannot see what is inside/);
    await page.getByTestId('vault-snapshots').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(outDir, 'backup.png') });
  }, 180_000);

  it('publishes the snapshot to a second target from its row', async () => {
    await page.getByTestId('target-folder-path').fill(archive.path);
    await page.getByTestId('target-name-input').fill('Archive');
    await page.getByTestId('target-add-folder').click();
    await expect.poll(() => page.getByTestId('target-row').count(), { timeout: 20_000 }).toBe(2);
    const archiveId = (await page.getByTestId('target-row').nth(1).getAttribute('data-target-id'))!;

    const row = page.getByTestId('snapshot-row');
    // Only the target the snapshot is not on yet is offered.
    const offered = await row.getByTestId('snapshot-publish-target').locator('option').evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
    expect(offered).toEqual([archiveId]);
    await row.getByTestId('snapshot-publish').click();
    expect(await ended(page, 'publish')).toBe('completed');
    await expect.poll(() => row.getByTestId('snapshot-publication').count(), { timeout: 20_000 }).toBe(2);
    expect(await row.locator(`[data-testid="snapshot-publication"][data-target-id="${archiveId}"]`).innerText()).toContain('Archive');
    expect(await row.getByTestId('snapshot-publish').count()).toBe(0);
    expect(readdirSync(archive.path).length).toBeGreaterThan(0);
  }, 180_000);

  it('restores the snapshot into a new folder with the phrase and the CID', async () => {
    const restored = join(restoreRoot.path, 'restored');
    // The data folder in use is refused before anything is sent.
    await page.getByTestId('restore-phrase').fill(phrase);
    await page.getByTestId('restore-source').selectOption(targetId);
    // A folder target finds the latest backup by itself: the CID is asked for only under "an older backup".
    expect(await page.getByTestId('restore-cid').isVisible()).toBe(false);
    await page.getByTestId('restore-advanced').locator('summary').click();
    await page.getByTestId('restore-cid').fill(cid);
    await page.getByTestId('restore-data-dir').fill(data.path);
    expect(await page.getByTestId('restore-problem').innerText()).toMatch(/data folder Hearth uses now/);
    expect(await page.getByTestId('restore-start').isDisabled()).toBe(true);

    await page.getByTestId('restore-data-dir').fill(restored);
    await page.getByTestId('restore-start').click();
    expect(await ended(page, 'restore')).toBe('completed');
    expect(await page.getByTestId('restore-error').count()).toBe(0);
    const done = page.getByTestId('restore-done');
    expect(await done.getAttribute('data-dir')).toBe(restored);
    // No command line to copy: a button switches this Hearth to the restored data.
    expect(await done.innerText()).not.toContain('hearth serve');
    // The phrase does not stay in the form.
    expect(await page.getByTestId('restore-phrase').inputValue()).toBe('');
    await page.getByTestId('restore-done').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(outDir, 'backup-restored.png') });

    expect(existsSync(join(restored, 'hearth.db'))).toBe(true);
    const original = threadRows(data.path);
    expect(original).toHaveLength(2);
    expect(threadRows(restored)).toEqual(original);

    // Switch: the server reopens on the restored folder behind the same address and the page reloads.
    const loads: string[] = [];
    page.on('load', () => loads.push(page.url()));
    await page.getByTestId('restore-switch').click();
    await expect.poll(() => loads.length, { timeout: 60_000 }).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('vault-identity').getAttribute('data-state'), { timeout: 30_000 }).not.toBe('loading');
    // The restored folder is now the one in use: the restore form refuses it as a target.
    await page.getByTestId('restore-phrase').fill(phrase);
    await page.getByTestId('restore-data-dir').fill(restored);
    await expect.poll(() => page.getByTestId('restore-problem').innerText(), { timeout: 20_000 }).toMatch(/data folder Hearth uses now/);
    // The restored chats are the ones listed.
    const titles = await page.getByTestId('thread-item').allInnerTexts();
    expect(titles.length).toBe(2);
  }, 180_000);

  it('logged no page errors', () => {
    expect(errors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
  });
});
