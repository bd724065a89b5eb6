import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Mnemonic, Wallet, wordlists } from 'ethers';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ended, jobId, threadRows } from '../support/backupPage';
import { E2E_OUT_DIR as outDir, screenshotOnFailure, startE2eApp } from '../support/e2eApp';
import { startIpfsNode, type IpfsNode } from '../support/ipfsNode';
import type { ServeRun } from '../support/server';
import { tempDir, type TempDir } from '../support/tempDir';

const PASSPHRASE = 'harbour lights 1987';
const HOURS = 6;
const KEEP = 3;

/** The phrase with one word misspelled into a word that is in no BIP-39 list position. */
function withTypo(phrase: string): string {
  const words = phrase.split(' ');
  const word = words[4]!;
  for (const letter of 'qxzjkv') {
    const typo = `${word.slice(0, -1)}${letter}`;
    if (typo !== word && wordlists.en!.getWordIndex(typo) < 0) {
      words[4] = typo;
      return words.join(' ');
    }
  }
  throw new Error(`no typo found for ${word}`);
}

/**
 * The Backup screen's other half, in real Chromium against `hearth serve` on a fresh data
 * folder: import a wallet from a recovery phrase (and refuse a misspelled one), keep a
 * schedule across a reload, and restore three ways: from a folder target's "latest" pointer
 * with no CID, from a trustless gateway by CID (a real IPFS node the snapshot was published
 * to from the UI), and into a folder that is not empty, which is kept aside and said so.
 */
describe('backup: import, schedule and restores from a pointer, a gateway and into a used folder (e2e)', () => {
  let server: ServeRun;
  let page: Page;
  let node: IpfsNode;
  let data: TempDir;
  let target: TempDir;
  let restoreRoot: TempDir;
  const errors: string[] = [];
  const phrase = Wallet.createRandom().mnemonic!.phrase;
  let folderId = '';
  let kuboId = '';
  let firstCid = '';
  let snapshotStarted = 0;
  let snapshotEnded = 0;

  /** Fills the restore form and starts it; cid '' restores what the target's pointer names. */
  async function startRestore(options: { source: string; gatewayUrl?: string; cid: string; dir: string }): Promise<string | null> {
    const previous = await jobId(page, 'restore');
    await page.getByTestId('restore-phrase').fill(phrase);
    await page.getByTestId('restore-source').selectOption(options.source);
    if (options.gatewayUrl !== undefined) await page.getByTestId('restore-gateway-url').fill(options.gatewayUrl);
    // Where the source finds the latest backup itself, the CID field is folded under "an older backup".
    const cidField = page.getByTestId('restore-cid');
    if (options.cid && !(await cidField.isVisible())) await page.getByTestId('restore-advanced').locator('summary').click();
    if (await cidField.isVisible()) await cidField.fill(options.cid);
    expect(await cidField.inputValue()).toBe(options.cid);
    await page.getByTestId('restore-data-dir').fill(options.dir);
    expect(await page.getByTestId('restore-problem').count()).toBe(0);
    await page.getByTestId('restore-start').click();
    return previous;
  }

  beforeAll(async () => {
    target = tempDir('hearth-e2e-restore-target-');
    restoreRoot = tempDir('hearth-e2e-restore-into-');
    node = await startIpfsNode();
    const app = await startE2eApp({
      prefix: 'hearth-e2e-restore-',
      viewport: { width: 1280, height: 1000 },
      errors,
      // Chats to back up (no wallet: that is made in the test), so restores have something to compare.
      seed: (core) => {
        core.chat.createThread('Garden plan', 'Be brief.');
        core.chat.createThread('Reading list');
        core.chat.createThread('Tax questions');
      },
    });
    ({ server, page, data } = app);
    return app.close;
  });

  screenshotOnFailure(() => page, 'backup-restore');

  afterAll(async () => {
    await node?.close();
    target?.cleanup();
    restoreRoot?.cleanup();
  });

  it('refuses a misspelled recovery phrase, then imports the right one', async () => {
    await page.goto(server.url);
    await page.getByTestId('nav-backup').click();
    await expect.poll(() => page.getByTestId('vault-identity').getAttribute('data-state'), { timeout: 20_000 }).toBe('none');
    await page.getByTestId('vault-mode-import').click();

    const typo = withTypo(phrase);
    expect(Mnemonic.isValidMnemonic(typo)).toBe(false);
    await page.getByTestId('vault-import-phrase').fill(typo);
    await page.getByTestId('vault-passphrase').fill(PASSPHRASE);
    await page.getByTestId('vault-passphrase-confirm').fill(PASSPHRASE);
    await page.getByTestId('vault-import').click();
    const error = page.getByTestId('vault-setup-error');
    await expect.poll(() => error.getAttribute('data-code'), { timeout: 20_000 }).toBe('WRONG_PASSPHRASE');
    expect(await error.innerText()).toMatch(/not a valid recovery phrase/);
    // Nothing was imported: no wallet on disk, still the setup form.
    expect(existsSync(join(data.path, 'vault', 'keystore.json'))).toBe(false);
    expect(await page.getByTestId('vault-identity').getAttribute('data-state')).toBe('none');
    expect(await page.getByTestId('vault-address').count()).toBe(0);
    expect(await page.getByTestId('vault-import-phrase').inputValue()).toBe(typo);

    await page.getByTestId('vault-import-phrase').fill(phrase);
    await page.getByTestId('vault-import').click();
    await expect.poll(() => page.getByTestId('vault-identity').getAttribute('data-state'), { timeout: 30_000 }).toBe('unlocked');
    expect(await page.getByTestId('vault-address').innerText()).toBe(Wallet.fromPhrase(phrase).address);
    expect(await page.getByTestId('vault-setup-error').count()).toBe(0);
    // An imported phrase is the user's own: it is not shown back as a new one to write down.
    expect(await page.getByTestId('vault-phrase').count()).toBe(0);
    expect(existsSync(join(data.path, 'vault', 'keystore.json'))).toBe(true);
    await page.screenshot({ path: join(outDir, 'backup-imported.png') });
  });

  it('adds a folder target and snapshots into it', async () => {
    await page.getByTestId('target-kind-folder').click();
    await page.getByTestId('target-folder-path').fill(target.path);
    await page.getByTestId('target-name-input').fill('Backup disk');
    await page.getByTestId('target-add-folder').click();
    await expect.poll(() => page.getByTestId('target-row').count(), { timeout: 20_000 }).toBe(1);
    folderId = (await page.getByTestId('target-row').getAttribute('data-target-id'))!;

    const previous = await jobId(page, 'snapshot');
    await page.getByTestId('snapshot-target').selectOption(folderId);
    snapshotStarted = Date.now();
    await page.getByTestId('snapshot-now').click();
    expect(await ended(page, 'snapshot', previous)).toBe('completed');
    snapshotEnded = Date.now();
    const row = page.getByTestId('snapshot-row');
    await expect.poll(() => row.count(), { timeout: 20_000 }).toBe(1);
    firstCid = (await row.getAttribute('data-cid'))!;
    expect(firstCid).toMatch(/^b[a-z2-7]{20,}$/);
    await expect.poll(() => row.locator(`[data-testid="snapshot-publication"][data-target-id="${folderId}"]`).count(), { timeout: 20_000 }).toBe(1);
  }, 180_000);

  it('saves a schedule that survives a reload and says when the next snapshot is', async () => {
    expect((await page.getByTestId('schedule-next').innerText()).trim()).toBe('Manual only: no backup is scheduled.');
    await page.getByTestId('schedule-auto').check();
    await page.getByTestId('schedule-interval').fill(String(HOURS));
    await page.getByTestId('schedule-target').selectOption(folderId);
    await page.getByTestId('schedule-keep').fill(String(KEEP));
    // Off by default (models are kept on the target only); checked here, it must survive the reload.
    expect(await page.getByTestId('schedule-keep-model-blocks').isChecked()).toBe(false);
    await page.getByTestId('schedule-keep-model-blocks').check();
    await page.getByTestId('schedule-save').click();
    await expect.poll(() => page.getByTestId('toast').allInnerTexts(), { timeout: 20_000 }).toContainEqual(expect.stringContaining('Schedule saved.'));
    expect(await page.getByTestId('schedule-error').count()).toBe(0);

    await page.reload();
    await expect.poll(() => page.getByTestId('vault-identity').getAttribute('data-state'), { timeout: 20_000 }).toBe('unlocked');
    expect(new URL(page.url()).hash).toBe('#/backup');
    expect(await page.getByTestId('schedule-auto').isChecked()).toBe(true);
    expect(await page.getByTestId('schedule-interval').inputValue()).toBe(String(HOURS));
    expect(await page.getByTestId('schedule-target').inputValue()).toBe(folderId);
    expect(await page.getByTestId('schedule-keep').inputValue()).toBe(String(KEEP));
    expect(await page.getByTestId('schedule-keep-model-blocks').isChecked()).toBe(true);

    // Due HOURS after the last snapshot: "in 5 h 59 min" (or "in 6 h"), then the time itself.
    const next = (await page.getByTestId('schedule-next').innerText()).trim();
    const match = /^Next backup in (\d+ h(?: \d+ min)?), (.+)$/.exec(next);
    expect(match, next).not.toBeNull();
    expect(['5 h 59 min', '5 h 58 min', `${HOURS} h`]).toContain(match![1]);
    // The time shown is the snapshot's time plus HOURS, as the page's locale writes it.
    const candidates = await page.evaluate(
      ([from, to]) => {
        const shown: string[] = [];
        for (let t = Math.floor(from! / 1000) * 1000; t <= to!; t += 1000) shown.push(new Date(t).toLocaleString());
        return shown;
      },
      [snapshotStarted + HOURS * 3_600_000, snapshotEnded + HOURS * 3_600_000],
    );
    expect(candidates).toContain(match![2]);
    await page.getByTestId('vault-schedule').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(outDir, 'backup-schedule.png') });

    // Locked (as after a restart without "remember"), the schedule says it is paused, not "in 6 h".
    await page.getByTestId('vault-lock').click();
    await expect.poll(() => page.getByTestId('schedule-next').getAttribute('data-state'), { timeout: 20_000 }).toBe('locked');
    expect((await page.getByTestId('schedule-next').innerText()).trim()).toMatch(/^Paused: automatic backups wait until your backup key is unlocked/);
    await page.getByTestId('vault-unlock-passphrase').fill(PASSPHRASE);
    await page.getByTestId('vault-unlock').click();
    await expect.poll(() => page.getByTestId('schedule-next').getAttribute('data-state'), { timeout: 20_000 }).toBe('scheduled');
  });

  it('restores the latest snapshot from the folder target with the phrase alone (no CID)', async () => {
    const restored = join(restoreRoot.path, 'from-pointer');
    await page.getByTestId('restore-source').selectOption(folderId);
    // The target finds the latest backup itself: the CID is folded away and optional.
    expect(await page.getByTestId('restore-cid').isVisible()).toBe(false);
    expect(await page.getByTestId('restore-advanced').locator('summary').innerText()).toBe('An older backup instead of the latest');
    expect(await page.locator('label[for="restore-cid"]').textContent()).toMatch(/optional/);
    const previous = await startRestore({ source: folderId, cid: '', dir: restored });
    expect(await ended(page, 'restore', previous)).toBe('completed');
    expect(await page.getByTestId('restore-error').count()).toBe(0);
    expect(await page.getByTestId('restore-done').getAttribute('data-dir')).toBe(restored);
    const summary = await page.getByTestId('restore-summary').innerText();
    expect(summary).toMatch(new RegExp(`^Restored \\d+ files? into ${restored.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`));
    expect(summary).not.toContain('kept at');

    expect(existsSync(join(restored, 'hearth.db'))).toBe(true);
    const original = threadRows(data.path);
    expect(original).toHaveLength(3);
    expect(threadRows(restored)).toEqual(original);
  }, 180_000);

  it('publishes a snapshot to an IPFS node from the UI and restores it through a trustless gateway by CID', async () => {
    await page.getByTestId('target-kind-kubo').click();
    await page.getByTestId('target-kubo-url').fill(node.apiUrl);
    await page.getByTestId('target-name-input').fill('Home node');
    await page.getByTestId('target-add-kubo').click();
    await expect.poll(() => page.getByTestId('target-row').count(), { timeout: 20_000 }).toBe(2);
    const kuboRow = page.locator('[data-testid="target-row"][data-kind="kubo"]');
    kuboId = (await kuboRow.getAttribute('data-target-id'))!;
    expect(await kuboRow.getByTestId('target-location').innerText()).toBe(node.apiUrl);

    const previous = await jobId(page, 'snapshot');
    await page.getByTestId('snapshot-target').selectOption(kuboId);
    await page.getByTestId('snapshot-now').click();
    expect(await ended(page, 'snapshot', previous)).toBe('completed');
    await expect.poll(() => page.getByTestId('snapshot-row').count(), { timeout: 20_000 }).toBe(2);
    // Newest first: the row of the snapshot just published to the node.
    const row = page.getByTestId('snapshot-row').first();
    const cid = (await row.getByTestId('snapshot-cid').getAttribute('data-cid'))!;
    expect(cid).toMatch(/^b[a-z2-7]{20,}$/);
    expect(cid).not.toBe(firstCid);
    await expect.poll(() => row.locator(`[data-testid="snapshot-publication"][data-target-id="${kuboId}"]`).count(), { timeout: 20_000 }).toBe(1);

    const restored = join(restoreRoot.path, 'from-gateway');
    const before = node.requests.get(cid) ?? 0;
    const previousRestore = await startRestore({ source: 'gateway', gatewayUrl: node.gatewayUrl, cid, dir: restored });
    expect(await ended(page, 'restore', previousRestore)).toBe('completed');
    expect(await page.getByTestId('restore-done').getAttribute('data-dir')).toBe(restored);
    // The root block came through the node's gateway.
    expect(node.requests.get(cid) ?? 0).toBeGreaterThan(before);
    expect(existsSync(join(restored, 'hearth.db'))).toBe(true);
    expect(threadRows(restored)).toEqual(threadRows(data.path));
  }, 180_000);

  it('restores into a folder that is not empty, keeping what was there aside and saying where', async () => {
    const occupied = join(restoreRoot.path, 'occupied');
    mkdirSync(occupied);
    writeFileSync(join(occupied, 'notes.txt'), 'do not lose me');
    const previous = await startRestore({ source: folderId, cid: firstCid, dir: occupied });
    expect(await ended(page, 'restore', previous)).toBe('completed');
    expect(await page.getByTestId('restore-done').getAttribute('data-dir')).toBe(occupied);

    const summary = await page.getByTestId('restore-summary').innerText();
    const match = /; the folder that was there is kept at (.+)$/.exec(summary);
    expect(match, summary).not.toBeNull();
    const keptAside = match![1]!;
    expect(keptAside.startsWith(`${occupied}.before-restore-`)).toBe(true);
    expect(readFileSync(join(keptAside, 'notes.txt'), 'utf8')).toBe('do not lose me');
    expect(existsSync(join(occupied, 'notes.txt'))).toBe(false);
    expect(threadRows(occupied)).toEqual(threadRows(data.path));
    await page.getByTestId('restore-done').scrollIntoViewIfNeeded();
    await page.screenshot({ path: join(outDir, 'backup-restore-kept-aside.png') });
  }, 180_000);

  it('logged no page errors', () => {
    expect(errors.filter((e) => !/WebSocket/.test(e))).toEqual([]);
  });
});
