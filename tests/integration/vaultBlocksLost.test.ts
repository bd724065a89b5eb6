import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { createTestCore } from '../support/testCore';
import { tempDir } from '../support/tempDir';
import { seedUserData, sqliteDigest } from '../support/vaultData';

/** The vault's block store (vault/blocks) deleted under a running app: the next snapshot notices and seals again. */
describe('vault block store lost under a running app', () => {
  let core: Core;
  let dataDir: string;
  let cleanup: () => Promise<void>;
  let phrase: string;
  const scratch = tempDir('hearth-vault-blocks-lost-');

  beforeAll(async () => {
    ({ core, dataDir, cleanup } = createTestCore({ vault: { scryptN: 1 << 12 } }));
    // Enough data that most chunks are unchanged between snapshots (and so reused).
    await seedUserData(core, { threads: 10, messagesPerThread: 100 });
    phrase = (await core.vault.create({ passphrase: 'a long passphrase' })).phrase;
  });

  afterAll(async () => {
    await core?.dispose();
    await cleanup?.();
    scratch.cleanup();
  });

  /** Dedup-index entries whose sealed block is not in the block store (none, when it was kept true). */
  function staleChunks(): number {
    const db = new BetterSqlite3(join(dataDir, 'vault', 'vault.db'), { readonly: true });
    try {
      const rows = db.prepare('SELECT block_cid FROM chunks').all() as { block_cid: string }[];
      expect(rows.length).toBeGreaterThan(0);
      return rows.filter((r) => !existsSync(join(dataDir, 'vault', 'blocks', r.block_cid.slice(-2), r.block_cid))).length;
    } finally {
      db.close();
    }
  }

  /** The blocks a snapshot references, as vault.db records them. */
  function blocksOf(snapshotCid: string, join_ = ''): string[] {
    const db = new BetterSqlite3(join(dataDir, 'vault', 'vault.db'), { readonly: true });
    try {
      const sql = `SELECT DISTINCT b.block_cid FROM snapshot_blocks b ${join_} WHERE b.snapshot_cid = ?`;
      return (db.prepare(sql).all(snapshotCid) as { block_cid: string }[]).map((r) => r.block_cid);
    } finally {
      db.close();
    }
  }

  /** The dedup-index entries (chunk id -> block) for the given blocks. */
  function chunkIdsOf(blockCids: string[]): { id: string; block: string }[] {
    const db = new BetterSqlite3(join(dataDir, 'vault', 'vault.db'), { readonly: true });
    try {
      const byBlock = db.prepare('SELECT id, block_cid AS block FROM chunks WHERE block_cid = ?');
      return blockCids.flatMap((cid) => byBlock.all(cid) as { id: string; block: string }[]);
    } finally {
      db.close();
    }
  }

  async function snapshot(targetId?: string) {
    const job = core.vault.startSnapshot(targetId ? { targetId } : {});
    const done = await core.jobs.wait(job.id);
    expect(done.status, done.error?.message).toBe('completed');
    return core.vault.snapshots()[0]!;
  }

  it('re-seals every chunk, publishes and restores; the block-less snapshot refuses to publish with a coded error', async () => {
    const usb = join(scratch.path, 'usb');
    mkdirSync(usb);
    const folder = await core.vault.addTarget({ kind: 'folder', path: usb });
    const blocksDir = join(dataDir, 'vault', 'blocks');

    const first = await snapshot();
    expect(readdirSync(blocksDir).length).toBeGreaterThan(0);
    rmSync(blocksDir, { recursive: true, force: true });
    core.chat.createThread('After the loss');

    const second = await snapshot(folder.id);
    expect(second.cid).not.toBe(first.cid);
    expect(second.publications.map((p) => p.targetId)).toEqual([folder.id]);
    expect(existsSync(blocksDir)).toBe(true);
    expect(staleChunks()).toBe(0);

    const restored = join(scratch.path, 'restored');
    const job = core.vault.startRestore({ phrase, cid: second.cid, from: { kind: 'target', targetId: folder.id }, dataDir: restored });
    const done = await core.jobs.wait(job.id);
    expect(done.status, done.error?.message).toBe('completed');
    expect(sqliteDigest(join(restored, 'hearth.db')).threads).toEqual(sqliteDigest(join(dataDir, 'hearth.db')).threads);

    await expect(core.vault.publish(first.cid, folder.id)).rejects.toMatchObject({
      code: 'INTEGRITY_ERROR',
      message: expect.stringMatching(new RegExp(`Snapshot ${first.cid} cannot be published.*missing.*take a new snapshot`)),
    });
    const publish = core.vault.startPublish({ cid: first.cid, targetId: folder.id });
    const failed = await core.jobs.wait(publish.id);
    expect(failed.status).toBe('failed');
    expect(failed.error).toMatchObject({ code: 'INTEGRITY_ERROR' });
  });

  it('lost block files are forgotten from the dedup index and their chunks sealed again', async () => {
    const usb = join(scratch.path, 'usb2');
    mkdirSync(usb);
    const folder = await core.vault.addTarget({ kind: 'folder', path: usb });
    const blocksDir = join(dataDir, 'vault', 'blocks');
    const before = await snapshot();
    // Delete the sealed chunks of the latest snapshot, one file each (the folder stays).
    const lostBlocks = blocksOf(before.cid, 'JOIN chunks c ON c.block_cid = b.block_cid');
    expect(lostBlocks.length).toBeGreaterThan(0);
    const lostIds = chunkIdsOf(lostBlocks).map((c) => c.id);
    for (const cid of lostBlocks) rmSync(join(blocksDir, cid.slice(-2), cid));

    const after = await snapshot(folder.id);
    expect(after.publications.map((p) => p.targetId)).toEqual([folder.id]);
    // Every block the new snapshot references is on disk: none was reused from the stale index.
    expect(blocksOf(after.cid).filter((cid) => !existsSync(join(blocksDir, cid.slice(-2), cid)))).toEqual([]);
    // Unchanged chunks whose blocks were lost were sealed again under the same chunk id.
    const nowIds = new Set(chunkIdsOf(blocksOf(after.cid)).map((c) => c.id));
    const resealed = lostIds.filter((id) => nowIds.has(id));
    expect(resealed.length).toBeGreaterThan(0);
    const restored = join(scratch.path, 'restored-2');
    const job = core.vault.startRestore({ phrase, cid: after.cid, from: { kind: 'target', targetId: folder.id }, dataDir: restored });
    const done = await core.jobs.wait(job.id);
    expect(done.status, done.error?.message).toBe('completed');
    expect(sqliteDigest(join(restored, 'hearth.db')).threads).toEqual(sqliteDigest(join(dataDir, 'hearth.db')).threads);
    expect(before.cid).not.toBe(after.cid);
  });
});
