import { mkdirSync } from 'node:fs';
import type { AppHost } from '#contract/vocabulary';
import type { Logger } from './common/logger';
import { dataLayout } from './ports/dataDir';
import { openDatabase, type Db } from './storage/database';
import { dataDirError } from './storage/databaseErrors';
import { holdDataDir, type DataDirHold } from './storage/dataDirHolders';
import { PRIVATE_DIR_MODE, PrivateDataDir } from './storage/privateDataDir';

export interface DataDirConfig {
  dataDir: string;
  host: AppHost;
  /** better_sqlite3.node for the running ABI (the desktop app's Electron build). */
  sqliteNativeBinding?: string;
  /**
   * quick_check hearth.db as it opens (default true), so a damaged page fails at start with
   * DATABASE_CORRUPT. The vault's commands turn it off: they read only their own rows of it,
   * and a snapshot checks the copy it seals instead (dataCapture.ts), page for page the same.
   */
  checkDatabaseAtOpen?: boolean;
}

/** A data directory opened for use: private, held ("open here"), its database open. */
export interface OpenDataDir {
  layout: ReturnType<typeof dataLayout>;
  privacy: PrivateDataDir;
  db: Db;
  /** Closes the database and drops the hold. */
  close(): void;
}

/**
 * The first steps of every composition root (createCore, the lean search core): the data
 * directory made private before anything is written, held so a restore refuses it while
 * it is in use, and its database opened (with the hold released if that fails).
 */
export function openDataDir(config: DataDirConfig, logger: Logger): OpenDataDir {
  const layout = dataLayout(config.dataDir);
  // Private before anything is written: the data directory 0700, what is already in it fixed (logged).
  const privacy = new PrivateDataDir(config.dataDir, logger);
  try {
    privacy.prepare();
    mkdirSync(layout.models, { recursive: true, mode: PRIVATE_DIR_MODE });
  } catch (error) {
    throw dataDirError(config.dataDir, error);
  }
  // Says "open here" to other processes for as long as this core lives: a restore refuses the directory.
  const hold = holdQuietly(config, logger);
  let db: Db;
  try {
    db = openDatabase(layout.database, { nativeBinding: config.sqliteNativeBinding, quickCheck: config.checkDatabaseAtOpen !== false });
  } catch (error) {
    hold?.release();
    throw error;
  }
  return {
    layout,
    privacy,
    db,
    close() {
      db.close();
      hold?.release();
    },
  };
}

/** The in-use record, or null (logged) where the data directory cannot take one (read-only: nothing can be restored over it either way). */
function holdQuietly(config: DataDirConfig, logger: Logger): DataDirHold | null {
  const words = process.argv.slice(2, 4).filter((word) => /^[a-z][a-z-]*$/.test(word));
  const purpose = config.host === 'desktop' ? 'the Hearth app' : ['hearth', ...words].join(' ');
  try {
    return holdDataDir(config.dataDir, purpose);
  } catch (error) {
    logger.warn(`could not record that ${config.dataDir} is open: ${(error as Error).message}`);
    return null;
  }
}
