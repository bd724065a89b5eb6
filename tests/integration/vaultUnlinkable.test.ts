import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { LocalBlockStore } from '../../src-main/core/vault/localBlockStore';
import { decodeList, decodeRoot, ROOT_FORMAT, ROOT_FORMAT_V1 } from '../../src-main/core/vault/snapshotFormat';
import { restoreSnapshot } from '../../src-main/core/vault/snapshotRestorer';
import { FolderTarget } from '../../src-main/core/vault/targets/folderTarget';
import type { Block } from '../../src-main/core/vault/types';
import { walletFromPhrase } from '../../src-main/core/vault/walletIdentity';
import { createTestCore } from '../support/testCore';
import { tempDir } from '../support/tempDir';
import { sqliteDigest } from '../support/vaultData';

/** The first run of `length` bytes that a and b both contain (hex), or null. */
function sharedRun(a: Uint8Array, b: Uint8Array, length = 32): string | null {
  const windows = new Set<string>();
  for (let i = 0; i + length <= a.length; i++) windows.add(Buffer.from(a.subarray(i, i + length)).toString('hex'));
  for (let i = 0; i + length <= b.length; i++) {
    const window = Buffer.from(b.subarray(i, i + length)).toString('hex');
    if (windows.has(window)) return window;
  }
  return null;
}

async function cborBlock(value: unknown): Promise<Block> {
  const bytes = dagCbor.encode(value);
  return { cid: CID.create(1, dagCbor.code, await sha256.digest(bytes)), bytes };
}

describe('vault: roots share no bytes, so nothing public links the snapshots of one wallet', () => {
  const scratch = tempDir('hearth-vault-unlinkable-');
  let core: Core;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let phrase: string;

  beforeAll(async () => {
    ({ core, dataDir, cleanup } = createTestCore({ vault: { scryptN: 1 << 12 } }));
    for (let i = 0; i < 3; i++) core.chat.createThread(`Chat ${i}`);
    phrase = (await core.vault.create({ passphrase: 'a long passphrase' })).phrase;
  });

  afterAll(async () => {
    await cleanup?.();
    scratch.cleanup();
  });

  it('two roots of one vault, and a root on a second target, share no 32-byte substring', async () => {
    const first = join(scratch.path, 'usb-1');
    const second = join(scratch.path, 'usb-2');
    mkdirSync(first);
    mkdirSync(second);
    const one = await core.vault.addTarget({ kind: 'folder', path: first });
    const two = await core.vault.addTarget({ kind: 'folder', path: second });
    // The first two hold the same data: only what is fresh per root tells them apart.
    const s1 = await core.vault.snapshot({ includeModels: false, includeDocuments: false });
    const s2 = await core.vault.snapshot({ includeModels: false, includeDocuments: false });
    core.chat.createThread('Later');
    const s3 = await core.vault.snapshot({ includeModels: false, includeDocuments: false });
    await core.vault.publish(s1.cid, one.id);
    await core.vault.publish(s2.cid, one.id);
    await core.vault.publish(s3.cid, two.id);

    const fromFirst = new FolderTarget(first).fetcher();
    const fromSecond = new FolderTarget(second).fetcher();
    const roots = [
      await fromFirst.get(CID.parse(s1.cid)),
      await fromFirst.get(CID.parse(s2.cid)),
      await fromSecond.get(CID.parse(s3.cid)),
    ];
    // The check finds a shared run where there is one.
    expect(sharedRun(roots[0]!, Uint8Array.from(roots[0]!))).not.toBeNull();
    for (const [i, j] of [[0, 1], [0, 2], [1, 2]] as const) {
      expect(sharedRun(roots[i]!, roots[j]!), `roots ${i + 1} and ${j + 1}`).toBeNull();
    }

    const decoded = roots.map((bytes, i) => decodeRoot(bytes, `root ${i + 1}`));
    expect(decoded.every((r) => r.format === ROOT_FORMAT)).toBe(true);
    // The same chunks, listed by two different list blocks.
    expect(decoded[0]!.lists.map(String)).not.toEqual(decoded[1]!.lists.map(String));
    const chunksOf = async (lists: CID[]) => {
      const out: string[] = [];
      for (const list of lists) out.push(...decodeList(await fromFirst.get(list), list.toString()).map(String));
      return out;
    };
    expect(await chunksOf(decoded[1]!.lists)).toEqual(await chunksOf(decoded[0]!.lists));
  });

  it('restores a version-1 root (the data key in `wrappedKey`, lists as bare arrays)', async () => {
    const snapshot = await core.vault.snapshot({ includeModels: false, includeDocuments: false });
    const store = new LocalBlockStore(join(dataDir, 'vault', 'blocks'));
    const current = decodeRoot(await store.get(CID.parse(snapshot.cid)), snapshot.cid);
    // The same snapshot as Hearth wrote it before version 2.
    const lists: Block[] = [];
    for (const list of current.lists) lists.push(await cborBlock(decodeList(await store.get(list), list.toString())));
    const root = await cborBlock({
      format: ROOT_FORMAT_V1,
      wrappedKey: current.wrappedKey,
      manifest: current.manifest,
      lists: lists.map((l) => l.cid),
    });
    for (const block of [...lists, root]) await store.put(block);
    expect(decodeRoot(root.bytes, 'v1').format).toBe(ROOT_FORMAT_V1);

    const into = join(scratch.path, 'from-v1');
    const restored = await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: root.cid.toString(), fetcher: store, dataDir: into });
    expect(restored.files).toBe(snapshot.files);
    expect(sqliteDigest(join(into, 'hearth.db')).threads).toEqual(sqliteDigest(join(dataDir, 'hearth.db')).threads);
  });
});
