import { createHash, randomBytes, randomInt } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { newDataKey, sealChunk, wrapDataKey } from '../../src-main/core/vault/blockCipher';
import { LocalBlockStore } from '../../src-main/core/vault/localBlockStore';
import { PACKING } from '../../src-main/core/vault/smallFilePacker';
import { ROOT_FORMAT, decodeList, decodeRoot, encodeLists, encodeRoot, rawBlock, sealManifest } from '../../src-main/core/vault/snapshotFormat';
import { restoreSnapshot } from '../../src-main/core/vault/snapshotRestorer';
import type { ManifestFile, SnapshotManifest } from '../../src-main/core/vault/types';
import { chunkId, deriveVaultKeys } from '../../src-main/core/vault/vaultKeys';
import { walletFromPhrase } from '../../src-main/core/vault/walletIdentity';
import { createTestCore } from '../support/testCore';
import { tempDir } from '../support/tempDir';
import { readTree } from '../support/vaultData';

const FILES = 300;

/** The chunk and pack blocks a snapshot's root lists, with their sizes, from the local block store. */
async function listedBlocks(blocks: LocalBlockStore, root: string): Promise<Map<string, number>> {
  const rootBlock = decodeRoot(await blocks.get(CID.parse(root)), root);
  const out = new Map<string, number>();
  for (const list of rootBlock.lists) {
    for (const cid of decodeList(await blocks.get(list), list.toString())) out.set(cid.toString(), (await blocks.size(cid.toString()))!);
  }
  return out;
}

describe('vault: small files are packed together into blocks', () => {
  let core: Core;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let phrase: string;
  let blocks: LocalBlockStore;
  const sizes: number[] = [];
  const scratch = tempDir('hearth-vault-packing-');

  beforeAll(async () => {
    ({ core, dataDir, cleanup } = createTestCore({ vault: { scryptN: 1 << 12 } }));
    phrase = (await core.vault.create({ passphrase: 'a long passphrase' })).phrase;
    blocks = (core.vault as unknown as { blocks: LocalBlockStore }).blocks;
    const dir = join(dataDir, 'models', 'small');
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < FILES; i++) {
      const size = randomInt(1, 15_000);
      sizes.push(size);
      writeFileSync(join(dir, `file-${i}.bin`), randomBytes(size));
    }
    // Two equal files share one piece of a pack.
    writeFileSync(join(dir, 'twin-a.txt'), 'the same words');
    writeFileSync(join(dir, 'twin-b.txt'), 'the same words');
  });

  afterAll(async () => {
    await cleanup?.();
    scratch.cleanup();
  });

  it('N small files make far fewer blocks than files, none the size of a file, and restore byte for byte', async () => {
    const snapshot = await core.vault.snapshot({ includeModels: true, includeDocuments: false });
    const listed = await listedBlocks(blocks, snapshot.cid);
    const total = sizes.reduce((a, b) => a + b, 0);
    // About total / 256 KiB packs, plus the database's chunks; far fewer than the 300 files.
    expect(listed.size).toBeLessThan(FILES / 10);
    // A lone small file, sealed, would be at most this big; every block is bigger (a pack is at least the minimum chunk size).
    const largestLone = sealChunk(newDataKey(), new Uint8Array(Math.max(...sizes))).length;
    for (const size of listed.values()) expect(size).toBeGreaterThan(largestLone);
    expect(total).toBeGreaterThan(PACKING.maxBytes * 4);

    const target = join(scratch.path, 'restored');
    await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: snapshot.cid, fetcher: blocks, dataDir: target });
    expect(readTree(join(target, 'models'))).toEqual(readTree(join(dataDir, 'models')));
  }, 60_000);

  it('one changed small file is sealed into a new pack of at least the minimum chunk size', async () => {
    const before = await listedBlocks(blocks, core.vault.snapshots()[0]!.cid);
    writeFileSync(join(dataDir, 'models', 'small', 'file-7.bin'), randomBytes(40));
    const snapshot = await core.vault.snapshot({ includeModels: true, includeDocuments: false });
    const added = [...(await listedBlocks(blocks, snapshot.cid))].filter(([cid]) => !before.has(cid));
    const packs = added.filter(([, size]) => size >= PACKING.minBytes);
    expect(packs.length).toBeGreaterThanOrEqual(1);
    for (const [, size] of added) expect(size).toBeGreaterThan(PACKING.minBytes);

    const target = join(scratch.path, 'restored-2');
    await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: snapshot.cid, fetcher: blocks, dataDir: target });
    expect(readTree(join(target, 'models'))).toEqual(readTree(join(dataDir, 'models')));
  }, 60_000);

  // /1: every chunk its own block; /1 and /2 both carry each file's whole sha256, which /3 (written now) drops.
  it.each(['hearth-manifest/1', 'hearth-manifest/2'] as const)('a snapshot in an old format (%s, a sha256 per file) still restores', async (format) => {
    const wallet = walletFromPhrase(phrase);
    const keys = deriveVaultKeys(wallet.privateKey);
    const dataKey = newDataKey();
    const store = new LocalBlockStore(join(scratch.path, `${format.replace('/', '-')}-blocks`));
    const contents = new Map<string, Uint8Array>([
      ['hearth-notes/a.txt', new TextEncoder().encode('an old small file')],
      ['hearth-notes/b.bin', randomBytes(70_000)],
      ['empty.txt', new Uint8Array(0)],
    ]);
    const files: ManifestFile[] = [];
    const cids: CID[] = [];
    for (const [path, bytes] of contents) {
      const chunks = [];
      for (let at = 0; at < bytes.length; at += 30_000) {
        const plain = bytes.subarray(at, at + 30_000);
        const block = await rawBlock(sealChunk(dataKey, plain));
        await store.put(block);
        cids.push(block.cid);
        chunks.push({ cid: block.cid.toString(), size: plain.length, id: chunkId(keys.chunkIdKey, plain) });
      }
      files.push({ path, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), mode: 0o644, chunks });
    }
    const manifest: SnapshotManifest = {
      format,
      createdAt: '2026-01-02T03:04:05.000Z',
      appVersion: '0.9.0',
      address: wallet.address,
      previous: null,
      options: { includeModels: false, includeDocuments: false },
      files,
      counts: { sqlite: {}, lance: {} },
    };
    const manifestBlocks = await sealManifest(manifest, wallet, dataKey);
    const lists = await encodeLists(cids);
    for (const block of [...manifestBlocks, ...lists]) await store.put(block);
    const root = await encodeRoot({ format: ROOT_FORMAT, wrappedKey: wrapDataKey(keys.wrapKey, dataKey), manifest: manifestBlocks.map((b) => b.cid), lists: lists.map((b) => b.cid) });
    await store.put(root);

    const target = join(scratch.path, `restored-${format.replace('/', '-')}`);
    const result = await restoreSnapshot({ wallet, root: root.cid.toString(), fetcher: store, dataDir: target });
    expect(result.files).toBe(3);
    const tree = readTree(target);
    for (const [path, bytes] of contents) expect(tree.get(path), path).toBe(createHash('sha256').update(bytes).digest('hex'));
  }, 60_000);
});
