import BetterSqlite3 from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createCore } from '../../src-main/core/createCore';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { countSqliteRows } from '../../src-main/core/vault/dataCapture';
import { assertBuilt, runHearth } from '../support/server';
import { CATALOG_PATH, createTestCore, PARSE_WORKER_PATH } from '../support/testCore';
import { seedUserData } from '../support/vaultData';

const PASSPHRASE = 'damaged database passphrase';
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A library with a vault (low scrypt cost), closed cleanly: its hearth.db spans a few hundred pages. */
async function library(): Promise<string> {
  const test = createTestCore({ vault: { scryptN: 1 << 12 } });
  cleanups.push(() => test.cleanup());
  await seedUserData(test.core, { threads: 4, messagesPerThread: 100 });
  await test.core.vault.create({ passphrase: PASSPHRASE });
  await test.core.dispose();
  return test.dataDir;
}

/** Overwrites one page of the file with random bytes. */
function damagePage(file: string, page: number): void {
  const pageSize = readFileSync(file).readUInt16BE(16);
  const fd = openSync(file, 'r+');
  writeSync(fd, randomBytes(pageSize), 0, pageSize, pageSize * (page - 1));
  closeSync(fd);
}

/**
 * A page of an index of the messages table that no COUNT(*) reads (SQLite counts each table
 * through its smallest index, and the full-text table through messages itself): damage there is
 * invisible to the capture's row counts, and only a quick_check finds it.
 */
function pageNoCountReads(file: string): number {
  const db = new BetterSqlite3(file, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[]).map((t) => t.name);
    const plans = tables.flatMap((t) => (db.prepare(`EXPLAIN QUERY PLAN SELECT COUNT(*) FROM "${t}"`).all() as { detail: string }[]).map((row) => row.detail));
    const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'messages'").all() as { name: string }[]).map((i) => i.name);
    const unread = indexes.filter((name) => !plans.some((detail) => detail.includes(name)));
    expect(unread.length).toBeGreaterThan(0);
    const pages = db.prepare(`SELECT pageno FROM dbstat WHERE name IN (${unread.map(() => '?').join(', ')}) ORDER BY pageno`).all(...unread) as { pageno: number }[];
    expect(pages.length).toBeGreaterThan(0);
    return pages[Math.floor(pages.length / 2)]!.pageno;
  } finally {
    db.close();
  }
}

/**
 * The vault's CLI commands open the core without quick_checking hearth.db (checkDatabaseAtOpen
 * false: ~0.2 s of CPU each for a 30 MB library); a snapshot quick_checks the copy it is about
 * to seal instead. A damaged database is still never snapshotted: DATABASE_CORRUPT, nothing recorded.
 */
describe('a snapshot of a damaged hearth.db, the core opened without the check at open', { timeout: 120_000 }, () => {
  beforeAll(() => assertBuilt());

  const openUnchecked = (dataDir: string) => {
    const core = createCore(
      { dataDir, host: 'server', version: 'test', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH,
        library: { watch: false }, vault: { scryptN: 1 << 12 }, checkDatabaseAtOpen: false },
      { logger: createConsoleLogger('silent') },
    );
    cleanups.push(() => core.dispose());
    return core;
  };

  it('a damaged page that the row counts never read is found in the copy: DATABASE_CORRUPT, no snapshot', async () => {
    const dataDir = await library();
    const file = join(dataDir, 'hearth.db');
    damagePage(file, pageNoCountReads(file));
    // The capture's row counts alone would not notice: they read the tables' indexes.
    const db = new BetterSqlite3(file, { readonly: true });
    expect(() => countSqliteRows(db)).not.toThrow();
    db.close();

    const core = openUnchecked(dataDir);
    await core.vault.unlock({ passphrase: PASSPHRASE });
    await expect(core.vault.snapshot({ includeModels: false, includeDocuments: false })).rejects.toMatchObject({
      code: 'DATABASE_CORRUPT',
      message: expect.stringContaining(`${file} is damaged (found in the snapshot's copy of it:`),
    });
    expect(core.vault.snapshots()).toEqual([]);
  });

  it('hearth vault snapshot says so in one line; hearth vault status, which reads no chat, still answers', async () => {
    const dataDir = await library();
    const file = join(dataDir, 'hearth.db');
    damagePage(file, pageNoCountReads(file));
    const env: NodeJS.ProcessEnv = { ...process.env, HEARTH_VAULT_PASSPHRASE: PASSPHRASE, HEARTH_LOG: 'warn' };
    delete env.HEARTH_DATA_DIR;
    const status = await runHearth(['vault', 'status', '--json', '--data-dir', dataDir], env);
    expect(status.code, status.stderr).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ state: 'locked', lastSnapshot: null });
    const snapshot = await runHearth(['vault', 'snapshot', '--data-dir', dataDir], env);
    expect(snapshot.code).toBe(1);
    expect(snapshot.stderr).toMatch(new RegExp(`^error DATABASE_CORRUPT: ${file.replaceAll('/', '\\/')} is damaged \\(found in the snapshot's copy of it: `, 'm'));
    expect(snapshot.stdout).toBe('');
  });

  it('a damaged page that a vault command does read is DATABASE_CORRUPT with what to do, not INTERNAL', async () => {
    const dataDir = await library();
    const file = join(dataDir, 'hearth.db');
    const db = new BetterSqlite3(file, { readonly: true });
    const leaves = db.prepare("SELECT pageno FROM dbstat WHERE name = 'messages' AND pagetype = 'leaf' ORDER BY pageno").all() as { pageno: number }[];
    db.close();
    // Every leaf of the messages table: the start-up's look for replies cut off mid-stream reads them.
    for (const { pageno } of leaves) damagePage(file, pageno);
    const env: NodeJS.ProcessEnv = { ...process.env, HEARTH_LOG: 'warn' };
    delete env.HEARTH_DATA_DIR;
    const status = await runHearth(['vault', 'status', '--data-dir', dataDir], env);
    expect(status.code).toBe(1);
    expect(status.stderr).toMatch(new RegExp(`^error DATABASE_CORRUPT: ${file.replaceAll('/', '\\/')} is damaged .*sqlite3 -readonly`, 'm'));
    expect(status.stderr).not.toContain('INTERNAL');
  });
});
