import { randomBytes } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { integrityProblems, openDatabase, pageProblems } from '../../src-main/core/storage/database';
import { tempDir } from '../support/tempDir';

/**
 * A snapshot checks its copy of hearth.db with pageProblems (quick_check table by table, without
 * FTS5's own index check). Each kind of damaged page a whole-file quick_check finds, it finds too.
 */
describe('pageProblems: the page checks of quick_check, table by table', () => {
  let dir: ReturnType<typeof tempDir>;
  let file: string;
  beforeEach(() => {
    dir = tempDir();
    file = join(dir.path, 'hearth.db');
    const db = openDatabase(file);
    db.prepare("INSERT INTO threads (id, title, created_at, updated_at) VALUES ('t', 'thread', 0, 0)").run();
    const insert = db.prepare("INSERT INTO messages (id, thread_id, seq, role, content, status, created_at) VALUES (?, 't', ?, 'user', ?, 'complete', 0)");
    db.transaction(() => {
      for (let i = 0; i < 1500; i++) insert.run(`m${i}`, i, `${randomBytes(600).toString('base64')} word${i % 50}`);
    })();
    // Half the messages gone: their pages go to the free list.
    db.prepare('DELETE FROM messages WHERE seq % 2 = 1').run();
    expect(db.pragma('freelist_count', { simple: true })).toBeGreaterThan(10);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  });
  afterEach(() => dir.cleanup());

  const check = () => {
    const db = new BetterSqlite3(file, { readonly: true });
    try {
      let whole: string[];
      try {
        whole = integrityProblems(db);
      } catch (error) {
        // The whole-file check can fail outright on a damaged page (the snapshot then failed as DATABASE_CORRUPT too).
        expect((error as { code?: string }).code).toMatch(/^SQLITE_CORRUPT/);
        whole = [(error as Error).message];
      }
      return { pages: pageProblems(db), whole };
    } finally {
      db.close();
    }
  };
  /** Overwrites page `page` (1-based) with random bytes. */
  const damage = (page: number) => {
    const pageSize = readFileSync(file).readUInt16BE(16);
    const fd = openSync(file, 'r+');
    writeSync(fd, randomBytes(pageSize), 0, pageSize, pageSize * (page - 1));
    closeSync(fd);
  };
  const pagesOf = (name: string) => {
    const db = new BetterSqlite3(file, { readonly: true });
    try {
      return (db.prepare('SELECT pageno FROM dbstat WHERE name = ? ORDER BY pageno').pluck().all(name) as number[]);
    } finally {
      db.close();
    }
  };

  it('a sound file: nothing', () => {
    expect(check()).toEqual({ pages: [], whole: [] });
  });

  it.each([
    ['a page of an index of messages', 'sqlite_autoindex_messages_2'],
    ['a page of the messages table', 'messages'],
    ["a page of the full-text index's own table", 'messages_fts_data'],
    ['a page of the schema', 'sqlite_schema'],
  ])('%s', (_what, name) => {
    const pages = pagesOf(name);
    expect(pages.length).toBeGreaterThan(0);
    damage(pages[Math.floor(pages.length / 2)]!);
    const found = check();
    expect(found.whole.length).toBeGreaterThan(0);
    expect(found.pages.length).toBeGreaterThan(0);
  });

  it('the first page of the free list', () => {
    const trunk = readFileSync(file).readUInt32BE(32);
    expect(trunk).toBeGreaterThan(1);
    damage(trunk);
    const found = check();
    expect(found.whole.join('\n')).toMatch(/Freelist/);
    expect(found.pages.join('\n')).toMatch(/Freelist/);
  });
});
