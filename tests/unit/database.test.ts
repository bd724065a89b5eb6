import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { migrations } from '../../src-main/core/storage/migrations';
import { openDatabase } from '../../src-main/core/storage/database';
import { SettingsRepository, DEFAULT_SETTINGS } from '../../src-main/core/storage/settingsRepository';
import { ThreadRepository } from '../../src-main/core/storage/threadRepository';
import { tempDir } from '../support/tempDir';

describe('SQLite storage', () => {
  let dir: ReturnType<typeof tempDir>;
  let file: string;
  beforeEach(() => {
    dir = tempDir();
    file = join(dir.path, 'hearth.db');
  });
  afterEach(() => dir.cleanup());

  it('creates the schema at the latest version, in WAL mode with foreign keys on', () => {
    const db = openDatabase(file);
    expect(db.pragma('user_version', { simple: true })).toBe(migrations.length);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    expect(tables).toEqual(expect.arrayContaining(['settings', 'models', 'threads', 'messages', 'messages_fts', 'jobs']));
    db.close();
  });

  it('reopening applies nothing twice and keeps data', () => {
    const db = openDatabase(file);
    new SettingsRepository(db).update({ temperature: 0.2 });
    db.close();
    const again = openDatabase(file);
    expect(new SettingsRepository(again).get()).toEqual({ ...DEFAULT_SETTINGS, temperature: 0.2 });
    again.close();
  });

  it('refuses a database written by a newer version instead of corrupting it', () => {
    const raw = new BetterSqlite3(file);
    raw.pragma(`user_version = ${migrations.length + 1}`);
    raw.close();
    expect(() => openDatabase(file)).toThrow(/newer Hearth/);
  });

  it('a failing migration leaves the previous version intact (each runs in a transaction)', () => {
    const raw = new BetterSqlite3(file);
    raw.exec('CREATE TABLE settings (x)'); // collides with migration 1
    raw.close();
    expect(() => openDatabase(file)).toThrow();
    const check = new BetterSqlite3(file);
    expect(check.pragma('user_version', { simple: true })).toBe(0);
    expect(check.prepare("SELECT COUNT(*) AS n FROM sqlite_master WHERE name = 'threads'").get()).toEqual({ n: 0 });
    check.close();
  });

  it('opens another file with its own schema the same way (the vault keeps vault.db): WAL, foreign keys, its migrations only', () => {
    const other = join(dir.path, 'other.db');
    const own = ['CREATE TABLE a (id TEXT PRIMARY KEY);', 'CREATE TABLE b (a_id TEXT NOT NULL REFERENCES a (id));'];
    const db = openDatabase(other, { migrations: own });
    expect(db.pragma('user_version', { simple: true })).toBe(2);
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(() => db.prepare("INSERT INTO b (a_id) VALUES ('missing')").run()).toThrow(/FOREIGN KEY/);
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map((t) => t.name);
    expect(tables.sort()).toEqual(['a', 'b']);
    db.close();
    // One migration fewer than the file has: written by a newer build.
    expect(() => openDatabase(other, { migrations: own.slice(0, 1) })).toThrow(/newer Hearth/);
  });

  it('messages are searchable with FTS5 and go with their thread', () => {
    const db = openDatabase(file);
    const threads = new ThreadRepository(db);
    const thread = threads.create('t', '');
    const message = threads.appendMessage(thread.id, { role: 'user', content: 'the quick brown fox', status: 'complete' });
    const search = () => db.prepare("SELECT rowid FROM messages_fts WHERE messages_fts MATCH 'brown'").all();
    expect(search()).toHaveLength(1);
    threads.setMessageContent(message.id, 'a lazy dog');
    expect(search()).toHaveLength(0);
    threads.delete(thread.id);
    expect(db.prepare('SELECT COUNT(*) AS n FROM messages').get()).toEqual({ n: 0 });
    db.close();
  });

  it('replies left streaming by a crash are closed as stopped, keeping their text', () => {
    const db = openDatabase(file);
    const threads = new ThreadRepository(db);
    const thread = threads.create('t', '');
    const reply = threads.appendMessage(thread.id, { role: 'assistant', content: '', status: 'streaming' });
    threads.setMessageContent(reply.id, 'partial');
    expect(threads.closeInterruptedMessages()).toBe(1);
    expect(threads.message(reply.id)).toMatchObject({ status: 'stopped', content: 'partial' });
    db.close();
  });

  it('ignores unknown settings keys rather than failing', () => {
    const db = openDatabase(file);
    db.prepare("INSERT INTO settings (key, value) VALUES ('fromTheFuture', '1')").run();
    expect(new SettingsRepository(db).get()).toEqual(DEFAULT_SETTINGS);
    db.close();
  });
});
