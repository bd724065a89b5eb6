import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, statSync, watch, writeFileSync, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VaultSnapshot } from '#contract/dto';
import type { Core } from '../../src-main/core/createCore';
import type { LocalBlockStore } from '../../src-main/core/vault/localBlockStore';
import { restoreSnapshot } from '../../src-main/core/vault/snapshotRestorer';
import { FolderTarget } from '../../src-main/core/vault/targets/folderTarget';
import { walletFromPhrase } from '../../src-main/core/vault/walletIdentity';
import { createTestCore } from '../support/testCore';
import { tempDir } from '../support/tempDir';
import { readTree } from '../support/vaultData';

const MiB = 1024 * 1024;
const MODEL_BYTES = 24 * MiB;

/** Disk space a tree takes (allocated blocks, as du counts them). */
function diskUsed(dir: string): number {
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) total += diskUsed(full);
    else if (entry.isFile()) total += statSync(full).blocks * 512;
  }
  return total;
}

/**
 * Lean on disk: publishing to a folder streams the CAR into it (no outbox copy), and with
 * keepModelBlocks off the sealed model blocks live on the target only once it holds them.
 */
describe('vault: what one snapshot published to a folder costs on disk', () => {
  let core: Core;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let phrase: string;
  let usbId: string;
  let latest: VaultSnapshot;
  const usb = tempDir('hearth-vault-usb-');
  const usb2 = tempDir('hearth-vault-usb2-');
  const scratch = tempDir('hearth-vault-lean-');
  const snap = () => core.vault.snapshot({ includeModels: true, includeDocuments: false });
  const blocksDir = () => join(dataDir, 'vault', 'blocks');

  beforeAll(async () => {
    ({ core, dataDir, cleanup } = createTestCore({ vault: { scryptN: 1 << 12 } }));
    for (let i = 0; i < 5; i++) core.chat.createThread(`Chat ${i}`);
    phrase = (await core.vault.create({ passphrase: 'a long passphrase' })).phrase;
    mkdirSync(join(dataDir, 'models'), { recursive: true });
    writeFileSync(join(dataDir, 'models', 'model.gguf'), randomBytes(MODEL_BYTES));
    usbId = (await core.vault.addTarget({ kind: 'folder', path: usb.path, name: 'USB' })).id;
  });

  afterAll(async () => {
    await cleanup?.();
    for (const dir of [usb, usb2, scratch]) dir.cleanup();
  });

  it('a folder gets the CAR streamed into it: nothing is staged in the outbox; about 2x the data with local model blocks', async () => {
    const outbox = join(dataDir, 'vault', 'outbox');
    mkdirSync(outbox, { recursive: true });
    // Kept here on request (the default keeps them on the target only).
    expect(core.vault.setSchedule({ keepModelBlocks: true }).keepModelBlocks).toBe(true);
    const staged: string[] = [];
    const watcher: FSWatcher = watch(outbox, (_event, name) => staged.push(String(name)));
    try {
      latest = await core.vault.publish((await snap()).cid, usbId);
    } finally {
      watcher.close();
    }
    expect(staged).toEqual([]);
    expect(latest.publications).toHaveLength(1);
    const ratio = (diskUsed(blocksDir()) + diskUsed(usb.path)) / latest.bytes;
    expect(ratio).toBeGreaterThan(1.9);
    expect(ratio).toBeLessThan(2.4);
  }, 60_000);

  it('with keepModelBlocks off, the model blocks leave this machine once the folder holds them: about 1x', async () => {
    expect(core.vault.setSchedule({ keepModelBlocks: false }).keepModelBlocks).toBe(false);
    latest = await core.vault.publish((await snap()).cid, usbId);
    expect(diskUsed(blocksDir())).toBeLessThan(MODEL_BYTES / 10);
    const ratio = (diskUsed(blocksDir()) + diskUsed(usb.path)) / latest.bytes;
    expect(ratio).toBeLessThan(1.25);
    // The folder alone restores it, model and all.
    const target = join(scratch.path, 'restored');
    await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: latest.cid, fetcher: new FolderTarget(usb.path).fetcher(), dataDir: target });
    expect(readTree(join(target, 'models'))).toEqual(readTree(join(dataDir, 'models')));
  }, 60_000);

  it('the next snapshot neither reads nor seals the model again, and its publish sends only what changed', async () => {
    core.chat.createThread('One more');
    const next = await snap();
    expect(next.readBytes).toBeLessThan(MiB);
    expect(next.newBytes).toBeLessThan(MiB);
    latest = await core.vault.publish(next.cid, usbId);
    expect(latest.publications[0]!.carBytes).toBeLessThan(MiB);
    expect(diskUsed(blocksDir())).toBeLessThan(MODEL_BYTES / 10);
  }, 60_000);

  it('publishing to a second folder fetches the model blocks from the first, checked, and the second restores alone', async () => {
    const second = await core.vault.addTarget({ kind: 'folder', path: usb2.path, name: 'Second USB' });
    const published = await core.vault.publish(latest.cid, second.id);
    expect(published.publications.find((p) => p.targetId === second.id)!.carBytes).toBeGreaterThan(MODEL_BYTES);
    expect(diskUsed(blocksDir())).toBeLessThan(MODEL_BYTES / 10);
    const target = join(scratch.path, 'restored-second');
    await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: latest.cid, fetcher: new FolderTarget(usb2.path).fetcher(), dataDir: target });
    expect(readTree(join(target, 'models'))).toEqual(readTree(join(dataDir, 'models')));
    core.vault.removeTarget({ targetId: second.id });
  }, 60_000);

  it('once the target that holds them is removed, the next snapshot seals the model here again', async () => {
    core.vault.removeTarget({ targetId: usbId });
    const again = await snap();
    expect(again.readBytes).toBeGreaterThanOrEqual(MODEL_BYTES);
    expect(diskUsed(blocksDir())).toBeGreaterThan(MODEL_BYTES);
    const target = join(scratch.path, 'restored-local');
    const blocks = (core.vault as unknown as { blocks: LocalBlockStore }).blocks;
    await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: again.cid, fetcher: blocks, dataDir: target });
    expect(readTree(join(target, 'models'))).toEqual(readTree(join(dataDir, 'models')));
  }, 60_000);
});
