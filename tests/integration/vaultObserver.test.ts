import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { decodeList, decodeRoot } from '../../src-main/core/vault/snapshotFormat';
import { FolderTarget } from '../../src-main/core/vault/targets/folderTarget';
import { createTestCore } from '../support/testCore';
import { tempDir } from '../support/tempDir';

const MARKER = 'Zebra quartz 7731: a chat title no published byte may hold';

/** Every file under dir: its path relative to dir, and its bytes. */
function published(dir: string): { names: string[]; bytes: Buffer } {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  return {
    names: files.map((e) => relative(dir, join(e.parentPath, e.name))),
    bytes: Buffer.concat(files.map((e) => readFileSync(join(e.parentPath, e.name)))),
  };
}

async function openVault(passphrase = 'a long passphrase') {
  const test = createTestCore({ vault: { scryptN: 1 << 12 } });
  await test.core.vault.create({ passphrase });
  return test;
}

/** The README's "what an observer can and cannot learn", checked on what a folder target holds. */
describe('vault: what an observer of the published blocks cannot learn', () => {
  const scratch = tempDir('hearth-vault-observer-');
  let core: Core;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let address: string;
  let usb: string;
  const cids: string[] = [];

  beforeAll(async () => {
    ({ core, dataDir, cleanup } = await openVault());
    address = (await core.vault.status()).address!;
    core.chat.createThread(MARKER);
    usb = join(scratch.path, 'usb');
    mkdirSync(usb);
    const target = await core.vault.addTarget({ kind: 'folder', path: usb });
    // A file both snapshots hold unchanged, so they share chunks.
    writeFileSync(join(dataDir, 'models', 'weights.bin'), randomBytes(100 * 1024));
    for (const title of ['First', 'Second']) {
      core.chat.createThread(title);
      const snapshot = await core.vault.snapshot({ includeModels: true, includeDocuments: false });
      await core.vault.publish(snapshot.cid, target.id);
      cids.push(snapshot.cid);
    }
  });
  afterAll(async () => {
    await cleanup?.();
    scratch.cleanup();
  });

  it('no content, file name, path or manifest text in any published byte or name', () => {
    const { names, bytes } = published(usb);
    expect(names.some((n) => n.endsWith('.car'))).toBe(true);
    for (const clear of [MARKER, 'Zebra quartz', 'hearth.db', 'weights.bin', 'models/', 'hearth-manifest', 'includeModels', 'appVersion', 'CREATE TABLE']) {
      expect(bytes.includes(Buffer.from(clear)), clear).toBe(false);
      expect(names.some((n) => n.includes(clear))).toBe(false);
    }
    // The check finds what is there: the root format tag is public.
    expect(bytes.includes(Buffer.from('hearth-snapshot/2'))).toBe(true);
  });

  it('not which wallet: the address appears nowhere, in any spelling, nor in the record\'s name', () => {
    const { names, bytes } = published(usb);
    const raw = Buffer.from(address.slice(2), 'hex');
    for (const spelling of [address, address.toLowerCase(), address.slice(2), address.slice(2).toLowerCase()]) {
      expect(bytes.includes(Buffer.from(spelling)), spelling).toBe(false);
      expect(names.some((n) => n.toLowerCase().includes(spelling.toLowerCase()))).toBe(false);
    }
    expect(bytes.includes(raw)).toBe(false);
    expect(names.filter((n) => n.startsWith(join('hearth-vault', 'pointers')))).toHaveLength(1);
  });

  it('not which snapshot came before: no block of the second snapshot names the first', async () => {
    const fetcher = new FolderTarget(usb).fetcher();
    const first = CID.parse(cids[0]!);
    const secondRoot = await fetcher.get(CID.parse(cids[1]!));
    const decoded = decodeRoot(secondRoot, cids[1]!);
    const publicBlocks = [secondRoot, ...(await Promise.all(decoded.lists.map((l) => fetcher.get(l))))];
    for (const block of [...publicBlocks, ...(await Promise.all(decoded.manifest.map((m) => fetcher.get(m))))]) {
      expect(Buffer.from(block).includes(Buffer.from(first.bytes))).toBe(false);
      expect(Buffer.from(block).includes(Buffer.from(cids[0]!))).toBe(false);
    }
    // What the lists do show: the chunks the two snapshots share (weights.bin's).
    const chunks = async (root: string) => {
      const r = decodeRoot(await fetcher.get(CID.parse(root)), root);
      return new Set((await Promise.all(r.lists.map(async (l) => decodeList(await fetcher.get(l), String(l))))).flat().map(String));
    };
    const [a, b] = [await chunks(cids[0]!), await chunks(cids[1]!)];
    expect([...a].some((c) => b.has(c))).toBe(true);
  });

  it('not whether a chunk equals a known one: the same file in another vault gives no common block', async () => {
    const other = await openVault();
    try {
      const same = randomBytes(200 * 1024);
      for (const dir of [dataDir, other.dataDir]) writeFileSync(join(dir, 'models', 'same.gguf'), same);
      const mine = await core.vault.snapshot({ includeModels: true, includeDocuments: false });
      const theirs = await other.core.vault.snapshot({ includeModels: true, includeDocuments: false });
      const blocksOf = (c: Core, cid: string) => new Set(c.vault['repo'].snapshotBlocks(cid));
      const a = blocksOf(core, mine.cid);
      const b = blocksOf(other.core, theirs.cid);
      expect(a.size).toBeGreaterThan(2);
      expect([...a].filter((cid) => b.has(cid))).toEqual([]);
    } finally {
      await other.cleanup();
    }
  });
});
