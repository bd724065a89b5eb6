import BetterSqlite3 from 'better-sqlite3';
import { copyFile, link, lstat, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { HearthError } from '../common/hearthError';
import type { ChunkStore } from '../search/chunkStore';
import { pageProblems } from '../storage/database';
import { corruptDatabase, databaseOpenError } from '../storage/databaseErrors';

/** A file as a snapshot stores it: where it goes in the snapshot, where to read it now. */
export interface CapturedFile {
  path: string;
  source: string;
  size: number;
  mode: number;
  /**
   * How the source relates to the live file, which decides what the files cache may trust:
   * 'copy' is made anew each time (the database backup: always read); 'link' is a hard link to
   * an immutable file (the index: our own linking changes its ctime, so size, mtime and inode
   * identify it); 'live' is read in place (models, documents: size, mtime, inode and ctime).
   */
  origin: CaptureOrigin;
}

export type CaptureOrigin = 'copy' | 'link' | 'live';

export interface Capture {
  files: CapturedFile[];
  counts: { sqlite: Record<string, number>; lance: Record<string, number> };
  /** Library files that vanished or could not be read while capturing (named, not fatal). */
  skipped: string[];
}

export interface CaptureOptions {
  dataDir: string;
  /** The open chunk store, so its writes pause while its files are linked; null when none is open. */
  store: ChunkStore | null;
  /** An empty folder on the data directory's file system (hard links need one file system). */
  stagingDir: string;
  includeModels: boolean;
  /** Source documents to include, or null to leave them out. */
  documents: { sourceId: string; sourceRoot: string; path: string }[] | null;
  sqliteNativeBinding?: string;
  signal?: AbortSignal;
}

/**
 * Captures the data directory consistently while the app keeps running: SQLite through its
 * online backup API (a transactionally consistent copy, even while chat writes), and each
 * LanceDB table as hard links to its immutable data files taken while its writes are paused,
 * manifests first, so every version listed has all its files. Models and documents are read
 * in place: models never change once downloaded; a document that changes mid-read shows up
 * as a different file hash in the next snapshot.
 *
 * Left out on purpose: vault/ (the keystore and the vault's own bookkeeping), downloads/
 * (partial files), and secrets.json + secret.key (tokens stay on the machine that holds them).
 */
export async function captureData(options: CaptureOptions): Promise<Capture> {
  const { stagingDir, signal } = options;
  await rm(stagingDir, { recursive: true, force: true });
  await mkdir(stagingDir, { recursive: true, mode: 0o700 });
  const files: CapturedFile[] = [];
  const skipped: string[] = [];

  const dbCopy = join(stagingDir, 'hearth.db');
  const liveDb = join(options.dataDir, 'hearth.db');
  // The live database's row counts at capture time: what the copy must hold when verifyCapture
  // counts it, right before the snapshot is recorded (one count of the copy, not two).
  let sqlite: Record<string, number>;
  try {
    sqlite = await copyDatabase(liveDb, dbCopy, options.sqliteNativeBinding);
    finishDatabaseCopy(liveDb, dbCopy, options.sqliteNativeBinding);
  } catch (error) {
    // A damaged page met while counting or copying: DATABASE_CORRUPT, with what to do.
    throw databaseOpenError(liveDb, error) ?? error;
  }
  files.push(await describe('hearth.db', dbCopy, 'copy'));
  signal?.throwIfAborted();

  const indexDir = join(options.dataDir, 'index');
  const stagedIndex = join(stagingDir, 'index');
  const lance: Record<string, number> = {};
  if (await exists(indexDir)) {
    const linkAll = async () => {
      for (const entry of await readdir(indexDir, { withFileTypes: true })) {
        if (entry.isDirectory()) await linkTable(join(indexDir, entry.name), join(stagedIndex, entry.name));
      }
    };
    if (options.store) await options.store.quiesced(linkAll);
    else await linkAll();
    Object.assign(lance, await countLanceRows(stagedIndex));
    for (const file of await walk(stagedIndex)) files.push(await describe(`index/${toPosix(relative(stagedIndex, file))}`, file, 'link'));
  }
  signal?.throwIfAborted();

  if (options.includeModels) {
    const modelsDir = join(options.dataDir, 'models');
    if (await exists(modelsDir)) {
      for (const file of await walk(modelsDir)) {
        if (file.endsWith('.part')) continue;
        files.push(await describe(`models/${toPosix(relative(modelsDir, file))}`, file, 'live'));
      }
    }
  }

  for (const doc of options.documents ?? []) {
    const rel = relative(doc.sourceRoot, doc.path);
    const inside = rel === '' ? doc.path.split(sep).pop()! : rel;
    if (inside.startsWith('..')) continue;
    try {
      files.push(await describe(`sources/${doc.sourceId}/${toPosix(inside)}`, doc.path, 'live'));
    } catch {
      skipped.push(doc.path);
    }
  }

  return { files, counts: { sqlite, lance }, skipped };
}

/**
 * The capture checks itself before the snapshot is recorded: every file still has the size it
 * had when captured (a staged copy deleted or truncated under the snapshot, a model rewritten),
 * and the copy of hearth.db still holds, table by table, the rows the live database held at
 * capture time. CAPTURE_DAMAGED otherwise, so a damaged capture is never recorded or published.
 */
export async function verifyCapture(capture: Capture, sqliteNativeBinding?: string): Promise<void> {
  for (const file of capture.files) {
    const size = await stat(file.source).then(
      (info) => info.size,
      () => null,
    );
    if (size !== file.size) throw captureChanged(file, size === null ? 'is gone' : `now has ${size} bytes`);
    if (file.path === 'hearth.db') {
      const copy = new BetterSqlite3(file.source, { readonly: true, ...(sqliteNativeBinding ? { nativeBinding: sqliteNativeBinding } : {}) });
      try {
        requireSameCounts(capture.counts.sqlite, countSqliteRows(copy), 'before recording');
      } finally {
        copy.close();
      }
    }
  }
}

/** CAPTURE_DAMAGED for a file whose bytes are not what the capture described. */
export function captureChanged(file: Pick<CapturedFile, 'path' | 'source' | 'size'>, now: string): HearthError {
  return new HearthError(
    'CAPTURE_DAMAGED',
    `The snapshot's capture of ${file.path} (${file.source}) had ${file.size} bytes and ${now}; nothing was recorded. Take the snapshot again.`,
  );
}

/**
 * Copies the live database with SQLite's online backup API from a connection of its own that
 * holds one read transaction throughout: the row counts taken in it and the copy are of the
 * same instant, whatever other connections (chat, another process) write meanwhile.
 */
async function copyDatabase(source: string, copy: string, nativeBinding?: string): Promise<Record<string, number>> {
  const live = new BetterSqlite3(source, { readonly: true, fileMustExist: true, ...(nativeBinding ? { nativeBinding } : {}) });
  try {
    live.prepare('BEGIN').run();
    const counts = countSqliteRows(live);
    await live.backup(copy);
    live.prepare('COMMIT').run();
    return counts;
  } finally {
    live.close();
  }
}

function requireSameCounts(expected: Record<string, number>, copied: Record<string, number>, when: string): void {
  const tables = new Set([...Object.keys(expected), ...Object.keys(copied)]);
  for (const table of [...tables].sort()) {
    if (expected[table] !== copied[table]) {
      throw new HearthError(
        'CAPTURE_DAMAGED',
        `The snapshot's copy of hearth.db does not match the live database ${when}: table ${table} holds ${copied[table] ?? 'no table'} rows in the copy and ${expected[table] ?? 'no table'} live; nothing was recorded. Take the snapshot again.`,
      );
    }
  }
}

/**
 * The backup keeps the live file's WAL flag; switching the copy to a rollback journal makes
 * it one self-contained file (no -wal beside it) and the bytes the same for unchanged data.
 * Then every b-tree page and the free list of the copy are checked (pageProblems: quick_check
 * table by table): the backup copies every page as it is, so this finds the damaged pages a
 * quick_check of the live file would (the CLI's vault commands skip that one at open), in the
 * very bytes the snapshot seals. DATABASE_CORRUPT naming the live file otherwise. FTS5's own
 * index check (the costliest part of a whole-file quick_check) is left to the app's check at start.
 */
function finishDatabaseCopy(liveFile: string, file: string, nativeBinding?: string): void {
  const copy = new BetterSqlite3(file, nativeBinding ? { nativeBinding } : {});
  try {
    // A staging file: what the snapshot keeps is the sealed blocks, fsynced before it is recorded.
    copy.pragma('synchronous = OFF');
    copy.pragma('journal_mode = DELETE');
    const problems = pageProblems(copy);
    if (problems.length > 0) throw corruptDatabase(liveFile, `found in the snapshot's copy of it: ${problems.join('; ')}`);
  } finally {
    copy.close();
  }
}

/**
 * The row count of every table that stores rows (each FTS5 table's shadow tables included), by
 * name. A virtual table is left out unless `only` names it: the full-text table reads its
 * rows from the messages table (external content), so its count is that table's, counted
 * again by reading every message (~15 ms for 30 MB). `only`: count just these tables, the
 * ones an older snapshot's manifest recorded (which counted the full-text table too).
 */
export function countSqliteRows(db: BetterSqlite3.Database, only?: ReadonlySet<string>): Record<string, number> {
  const tables = db
    .prepare("SELECT name, rootpage FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as { name: string; rootpage: number }[];
  const counts: Record<string, number> = {};
  for (const { name, rootpage } of tables) {
    if (only ? !only.has(name) : rootpage === 0) continue;
    counts[name] = (db.prepare(`SELECT COUNT(*) AS n FROM "${name.replaceAll('"', '""')}"`).get() as { n: number }).n;
  }
  return counts;
}

export async function countLanceRows(dir: string): Promise<Record<string, number>> {
  if (!(await exists(dir))) return {};
  // Loaded here, when there is an index to count: a data directory without one never loads LanceDB.
  const { connect } = await import('@lancedb/lancedb');
  const db = await connect(dir);
  try {
    const counts: Record<string, number> = {};
    for (const name of await db.tableNames()) {
      const table = await db.openTable(name);
      try {
        counts[name] = await table.countRows();
      } finally {
        table.close();
      }
    }
    return counts;
  } catch (error) {
    throw new HearthError('INDEX_ERROR', `The copy of the document index in ${dir} does not open: ${(error as Error).message}`, { cause: error });
  } finally {
    db.close();
  }
}

/** Version manifests are listed before the data files, so every listed version finds its files. */
async function linkTable(from: string, to: string): Promise<void> {
  const versionsDir = join(from, '_versions');
  const manifests = (await exists(versionsDir)) ? await readdir(versionsDir) : [];
  const rest = (await walk(from)).filter((file) => dirname(file) !== versionsDir);
  for (const name of manifests) await linkOrCopy(join(versionsDir, name), join(to, '_versions', name));
  for (const file of rest) await linkOrCopy(file, join(to, relative(from, file)));
}

async function linkOrCopy(from: string, to: string): Promise<void> {
  await mkdir(dirname(to), { recursive: true });
  try {
    await link(from, to);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return; // removed by a cleanup of old versions after it was listed
    if (code !== 'EXDEV' && code !== 'EPERM' && code !== 'ENOTSUP') throw error;
    await copyFile(from, to);
  }
}

async function describe(path: string, source: string, origin: CaptureOrigin): Promise<CapturedFile> {
  const info = await stat(source);
  return { path, source, size: info.size, mode: info.mode & 0o777, origin };
}

/** Regular files under dir, sorted, so snapshots list files in a stable order. */
export async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await walk(full)));
    else if (entry.isFile()) out.push(full);
  }
  return out.sort();
}

async function exists(path: string): Promise<boolean> {
  try {
    await lstat(path);
    return true;
  } catch {
    return false;
  }
}

const toPosix = (p: string) => p.split(sep).join('/');
