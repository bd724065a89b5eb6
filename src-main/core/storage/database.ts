import { closeSync, existsSync, openSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { errnoOf } from '../common/fsErrors';
import type { HearthError } from '../common/hearthError';
import { corruptDatabase, databaseOpenError } from './databaseErrors';
import { guardDiskFull } from './diskFullGuard';
import { migrations } from './migrations';
import { PRIVATE_FILE_MODE } from './privateDataDir';

export type Db = BetterSqlite3.Database;

export interface OpenDatabaseOptions {
  /**
   * Path to a better_sqlite3.node built for the running ABI. The desktop app passes the
   * Electron build here; plain Node (CLI, server, tests) uses the package's own build.
   */
  nativeBinding?: string;
  /** The schema to bring the file up to; hearth.db's by default (the vault keeps its own file). */
  migrations?: readonly string[];
  /**
   * quick_check the file before use (the default). A caller that turns it off checks what it
   * reads in another way (openDataDir's `checkDatabaseAtOpen`).
   */
  quickCheck?: boolean;
}

/**
 * Opens (creating if needed) the SQLite file in WAL mode, checks it is sound and brings its
 * schema up to date. A damaged file fails as DATABASE_CORRUPT and a folder that cannot be
 * written as DATA_DIR_READ_ONLY, each with what to do (databaseErrors.ts).
 */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Db {
  createPrivate(file);
  let db: Db;
  try {
    // A full disk reads as DISK_FULL naming this file, from every write path.
    db = guardDiskFull(new BetterSqlite3(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {}), file);
  } catch (error) {
    throw databaseOpenError(file, error) ?? error;
  }
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    db.pragma('busy_timeout = 5000');
    if (options.quickCheck !== false) checkIntegrity(db, file);
    migrate(db, options.migrations);
  } catch (error) {
    db.close();
    throw databaseOpenError(file, error) ?? error;
  }
  return db;
}

/**
 * Reads every page once (quick_check: structure, not index contents), so a damaged page is
 * found at start with a clear code rather than as an INTERNAL error in the middle of a call.
 */
function checkIntegrity(db: Db, file: string): void {
  const found = integrityProblems(db);
  if (found.length > 0) throw corruptDatabase(file, found.join('; '));
}

/**
 * DATABASE_CORRUPT for `file` when `error` is SQLite saying a database is damaged and a
 * quick_check of `file` confirms it (so a damaged vault.db is not blamed on hearth.db); null
 * otherwise. For callers that opened `file` without the check (checkDatabaseAtOpen false).
 */
export function damageFound(file: string, error: unknown, nativeBinding?: string): HearthError | null {
  if (!/^SQLITE_(CORRUPT|NOTADB)/.test(errnoOf(error) ?? '')) return null;
  let db: Db | null = null;
  try {
    db = new BetterSqlite3(file, { readonly: true, fileMustExist: true, ...(nativeBinding ? { nativeBinding } : {}) });
    const found = integrityProblems(db);
    return found.length > 0 ? corruptDatabase(file, found.join('; '), error) : null;
  } catch (checkError) {
    return databaseOpenError(file, checkError);
  } finally {
    db?.close();
  }
}

/** What quick_check finds wrong with a database's pages (at most three problems); empty when it is sound. */
export function integrityProblems(db: Db): string[] {
  const problems = db.pragma('quick_check(3)', { simple: false }) as { quick_check: string }[];
  return problems.map((row) => row.quick_check).filter((text) => text !== 'ok');
}

/**
 * quick_check's page checks without its virtual-table checks (at most three problems; empty
 * when sound): the schema's b-tree with the free list (a check of sqlite_schema covers both),
 * then every table that has pages of its own, each with its indexes and overflow chains. So
 * every page a b-tree or the free list uses is read and checked, as a whole-file quick_check
 * does. What only the whole-file check adds: FTS5's own check that its index matches the text
 * it was built from (which tokenizes every message again: ~6x the cost of everything else
 * here) and pages that nothing uses at all (leaked, never read).
 */
export function pageProblems(db: Db): string[] {
  const problems: string[] = [];
  try {
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND rootpage > 0 ORDER BY name").pluck().all() as string[];
    for (const table of ['sqlite_schema', ...tables]) {
      const rows = db.pragma(`quick_check('${table.replaceAll("'", "''")}')`, { simple: false }) as { quick_check: string }[];
      for (const { quick_check: text } of rows) if (text !== 'ok') problems.push(text);
      if (problems.length >= 3) break;
    }
  } catch (error) {
    // A check of one table (or the read of the schema) that meets a damaged page can fail outright.
    if (!/^SQLITE_(CORRUPT|NOTADB)/.test(errnoOf(error) ?? '')) throw error;
    problems.push((error as Error).message);
  }
  return problems.slice(0, 3);
}

/**
 * Creates a missing database file readable by its owner alone; SQLite gives the WAL and SHM
 * files it makes the database file's mode. A file that cannot be made is left to SQLite, whose
 * error says why.
 */
function createPrivate(file: string): void {
  if (existsSync(file)) return;
  try {
    closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  } catch {
    // SQLite reports it when it opens the file.
  }
}

/** Applies pending migrations, each in its own transaction, tracked by PRAGMA user_version. */
export function migrate(db: Db, list: readonly string[] = migrations): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > list.length) {
    throw new Error(`This data directory was written by a newer Hearth (schema ${current}, this build knows ${list.length}).`);
  }
  for (let version = current; version < list.length; version++) {
    const sql = list[version]!;
    db.transaction(() => {
      db.exec(sql);
      db.pragma(`user_version = ${version + 1}`);
    })();
  }
}
