import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { errnoOf, fileError, fileProblem, isDiskFull } from '../../../src-main/core/common/fsErrors';
import { HearthError } from '../../../src-main/core/common/hearthError';
import { tempDir } from '../../support/tempDir';

const dir = tempDir();
afterAll(() => dir.cleanup());

async function failure(fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

/** Errors the test machine cannot produce on demand (a full disk or quota, a denied write as root), shaped as Node makes them. */
const errno = (code: string) => Object.assign(new Error(`${code}: simulated, write '/x'`), { code, syscall: 'write' });

describe('the one file-error mapping', () => {
  it('maps what the file system really reports', async () => {
    const file = join(dir.path, 'a-file');
    writeFileSync(file, 'x');
    mkdirSync(join(dir.path, 'a-folder'));

    const missing = await failure(() => readFile(join(dir.path, 'absent')));
    const underFile = await failure(() => readFile(join(file, 'child')));
    const folder = await failure(() => readFile(join(dir.path, 'a-folder')));
    const writeIntoMissing = await failure(() => writeFile(join(dir.path, 'no', 'such', 'x'), 'x'));

    expect([missing, underFile, folder, writeIntoMissing].map(errnoOf)).toEqual(['ENOENT', 'ENOTDIR', 'EISDIR', 'ENOENT']);
    expect(fileProblem(missing)).toBe('notFound');
    expect(fileProblem(underFile)).toBe('notFound');
    expect(fileProblem(folder)).toBe('isFolder');
    expect(fileError(missing, 'absent')).toMatchObject({ code: 'FILE_NOT_FOUND', message: 'absent does not exist.' });
    expect(fileError(folder, 'a-folder')).toMatchObject({ code: 'FILE_UNREADABLE', message: 'a-folder is a folder, not a file.' });
    expect(fileError(missing, 'absent').cause).toBe(missing);
  });

  it('reports a full SQLite database as a full disk', () => {
    const db = new BetterSqlite3(':memory:');
    db.exec('CREATE TABLE t (v BLOB)');
    db.pragma('max_page_count = 8');
    let full: unknown;
    try {
      for (let i = 0; i < 100; i++) db.prepare('INSERT INTO t VALUES (?)').run(Buffer.alloc(4096));
    } catch (error) {
      full = error;
    }
    db.close();
    expect(errnoOf(full)).toBe('SQLITE_FULL');
    expect(isDiskFull(full)).toBe(true);
    expect(fileError(full, 'hearth.db').code).toBe('DISK_FULL');
  });

  it('a full disk and a full quota are both DISK_FULL (never INTERNAL or FILE_UNREADABLE)', () => {
    for (const code of ['ENOSPC', 'EDQUOT']) {
      expect(isDiskFull(errno(code))).toBe(true);
      expect(fileError(errno(code), '/data/x')).toMatchObject({ code: 'DISK_FULL', message: 'The disk holding /data/x is full; free some space and try again.' });
    }
    expect(isDiskFull(errno('ENOENT'))).toBe(false);
    expect(isDiskFull(new Error('no code'))).toBe(false);
    expect(isDiskFull(undefined)).toBe(false);
  });

  it('permission problems, read-only drives and the rest are FILE_UNREADABLE', () => {
    for (const code of ['EACCES', 'EPERM', 'EROFS']) {
      expect(fileProblem(errno(code))).toBe('denied');
      expect(fileError(errno(code), '/x')).toMatchObject({ code: 'FILE_UNREADABLE', message: `Hearth may not read or write /x (${code}); check its permissions.` });
    }
    expect(fileError(errno('EIO'), '/x')).toMatchObject({ code: 'FILE_UNREADABLE', message: "Could not use /x (EIO): EIO: simulated, write '/x'" });
    expect(fileProblem(new Error('plain'))).toBeNull();
    expect(fileError(new Error('plain'), '/x')).toMatchObject({ code: 'FILE_UNREADABLE', message: 'Could not use /x: plain' });
  });

  it('each site words its sentences; `other` words all but a full disk', () => {
    const say = { notFound: 'gone', other: 'cannot read it' };
    expect(fileError(errno('ENOENT'), '/x', say).message).toBe('gone');
    expect(fileError(errno('EACCES'), '/x', say)).toMatchObject({ code: 'FILE_UNREADABLE', message: 'cannot read it' });
    expect(fileError(errno('EISDIR'), '/x', say)).toMatchObject({ code: 'FILE_UNREADABLE', message: 'cannot read it' });
    expect(fileError(errno('ENOSPC'), '/x', say)).toMatchObject({ code: 'DISK_FULL', message: 'The disk holding /x is full; free some space and try again.' });
    expect(fileError(errno('ENOSPC'), '/x', { ...say, diskFull: 'full' }).message).toBe('full');
  });

  it('a HearthError passes through unchanged', () => {
    const coded = new HearthError('CORRUPT_FILE', 'not a GGUF');
    expect(fileError(coded, '/x')).toBe(coded);
  });
});
