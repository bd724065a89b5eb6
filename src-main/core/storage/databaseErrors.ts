import { accessSync, constants, existsSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { errnoOf } from '../common/fsErrors';
import { HearthError } from '../common/hearthError';

/** SQLite's words for a file that is not (or no longer) a sound database. */
const CORRUPT = /^SQLITE_(CORRUPT|NOTADB)/;
/** SQLite's words for a file or folder it may not write (or create the WAL beside). */
const NOT_WRITABLE = /^SQLITE_(READONLY|CANTOPEN|IOERR_(SHMOPEN|WRITE|TRUNCATE|ACCESS))|^(EROFS|EACCES|EPERM)$/;

/**
 * Why a SQLite file could not be opened, said so a person can act on it: a damaged file
 * (DATABASE_CORRUPT, with how to save what is left) or a data directory Hearth may not write
 * (DATA_DIR_READ_ONLY). Null for any other failure, which stays as it is.
 */
export function databaseOpenError(file: string, error: unknown, detail?: string): HearthError | null {
  if (error instanceof HearthError) return null;
  const code = errnoOf(error) ?? '';
  const reason = detail ?? (error instanceof Error ? error.message : String(error));
  if (CORRUPT.test(code)) return corruptDatabase(file, reason, error);
  if (NOT_WRITABLE.test(code) || (code.startsWith('SQLITE_') && !writable(dirname(file)))) return readOnlyDataDir(dirname(file), error);
  return null;
}

export function corruptDatabase(file: string, reason: string, cause?: unknown): HearthError {
  return new HearthError(
    'DATABASE_CORRUPT',
    `${file} is damaged (${reason}); Hearth will not write to it. Keep a copy of it, then: ` +
      `read what is left with "sqlite3 -readonly ${file} .dump > ${basename(file)}.sql" ` +
      `(or "sqlite3 ${file} .recover > ${basename(file)}.sql" to salvage more), ` +
      `or restore your last snapshot into a new folder with "hearth vault restore --data-dir NEW_DIR --phrase-file FILE --folder BACKUP_DIR" ` +
      '(or --kubo URL, or --from GATEWAY_URL --cid CID) and start Hearth with --data-dir NEW_DIR.',
    { cause },
  );
}

export function readOnlyDataDir(dir: string, cause?: unknown): HearthError {
  return new HearthError(
    'DATA_DIR_READ_ONLY',
    `The data directory ${dir} cannot be written (a read-only disk or mount, or no write permission). ` +
      'Remount it read-write or give your user write access to it, or choose another folder with --data-dir DIR (or $HEARTH_DATA_DIR).',
    { cause },
  );
}

/**
 * Why the data directory's folders could not be made: DATA_DIR_READ_ONLY when the nearest
 * folder that exists cannot be written (a recursive mkdir on a read-only mount can say ENOENT).
 */
export function dataDirError(dir: string, error: unknown): unknown {
  let existing = dir;
  while (!existsSync(existing) && dirname(existing) !== existing) existing = dirname(existing);
  return writable(existing) ? error : readOnlyDataDir(dir, error);
}

/** Whether this process may create and change files in dir (false on a read-only mount, even for root). */
export function writable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK);
    return true;
  } catch (error) {
    // A folder that does not exist yet is not the problem this answers.
    return errnoOf(error) === 'ENOENT';
  }
}
