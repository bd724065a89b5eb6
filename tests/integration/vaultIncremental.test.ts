import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, renameSync, statSync, truncateSync, utimesSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { VaultSnapshot } from '#contract/dto';
import type { Core } from '../../src-main/core/createCore';
import { unwrapDataKey } from '../../src-main/core/vault/blockCipher';
import type { LocalBlockStore } from '../../src-main/core/vault/localBlockStore';
import { decodeRoot, openManifest } from '../../src-main/core/vault/snapshotFormat';
import type { SnapshotManifest } from '../../src-main/core/vault/types';
import { deriveVaultKeys } from '../../src-main/core/vault/vaultKeys';
import type { VaultRepository } from '../../src-main/core/vault/vaultRepository';
import { walletFromPhrase } from '../../src-main/core/vault/walletIdentity';
import { chunksDescribe } from '../support/chunkDigest';
import { createTestCore } from '../support/testCore';

const MiB = 1024 * 1024;
const WEIGHTS_BYTES = 112 * MiB;
const MTIME = 1_700_000_000;

/** Bytes this process has read through read(2) and friends so far (Linux). */
function bytesReadByProcess(): number {
  const line = readFileSync('/proc/self/io', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('rchar:'));
  if (!line) throw new Error('/proc/self/io has no rchar line: these tests need Linux');
  return Number(line.split(/\s+/)[1]);
}

const chunkIdKeyOf = (phrase: string) => deriveVaultKeys(walletFromPhrase(phrase).privateKey).chunkIdKey;

/** The snapshot's sealed manifest, opened with the phrase, as a restore opens it. */
async function manifestOf(core: Core, phrase: string, cid: string): Promise<SnapshotManifest> {
  const blocks = (core.vault as unknown as { blocks: LocalBlockStore }).blocks;
  const wallet = walletFromPhrase(phrase);
  const root = decodeRoot(await blocks.get(CID.parse(cid)), cid);
  const dataKey = unwrapDataKey(deriveVaultKeys(wallet.privateKey).wrapKey, root.wrappedKey);
  const parts = await Promise.all(root.manifest.map((c) => blocks.get(c)));
  return openManifest(parts, dataKey, wallet.address, cid);
}

/**
 * Incremental snapshots: the files cache skips files whose size, mtime, inode and ctime are what
 * the previous snapshot recorded, so a second snapshot's cost follows the change.
 */
describe('vault: incremental snapshots (files cache)', () => {
  let core: Core;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let phrase: string;
  let first: VaultSnapshot;
  let weights: string;
  let adapter: string;
  const snap = (full?: boolean) => core.vault.snapshot({ includeModels: true, includeDocuments: false, ...(full ? { full } : {}) });

  beforeAll(async () => {
    ({ core, dataDir, cleanup } = createTestCore({ vault: { scryptN: 1 << 12 } }));
    for (let i = 0; i < 5; i++) core.chat.createThread(`Chat ${i}`);
    phrase = (await core.vault.create({ passphrase: 'a long passphrase' })).phrase;
    mkdirSync(join(dataDir, 'models'), { recursive: true });
    // A 112 MiB "model": sparse (cheap to make and read), with random regions so it has many distinct chunks.
    weights = join(dataDir, 'models', 'weights.gguf');
    const fd = openSync(weights, 'w');
    for (const at of [0, 40 * MiB, 100 * MiB]) writeSync(fd, randomBytes(2 * MiB), 0, 2 * MiB, at);
    closeSync(fd);
    truncateSync(weights, WEIGHTS_BYTES);
    adapter = join(dataDir, 'models', 'adapter.bin');
    writeFileSync(adapter, randomBytes(3 * MiB));
    // A whole-second mtime, so the tests below can put it back exactly (utimes takes seconds as a double).
    utimesSync(adapter, MTIME, MTIME);
    first = await snap();
  }, 120_000);

  afterAll(async () => {
    await cleanup?.();
  });

  it('a second snapshot of unchanged data reads none of the unchanged files, and lists the same chunks', async () => {
    expect(first.readBytes).toBeGreaterThanOrEqual(WEIGHTS_BYTES + 3 * MiB);
    const before = bytesReadByProcess();
    const second = await snap();
    const read = bytesReadByProcess() - before;
    // Only the database copy is read (a fresh online backup each time, well under a megabyte here).
    expect(second.readBytes).toBeLessThan(MiB);
    expect(second.readBytes).toBeGreaterThan(0);
    // Measured by the kernel too: far less than the model was read.
    expect(read).toBeLessThan(WEIGHTS_BYTES / 8);
    expect(second.newBytes / second.storedBytes).toBeLessThan(0.01);
    const [m1, m2] = [await manifestOf(core, phrase, first.cid), await manifestOf(core, phrase, second.cid)];
    const model = (m: SnapshotManifest) => m.files.find((f) => f.path === 'models/weights.gguf');
    expect(model(m2)).toEqual(model(m1));
    expect(model(m2)!.chunks.length).toBeGreaterThan(10);
  }, 60_000);

  it('a file replaced by one of the same size and mtime (another inode) is read again', async () => {
    const info = statSync(adapter);
    const original = readFileSync(adapter);
    const replacement = randomBytes(3 * MiB);
    const temp = `${adapter}.new`;
    writeFileSync(temp, replacement);
    utimesSync(temp, MTIME, MTIME);
    renameSync(temp, adapter);
    const after = statSync(adapter);
    expect([after.size, after.mtimeMs]).toEqual([info.size, info.mtimeMs]);
    expect(after.ino).not.toBe(info.ino);

    const snapshot = await snap();
    expect(snapshot.readBytes).toBeGreaterThanOrEqual(3 * MiB);
    expect(snapshot.readBytes).toBeLessThan(5 * MiB);
    const entry = (await manifestOf(core, phrase, snapshot.cid)).files.find((f) => f.path === 'models/adapter.bin');
    // The file's digest (manifest /3) is its chunk list: it describes the new bytes, not the old.
    expect(entry?.sha256).toBeUndefined();
    expect(chunksDescribe(entry!.chunks, replacement, chunkIdKeyOf(phrase))).toBe(true);
    expect(chunksDescribe(entry!.chunks, original, chunkIdKeyOf(phrase))).toBe(false);
  }, 60_000);

  it('a file rewritten in place with its size and mtime put back (only ctime changed) is read again', async () => {
    const info = statSync(adapter);
    const original = readFileSync(adapter);
    const rewritten = randomBytes(3 * MiB);
    writeFileSync(adapter, rewritten);
    utimesSync(adapter, MTIME, MTIME);
    const after = statSync(adapter);
    expect([after.size, after.mtimeMs, after.ino]).toEqual([info.size, info.mtimeMs, info.ino]);
    expect(after.ctimeMs).not.toBe(info.ctimeMs);

    const snapshot = await snap();
    expect(snapshot.readBytes).toBeGreaterThanOrEqual(3 * MiB);
    expect(snapshot.readBytes).toBeLessThan(5 * MiB);
    const entry = (await manifestOf(core, phrase, snapshot.cid)).files.find((f) => f.path === 'models/adapter.bin');
    expect(entry?.sha256).toBeUndefined();
    expect(chunksDescribe(entry!.chunks, rewritten, chunkIdKeyOf(phrase))).toBe(true);
    expect(chunksDescribe(entry!.chunks, original, chunkIdKeyOf(phrase))).toBe(false);
  }, 60_000);

  it('--full reads every file; so does the snapshot after a week without a full verify', async () => {
    const forced = await snap(true);
    expect(forced.readBytes).toBeGreaterThanOrEqual(WEIGHTS_BYTES + 3 * MiB);
    expect((await snap()).readBytes).toBeLessThan(MiB);

    const repo = (core.vault as unknown as { repo: VaultRepository }).repo;
    repo.setState('fullVerify', { at: Date.now() - 8 * 86_400_000, since: 3 });
    expect((await snap()).readBytes).toBeGreaterThanOrEqual(WEIGHTS_BYTES + 3 * MiB);
    // And every 50th snapshot.
    repo.setState('fullVerify', { at: Date.now(), since: 49 });
    expect((await snap()).readBytes).toBeGreaterThanOrEqual(WEIGHTS_BYTES + 3 * MiB);
    expect((await snap()).readBytes).toBeLessThan(MiB);
  }, 120_000);

  it('a full verify finds a file whose bytes differ from the chunk list the cache holds (identity unchanged), warns, and takes the bytes in', async () => {
    await snap();
    const repo = (core.vault as unknown as { repo: VaultRepository }).repo;
    const db = (repo as unknown as { db: { prepare(sql: string): { run(...args: unknown[]): unknown; get(...args: unknown[]): unknown } } }).db;
    const row = db.prepare('SELECT chunks FROM file_cache WHERE path = ?').get('models/adapter.bin') as { chunks: string };
    const cached = JSON.parse(row.chunks) as { id: string }[];
    // What a change that kept size, mtime, inode and ctime would look like: the cache's chunk list is not the file's.
    cached[0]!.id = 'f'.repeat(64);
    db.prepare('UPDATE file_cache SET chunks = ? WHERE path = ?').run(JSON.stringify(cached), 'models/adapter.bin');
    const logger = (core.vault as unknown as { deps: { logger: { warn(message: string): void } } }).deps.logger;
    const warnings: string[] = [];
    const warn = vi.spyOn(logger, 'warn').mockImplementation((message: string) => void warnings.push(message));
    try {
      const verified = await snap(true);
      expect(warnings.filter((w) => w.includes('changed although their size, time and inode had not'))).toEqual([expect.stringContaining('(first: models/adapter.bin)')]);
      const entry = (await manifestOf(core, phrase, verified.cid)).files.find((f) => f.path === 'models/adapter.bin');
      expect(chunksDescribe(entry!.chunks, readFileSync(adapter), chunkIdKeyOf(phrase))).toBe(true);
      // Verified again, the cache now holds the file's real chunk list: nothing to report.
      warnings.length = 0;
      await snap(true);
      expect(warnings.filter((w) => w.includes('changed although'))).toEqual([]);
    } finally {
      warn.mockRestore();
    }
  }, 120_000);

  it('a snapshot without models keeps their cache entries for the next one that includes them', async () => {
    const without = await core.vault.snapshot({ includeModels: false, includeDocuments: false });
    expect(without.readBytes).toBeLessThan(MiB);
    expect((await snap()).readBytes).toBeLessThan(MiB);
  }, 60_000);
});
