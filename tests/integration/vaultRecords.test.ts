import BetterSqlite3 from 'better-sqlite3';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VaultSnapshot } from '#contract/dto';
import { createCore, type Core } from '../../src-main/core/createCore';
import type { Logger } from '../../src-main/core/common/logger';
import { restoreSnapshot, restoreStagingDir } from '../../src-main/core/vault/snapshotRestorer';
import { walletFromPhrase } from '../../src-main/core/vault/walletIdentity';
import { VAULT_SCHEMA_VERSION } from '../../src-main/core/vault/vaultSchema';
import { tempDir } from '../support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';
import { sqliteDigest } from '../support/vaultData';

const PASSPHRASE = 'records passphrase';

/** A core whose warnings are kept, to see what a damaged record was reported as. */
function openCore(dataDir: string, warnings: string[]): Core {
  const logger: Logger = { debug: () => undefined, info: () => undefined, warn: (m) => warnings.push(m), error: (m) => warnings.push(m) };
  return createCore(
    {
      dataDir,
      host: 'server',
      version: 'test',
      gpu: 'off',
      threads: 1,
      catalogPath: CATALOG_PATH,
      parseWorkerPath: PARSE_WORKER_PATH,
      library: { watch: false },
      vault: { scryptN: 1 << 12 },
    },
    { logger },
  );
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
  return 'no error';
}

/**
 * What the vault reads back from disk (target configs in vault.db, restored.json, a restore's
 * progress file) is checked against a schema: a damaged record is a coded error or a
 * documented fallback, never a crash on a missing field later. Real SQLite, real files.
 * (The vault's schedule and data key are in corruptRows.test.ts.)
 */
describe('vault records read back from disk', () => {
  const data = tempDir('hearth-vault-records-');
  const scratch = tempDir('hearth-vault-records-scratch-');
  const warnings: string[] = [];
  const vaultDb = () => join(data.path, 'vault', 'vault.db');
  let core: Core;
  let phrase: string;
  let snapshot: VaultSnapshot;

  beforeAll(async () => {
    core = openCore(data.path, warnings);
    phrase = (await core.vault.create({ passphrase: PASSPHRASE })).phrase;
    for (let i = 0; i < 3; i++) core.chat.createThread(`Chat ${i}`);
    snapshot = await core.vault.snapshot({ includeModels: false, includeDocuments: false });
  });

  afterAll(async () => {
    await core?.dispose();
    data.cleanup();
    scratch.cleanup();
  });

  it('vault.db is opened as hearth.db is (WAL, its own schema version)', () => {
    const db = new BetterSqlite3(vaultDb(), { readonly: true });
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('user_version', { simple: true })).toBe(VAULT_SCHEMA_VERSION);
      expect(VAULT_SCHEMA_VERSION).toBeGreaterThanOrEqual(2);
    } finally {
      db.close();
    }
  });

  it('a target whose saved config is damaged is listed as damaged, refused with CORRUPT_FILE when used, and can be removed', async () => {
    const usb = join(scratch.path, 'usb');
    mkdirSync(usb);
    const folder = await core.vault.addTarget({ kind: 'folder', path: usb, name: 'USB stick' });
    const kubo = await core.vault.addTarget({ kind: 'kubo', apiUrl: 'http://127.0.0.1:5001' });
    await core.dispose();

    const db = new BetterSqlite3(vaultDb());
    db.prepare('UPDATE targets SET config = ? WHERE id = ?').run(JSON.stringify({ kind: 'folder' }), folder.id);
    db.prepare('UPDATE targets SET config = ? WHERE id = ?').run('{"kind":"kubo","apiUrl":', kubo.id);
    db.prepare('INSERT INTO targets (id, kind, name, config, created_at) VALUES (?, ?, ?, ?, ?)').run('target_ftp', 'ftp', 'Unknown kind', '{}', Date.now());
    db.close();

    core = openCore(data.path, warnings);
    await core.vault.unlock({ passphrase: PASSPHRASE });
    // Listed, so they can be seen and removed; a row of a kind this build does not know is left out.
    const listed = core.vault.targets();
    expect(listed.map((t) => [t.id, t.kind, t.keepsPointer])).toEqual([
      [folder.id, 'folder', false],
      [kubo.id, 'kubo', false],
    ]);
    expect(listed[0]!.location).toMatch(/^damaged settings \(path: .+\): remove this target and add it again$/);

    // Using one is a coded error naming it and saying what to do.
    for (const attempt of [
      () => core.vault.startPublish({ cid: snapshot.cid, targetId: folder.id }),
      () => core.vault.startSnapshot({ targetId: folder.id }),
      () => core.vault.setSchedule({ targetId: folder.id }),
      () => core.vault.startRestore({ phrase, from: { kind: 'target', targetId: kubo.id }, dataDir: join(scratch.path, 'restored') }),
    ]) {
      expect(attempt).toThrow(expect.objectContaining({ code: 'CORRUPT_FILE', message: expect.stringMatching(/damaged.*remove the target and add it again/) }));
    }
    await expect(core.vault.uploads(kubo.id)).rejects.toMatchObject({ code: 'CORRUPT_FILE', message: expect.stringContaining(kubo.id) });
    await expect(core.vault.publish(snapshot.cid, folder.id)).rejects.toMatchObject({ code: 'CORRUPT_FILE', message: expect.stringContaining('USB stick') });

    for (const targetId of [folder.id, kubo.id, 'target_ftp']) core.vault.removeTarget({ targetId });
    expect(core.vault.targets()).toEqual([]);
    expect(codeOf(() => core.vault.removeTarget({ targetId: folder.id }))).toBe('TARGET_NOT_FOUND');
  });

  it('a restored.json that does not read back is not adopted: a warning, a vault that starts fresh, the record kept', async () => {
    const damaged: Record<string, string> = {
      'not JSON': '{"root": "bafy',
      'fields missing': JSON.stringify({ root: snapshot.cid, createdAt: new Date().toISOString() }),
      'a root that is not a CID': JSON.stringify(restoredRecord({ root: 'not-a-cid' })),
      'block sizes as text': JSON.stringify(restoredRecord({ blocks: { [snapshot.cid]: '123' } })),
      'a date that is not one': JSON.stringify(restoredRecord({ createdAt: 'yesterday' })),
    };
    for (const [what, text] of Object.entries(damaged)) {
      const dir = join(scratch.path, `restored-${what.replace(/\W+/g, '-')}`);
      mkdirSync(join(dir, 'vault'), { recursive: true });
      writeFileSync(join(dir, 'vault', 'restored.json'), text);
      const seen: string[] = [];
      const other = openCore(dir, seen);
      try {
        expect(other.vault.snapshots(), what).toEqual([]);
        expect(seen.join('\n'), what).toMatch(/restored\.json could not be adopted .*the next snapshot will be a full one/);
        expect(existsSync(join(dir, 'vault', 'restored.json')), what).toBe(true);
      } finally {
        await other.dispose();
      }
    }

    function restoredRecord(patch: Record<string, unknown>): Record<string, unknown> {
      return {
        root: snapshot.cid,
        createdAt: new Date(snapshot.createdAt).toISOString(),
        previous: null,
        address: walletFromPhrase(phrase).address,
        wrappedKey: 'ab'.repeat(72),
        options: { includeModels: false, includeDocuments: false },
        files: snapshot.files,
        bytes: snapshot.bytes,
        blocks: { [snapshot.cid]: 100 },
        chunks: [],
        ...patch,
      };
    }
  });

  it('a restore whose saved progress is damaged starts over and restores every file', async () => {
    const blocks = core.vault['blocks'];
    const clean = await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: snapshot.cid, fetcher: blocks, dataDir: join(scratch.path, 'clean') });
    const damaged = [
      { root: snapshot.cid, done: 'hearth.db', current: null },
      // Well-formed but for the counts of the file in progress: all of it is distrusted, so hearth.db is not skipped.
      { root: snapshot.cid, done: ['hearth.db'], current: { path: 'hearth.db', chunks: 2, bytes: '100' } },
    ];
    for (const [i, progress] of damaged.entries()) {
      const target = join(scratch.path, `resumed-${i}`);
      const staging = restoreStagingDir(target, snapshot.cid);
      mkdirSync(staging, { recursive: true });
      writeFileSync(join(staging, 'restore-progress.json'), JSON.stringify(progress));
      const result = await restoreSnapshot({ wallet: walletFromPhrase(phrase), root: snapshot.cid, fetcher: blocks, dataDir: target });
      expect(result.files).toBe(snapshot.files);
      expect(result.fetchedBlocks).toBe(clean.fetchedBlocks);
      expect(sqliteDigest(join(target, 'hearth.db'))).toEqual(sqliteDigest(join(scratch.path, 'clean', 'hearth.db')));
      expect(existsSync(staging)).toBe(false);
    }
  });
});
