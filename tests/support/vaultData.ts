import { connect } from '@lancedb/lancedb';
import BetterSqlite3 from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import type { Core } from '../../src-main/core/createCore';
import { testModelPath } from './testModels';

/**
 * Fills a core's data directory the way a heavy user's looks: a long chat history (about
 * 12 MB of messages across 40 chats), a model copied into the models folder, settings.
 * Returns the thread ids.
 */
export async function seedUserData(core: Core, options: { threads?: number; messagesPerThread?: number } = {}): Promise<string[]> {
  const threads = options.threads ?? 40;
  const perThread = options.messagesPerThread ?? 200;
  await core.models.import(await testModelPath('tinyRandom'), true);
  core.settings.update({ temperature: 0.3, maxReplyTokens: 321 });
  const ids: string[] = [];
  const insert = core.db.prepare(
    `INSERT INTO messages (id, thread_id, seq, role, content, status, model_name, created_at)
     VALUES (?, ?, ?, ?, ?, 'complete', 'stories260K', ?)`,
  );
  for (let t = 0; t < threads; t++) {
    const thread = core.chat.createThread(`Chat ${t}`);
    ids.push(thread.id);
    core.db.transaction(() => {
      for (let m = 0; m < perThread; m++) {
        // Base64 of random bytes: text that does not compress, like real prose in bulk.
        const content = `Message ${m} of chat ${t}: ${randomBytes(1100).toString('base64')}`;
        insert.run(`msg_${t}_${m}`, thread.id, m + 1, m % 2 === 0 ? 'user' : 'assistant', content, Date.now());
      }
    })();
  }
  return ids;
}

/** Every row of every table, in a stable order: two databases with equal dumps hold the same data. */
export function dumpSqlite(file: string): Record<string, unknown[]> {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as { name: string }[];
    const out: Record<string, unknown[]> = {};
    for (const { name } of tables) {
      const quoted = `"${name.replaceAll('"', '""')}"`;
      const columns = (db.prepare(`SELECT * FROM ${quoted} LIMIT 0`).columns() as { name: string }[]).map((_, i) => i + 1);
      const order = columns.length > 0 ? ` ORDER BY ${columns.join(', ')}` : '';
      out[name] = db.prepare(`SELECT * FROM ${quoted}${order}`).raw().all();
    }
    return out;
  } finally {
    db.close();
  }
}

/** Every row of every LanceDB table under dir (vectors included), sorted by id. */
export async function dumpLance(dir: string): Promise<Record<string, unknown[]>> {
  if (!existsSync(dir)) return {};
  const db = await connect(dir);
  try {
    const out: Record<string, unknown[]> = {};
    for (const name of await db.tableNames()) {
      const table = await db.openTable(name);
      const rows = (await table.query().toArray()) as Record<string, unknown>[];
      out[name] = rows
        .map((row) => JSON.parse(JSON.stringify(row, (_k, v: unknown) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array) : v))) as Record<string, unknown>)
        .sort((a, b) => String(a.id).localeCompare(String(b.id)));
      table.close();
    }
    return out;
  } finally {
    db.close();
  }
}

/** Rows and a digest of every row, per table: equal digests mean equal rows (cheap to compare in bulk). */
export function sqliteDigest(file: string): Record<string, { rows: number; sha256: string }> {
  return Object.fromEntries(
    Object.entries(dumpSqlite(file)).map(([table, rows]) => [table, { rows: rows.length, sha256: digest(JSON.stringify(rows, bigintSafe)) }]),
  );
}

const bigintSafe = (_key: string, value: unknown) => (typeof value === 'bigint' ? value.toString() : Buffer.isBuffer(value) ? value.toString('base64') : value);
const digest = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

/** Every regular file under dir (absolute paths), sorted. */
export function readTreeFiles(dir: string): string[] {
  const out: string[] = [];
  const visit = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.isFile()) out.push(full);
    }
  };
  if (existsSync(dir)) visit(dir);
  return out.sort();
}

/** Relative path -> sha256 of every file under dir. */
export function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const visit = (current: string) => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const full = join(current, entry.name);
      if (entry.isDirectory()) visit(full);
      else if (entry.isFile()) out.set(relative(dir, full).split(sep).join('/'), digest(readFileSync(full)));
    }
  };
  if (existsSync(dir)) visit(dir);
  return out;
}
