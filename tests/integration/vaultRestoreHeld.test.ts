import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VaultSnapshot } from '#contract/dto';
import { HearthError } from '../../src-main/core/common/hearthError';
import type { Core } from '../../src-main/core/createCore';
import { restoreSnapshot } from '../../src-main/core/vault/snapshotRestorer';
import { FolderTarget } from '../../src-main/core/vault/targets/folderTarget';
import type { BlockFetcher } from '../../src-main/core/vault/types';
import { walletFromPhrase } from '../../src-main/core/vault/walletIdentity';
import { createTestCore } from '../support/testCore';
import { tempDir } from '../support/tempDir';
import { readTree } from '../support/vaultData';

const MiB = 1024 * 1024;
const MODEL_BYTES = 24 * MiB;

function bytesUnder(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    total += entry.isDirectory() ? bytesUnder(full) : statSync(full).size;
  }
  return total;
}

/** A folder that answers for one block with other bytes: the folder's own blocks, altered. */
function altered(inner: BlockFetcher, victim: string, answer: (original: Uint8Array) => Promise<Uint8Array>): BlockFetcher {
  return {
    description: `${inner.description} (block ${victim} altered)`,
    get: async (cid, options) => {
      const bytes = await inner.get(cid, options);
      return cid.toString() === victim ? answer(bytes) : bytes;
    },
  };
}

/**
 * A restore from a folder leaves the blocks only model files use on that folder (they are not
 * copied into the new directory's vault, nor hashed against their CIDs again: the AEAD and the
 * signed manifest's keyed chunk ids prove them), records them as held there, and the restored
 * directory carries on incrementally: its next snapshot seals only what changed, and its publish
 * to the folder sends only that.
 */
describe('vault: a restore from a folder leaves the model blocks there', () => {
  let core: Core;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let phrase: string;
  let first: VaultSnapshot;
  let modelBlocks: string[] = [];
  const usb = tempDir('hearth-vault-usb-');
  const scratch = tempDir('hearth-vault-held-');

  beforeAll(async () => {
    ({ core, dataDir, cleanup } = createTestCore({ vault: { scryptN: 1 << 12 } }));
    for (let i = 0; i < 5; i++) core.chat.createThread(`Chat ${i}`);
    phrase = (await core.vault.create({ passphrase: 'a long passphrase' })).phrase;
    mkdirSync(join(dataDir, 'models'), { recursive: true });
    writeFileSync(join(dataDir, 'models', 'model.gguf'), randomBytes(MODEL_BYTES));
    const usbId = (await core.vault.addTarget({ kind: 'folder', path: usb.path, name: 'USB' })).id;
    first = await core.vault.publish((await core.vault.snapshot({ includeModels: true, includeDocuments: false })).cid, usbId);
  }, 60_000);

  afterAll(async () => {
    await cleanup?.();
    for (const dir of [usb, scratch]) dir.cleanup();
  });

  it('keeps only the small blocks; the restored directory snapshots only what changed and publishes only that to the folder', async () => {
    const target = join(scratch.path, 'restored');
    const folder = core.vault.targets().find((t) => t.kind === 'folder')!;
    const result = await core.vault.restore({ wallet: walletFromPhrase(phrase), cid: first.cid, from: { kind: 'target', targetId: folder.id }, dataDir: target });
    modelBlocks = result.manifest.files.filter((f) => f.path.startsWith('models/')).flatMap((f) => f.chunks.map((c) => c.cid));
    expect(modelBlocks.length).toBeGreaterThan(10);
    expect(readTree(join(target, 'models'))).toEqual(readTree(join(dataDir, 'models')));
    const kept = bytesUnder(join(target, 'vault', 'blocks'));
    expect(kept).toBeGreaterThan(0);
    expect(kept).toBeLessThan(MODEL_BYTES / 10);

    const restored = createTestCore({ dataDir: target, vault: { scryptN: 1 << 12 } });
    try {
      await restored.core.vault.import({ phrase, passphrase: 'another passphrase' });
      expect(restored.core.vault.snapshots().map((s) => s.cid)).toEqual([first.cid]);
      // The folder it came from is a target there, holding that snapshot.
      const [held] = restored.core.vault.targets();
      expect(held).toMatchObject({ kind: 'folder', location: usb.path });
      expect(restored.core.vault.snapshots()[0]!.publications.map((p) => p.targetId)).toEqual([held!.id]);
      // And so do the model blocks of later snapshots, once published there.
      expect((await restored.core.vault.status()).schedule.keepModelBlocks).toBe(false);
      // Every block it keeps checks out; the ones the folder holds are not looked for here.
      expect(await restored.core.vault.check()).toMatchObject({ ok: true, problems: [] });

      restored.core.chat.createThread('Written on the new machine');
      const next = await restored.core.vault.snapshot({ includeModels: true, includeDocuments: false });
      expect(next.previous).toBe(first.cid);
      expect(next.newBytes).toBeLessThan(MiB);
      expect(bytesUnder(join(target, 'vault', 'blocks'))).toBeLessThan(MODEL_BYTES / 10);
      const published = await restored.core.vault.publish(next.cid, held!.id);
      expect(published.publications[0]!.carBytes).toBeLessThan(MiB);

      // The folder alone restores the new snapshot, model and all.
      const again = join(scratch.path, 'restored-again');
      await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: next.cid, fetcher: new FolderTarget(usb.path).fetcher(), dataDir: again });
      expect(readTree(join(again, 'models'))).toEqual(readTree(join(dataDir, 'models')));
      expect(existsSync(join(again, 'hearth.db'))).toBe(true);
    } finally {
      await restored.core.dispose();
    }
  }, 120_000);

  it('a model block that is flipped, cut short or swapped for another of the vault is still refused, naming it, and nothing is written', async () => {
    const folder = new FolderTarget(usb.path).fetcher();
    const victim = modelBlocks[Math.floor(modelBlocks.length / 2)]!;
    const other = modelBlocks.find((cid) => cid !== victim)!;
    const answers: [string, (original: Uint8Array) => Promise<Uint8Array>][] = [
      ['flipped', async (b) => Uint8Array.from(b, (x, i) => (i === Math.floor(b.length / 3) ? x ^ 1 : x))],
      ['cut short', async (b) => b.subarray(0, b.length - 100)],
      ['swapped', async () => folder.get(CID.parse(other))],
    ];
    for (const [what, answer] of answers) {
      const target = join(scratch.path, `tampered-${what.replace(' ', '-')}`);
      const error = await restoreSnapshot({
        wallet: walletFromPhrase(phrase),
        root: first.cid,
        fetcher: altered(folder, victim, answer),
        dataDir: target,
        keepBlocks: true,
        heldBy: { kind: 'folder', path: usb.path },
      }).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error, what).toBeInstanceOf(HearthError);
      expect((error as HearthError).code, `${what}: ${(error as Error).message}`).toBe('INTEGRITY_ERROR');
      expect((error as Error).message, what).toContain(victim);
      expect(existsSync(target), what).toBe(false);
      expect(readdirSync(dirname(target)).filter((n) => n.includes(basename(target))), what).toEqual([]);
    }
  }, 60_000);
});
