import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { toErrorData } from '../../../src-main/core/common/hearthError';
import { tempDir } from '../../support/tempDir';

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  throw new Error('nothing was thrown');
}

/** SQLite errors met while running (not at start) cross the boundary with a code a person can act on. */
describe('toErrorData for SQLite errors at run time (real SQLite)', () => {
  it('a damaged file is DATABASE_CORRUPT, with what to do', () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const file = join(dir.path, 'hearth.db');
    writeFileSync(file, randomBytes(8192));
    const db = new BetterSqlite3(file);
    cleanups.push(() => db.close());
    const data = toErrorData(thrownBy(() => db.prepare('SELECT * FROM settings').all()));
    expect(data.code).toBe('DATABASE_CORRUPT');
    expect(data.message).toMatch(/start Hearth again/);
  });

  it('a write refused as read-only is DATA_DIR_READ_ONLY', () => {
    const dir = tempDir();
    cleanups.push(dir.cleanup);
    const file = join(dir.path, 'hearth.db');
    new BetterSqlite3(file).exec('CREATE TABLE t (x)').close();
    const db = new BetterSqlite3(file, { readonly: true });
    cleanups.push(() => db.close());
    const data = toErrorData(thrownBy(() => db.prepare('INSERT INTO t VALUES (1)').run()));
    expect(data.code).toBe('DATA_DIR_READ_ONLY');
  });

  it('anything else stays INTERNAL', () => {
    expect(toErrorData(new Error('boom'))).toEqual({ code: 'INTERNAL', message: 'boom' });
  });
});
