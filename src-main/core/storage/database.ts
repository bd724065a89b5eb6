import BetterSqlite3 from 'better-sqlite3';
import { migrations } from './migrations';

export type Db = BetterSqlite3.Database;

export interface OpenDatabaseOptions {
  /**
   * Path to a better_sqlite3.node built for the running ABI. The desktop app passes the
   * Electron build here; plain Node (CLI, server, tests) uses the package's own build.
   */
  nativeBinding?: string;
  /** The schema to bring the file up to; hearth.db's by default (the vault keeps its own file). */
  migrations?: readonly string[];
}

/** Opens (creating if needed) the SQLite file in WAL mode and brings its schema up to date. */
export function openDatabase(file: string, options: OpenDatabaseOptions = {}): Db {
  const db = new BetterSqlite3(file, options.nativeBinding ? { nativeBinding: options.nativeBinding } : {});
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  try {
    migrate(db, options.migrations);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
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
