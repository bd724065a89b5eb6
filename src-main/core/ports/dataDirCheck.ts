import { statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { HearthError } from '../common/hearthError';
import { dataLayout } from './dataDir';

/**
 * Checks that a folder holds a Hearth data directory this Hearth could switch to (a restore's
 * target, typically): an absolute path to a folder with a hearth.db that SQLite opens and that
 * has Hearth's tables. Read-only: nothing in the folder is changed. Returns the resolved path.
 */
export function checkDataDirToOpen(dataDir: string, current: string, sqliteNativeBinding?: string): string {
  if (!isAbsolute(dataDir)) throw new HearthError('BAD_INPUT', `"${dataDir}" is not a full path; give the data folder's full path.`);
  const target = resolve(dataDir);
  if (target === resolve(current)) throw new HearthError('BAD_INPUT', 'That is the data folder Hearth is using now.');
  let isDir: boolean;
  try {
    isDir = statSync(target).isDirectory();
  } catch {
    throw new HearthError('FILE_NOT_FOUND', `There is no folder at ${target}.`);
  }
  if (!isDir) throw new HearthError('BAD_INPUT', `${target} is a file, not a data folder.`);
  const database = dataLayout(target).database;
  try {
    if (!statSync(database).isFile()) throw new Error('not a file');
  } catch {
    throw new HearthError('FILE_NOT_FOUND', `${target} holds no Hearth data (no hearth.db in it).`);
  }
  let db: Database.Database | null = null;
  try {
    db = new Database(database, { readonly: true, fileMustExist: true, ...(sqliteNativeBinding ? { nativeBinding: sqliteNativeBinding } : {}) });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name IN ('settings', 'threads', 'messages')").all();
    if (tables.length < 3) throw new Error('Hearth tables missing');
  } catch (error) {
    throw new HearthError('DATABASE_CORRUPT', `${join(target, 'hearth.db')} is not a Hearth database that opens (${error instanceof Error ? error.message : String(error)}).`);
  } finally {
    db?.close();
  }
  return target;
}
