import { createHash } from 'node:crypto';
import type {
  Collection,
  DocumentCounts,
  DocumentFormatName,
  DocumentInfo,
  DocumentStatus,
  Source,
} from '#contract/dto';
import { isMember, DOCUMENT_REASON_CODES, type DocumentReasonCode, type SourceKind } from '#contract/vocabulary';
import type { z } from 'zod';
import { newId } from '../common/ids';
import { createConsoleLogger, type Logger } from '../common/logger';
import type { Db } from './database';
import { StoredJsonReader } from './storedJson';

export interface SourceRow {
  id: string;
  collectionId: string;
  path: string;
  kind: SourceKind;
  addedAt: number;
  lastScanAt: number | null;
}

export interface DocumentRow {
  id: string;
  sourceId: string;
  collectionId: string;
  path: string;
  format: DocumentFormatName | null;
  sizeBytes: number;
  mtimeMs: number;
  contentHash: string | null;
  status: DocumentStatus;
  reasonCode: DocumentReasonCode | null;
  reason: string | null;
  chunkCount: number;
  title: string | null;
  pageCount: number | null;
  indexKey: string | null;
  updatedAt: number;
}

interface RawDocument {
  id: string;
  source_id: string;
  collection_id: string;
  path: string;
  format: DocumentFormatName | null;
  size_bytes: number;
  mtime_ms: number;
  content_hash: string | null;
  status: DocumentStatus;
  reason_code: string | null;
  reason: string | null;
  chunk_count: number;
  title: string | null;
  page_count: number | null;
  index_key: string | null;
  updated_at: number;
}

const documentFromRaw = (r: RawDocument): DocumentRow => ({
  id: r.id,
  sourceId: r.source_id,
  collectionId: r.collection_id,
  path: r.path,
  format: r.format,
  sizeBytes: r.size_bytes,
  mtimeMs: r.mtime_ms,
  contentHash: r.content_hash,
  status: r.status,
  // A code this version does not know (written by a newer one) reads as none; the reason's sentence stays.
  reasonCode: isMember(DOCUMENT_REASON_CODES, r.reason_code) ? r.reason_code : null,
  reason: r.reason,
  chunkCount: r.chunk_count,
  title: r.title,
  pageCount: r.page_count,
  indexKey: r.index_key,
  updatedAt: r.updated_at,
});

export const toDocumentInfo = ({ mtimeMs: _m, contentHash: _h, indexKey: _k, ...info }: DocumentRow): DocumentInfo => info;

const DOCUMENT_SELECT = `SELECT d.*, s.collection_id FROM documents d JOIN sources s ON s.id = d.source_id`;

/**
 * A document's id is derived from its source and path, so the same file always maps to the
 * same id (and so to the same chunk ids in LanceDB), across rescans and crashes.
 */
export function documentId(sourceId: string, path: string): string {
  return `doc_${createHash('sha256').update(`${sourceId}\0${path}`).digest('hex').slice(0, 24)}`;
}

/** Collections, their sources, and every document seen under them, with content hashes. */
export class LibraryRepository {
  private readonly stored: StoredJsonReader;

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
    logger: Logger = createConsoleLogger('warn'),
  ) {
    this.stored = new StoredJsonReader(logger);
  }

  // ---- collections ----

  collections(): Collection[] {
    return this.db
      .prepare(
        `SELECT c.id, c.name, c.created_at AS createdAt,
                (SELECT COUNT(*) FROM sources s WHERE s.collection_id = c.id) AS sourceCount,
                (SELECT COUNT(*) FROM documents d JOIN sources s ON s.id = d.source_id WHERE s.collection_id = c.id) AS documentCount,
                (SELECT COALESCE(SUM(d.chunk_count), 0) FROM documents d JOIN sources s ON s.id = d.source_id
                  WHERE s.collection_id = c.id AND d.status = 'indexed') AS chunkCount
         FROM collections c ORDER BY c.name COLLATE NOCASE`,
      )
      .all() as Collection[];
  }

  collection(id: string): Collection | undefined {
    return this.collections().find((c) => c.id === id);
  }

  /** A collection by its name (any case) or id. */
  findCollection(nameOrId: string): Collection | null {
    const wanted = nameOrId.toLowerCase();
    return this.collections().find((c) => c.name.toLowerCase() === wanted || c.id === nameOrId) ?? null;
  }

  collectionByName(name: string): Collection | undefined {
    const row = this.db.prepare('SELECT id FROM collections WHERE name = ? COLLATE NOCASE').get(name) as { id: string } | undefined;
    return row && this.collection(row.id);
  }

  createCollection(name: string): string {
    const id = newId('col');
    this.db.prepare('INSERT INTO collections (id, name, created_at) VALUES (?, ?, ?)').run(id, name, this.now());
    return id;
  }

  renameCollection(id: string, name: string): void {
    this.db.prepare('UPDATE collections SET name = ? WHERE id = ?').run(name, id);
  }

  deleteCollection(id: string): void {
    this.db.prepare('DELETE FROM collections WHERE id = ?').run(id);
  }

  // ---- sources ----

  sources(collectionId?: string): SourceRow[] {
    const sql = `SELECT id, collection_id AS collectionId, path, kind, added_at AS addedAt, last_scan_at AS lastScanAt
                 FROM sources ${collectionId ? 'WHERE collection_id = ?' : ''} ORDER BY added_at, rowid`;
    return (collectionId ? this.db.prepare(sql).all(collectionId) : this.db.prepare(sql).all()) as SourceRow[];
  }

  source(id: string): SourceRow | undefined {
    return this.db
      .prepare(
        `SELECT id, collection_id AS collectionId, path, kind, added_at AS addedAt, last_scan_at AS lastScanAt
         FROM sources WHERE id = ?`,
      )
      .get(id) as SourceRow | undefined;
  }

  sourceByPath(collectionId: string, path: string): SourceRow | undefined {
    const row = this.db.prepare('SELECT id FROM sources WHERE collection_id = ? AND path = ?').get(collectionId, path) as
      | { id: string }
      | undefined;
    return row && this.source(row.id);
  }

  addSource(collectionId: string, path: string, kind: SourceKind): SourceRow {
    const id = newId('src');
    this.db
      .prepare('INSERT INTO sources (id, collection_id, path, kind, added_at) VALUES (?, ?, ?, ?, ?)')
      .run(id, collectionId, path, kind, this.now());
    return this.source(id)!;
  }

  removeSource(id: string): void {
    this.db.prepare('DELETE FROM sources WHERE id = ?').run(id);
  }

  markScanned(sourceId: string): void {
    this.db.prepare('UPDATE sources SET last_scan_at = ? WHERE id = ?').run(this.now(), sourceId);
  }

  counts(filter: { sourceId?: string; collectionId?: string } = {}): DocumentCounts {
    const where = filter.sourceId ? 'WHERE d.source_id = ?' : filter.collectionId ? 'WHERE s.collection_id = ?' : '';
    const args = filter.sourceId ? [filter.sourceId] : filter.collectionId ? [filter.collectionId] : [];
    const rows = this.db
      .prepare(`SELECT d.status, COUNT(*) AS n FROM documents d JOIN sources s ON s.id = d.source_id ${where} GROUP BY d.status`)
      .all(...args) as { status: DocumentStatus; n: number }[];
    const counts: DocumentCounts = { pending: 0, indexed: 0, skipped: 0, failed: 0 };
    for (const row of rows) counts[row.status] = row.n;
    return counts;
  }

  toSource(row: SourceRow, watching: boolean): Source {
    return { ...row, watching, counts: this.counts({ sourceId: row.id }) };
  }

  // ---- documents ----

  documents(filter: { sourceId?: string; collectionId?: string; status?: DocumentStatus } = {}): DocumentRow[] {
    const clauses: string[] = [];
    const args: string[] = [];
    if (filter.sourceId) {
      clauses.push('d.source_id = ?');
      args.push(filter.sourceId);
    }
    if (filter.collectionId) {
      clauses.push('s.collection_id = ?');
      args.push(filter.collectionId);
    }
    if (filter.status) {
      clauses.push('d.status = ?');
      args.push(filter.status);
    }
    const where = clauses.length ? `WHERE ${clauses.join(' AND ')}` : '';
    return (this.db.prepare(`${DOCUMENT_SELECT} ${where} ORDER BY d.path`).all(...args) as RawDocument[]).map(documentFromRaw);
  }

  document(id: string): DocumentRow | undefined {
    const row = this.db.prepare(`${DOCUMENT_SELECT} WHERE d.id = ?`).get(id) as RawDocument | undefined;
    return row && documentFromRaw(row);
  }

  /** Documents that still need work for the given index: new, changed, or indexed for another model. */
  pendingWork(indexKey: string, sourceIds?: readonly string[]): DocumentRow[] {
    const rows = (
      this.db
        .prepare(`${DOCUMENT_SELECT} WHERE d.status = 'pending' OR (d.status = 'indexed' AND d.index_key IS NOT ?) ORDER BY d.path`)
        .all(indexKey) as RawDocument[]
    ).map(documentFromRaw);
    return sourceIds ? rows.filter((r) => sourceIds.includes(r.sourceId)) : rows;
  }

  /** Records a file seen by a scan: new files and changed ones become pending. */
  upsertSeen(doc: {
    sourceId: string;
    path: string;
    format: DocumentFormatName | null;
    sizeBytes: number;
    mtimeMs: number;
  }): DocumentRow {
    const id = documentId(doc.sourceId, doc.path);
    this.db
      .prepare(
        `INSERT INTO documents (id, source_id, path, format, size_bytes, mtime_ms, status, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, 'pending', ?)
         ON CONFLICT (id) DO UPDATE SET size_bytes = excluded.size_bytes, mtime_ms = excluded.mtime_ms,
           format = excluded.format, status = 'pending', updated_at = excluded.updated_at`,
      )
      .run(id, doc.sourceId, doc.path, doc.format, doc.sizeBytes, doc.mtimeMs, this.now());
    return this.document(id)!;
  }

  /** A scan found the file unchanged by content although its time stamp moved: keep its state. */
  touch(id: string, sizeBytes: number, mtimeMs: number): void {
    this.db.prepare('UPDATE documents SET size_bytes = ?, mtime_ms = ? WHERE id = ?').run(sizeBytes, mtimeMs, id);
  }

  /** Recorded after its chunks are in LanceDB (the order that makes a crash recoverable). */
  markIndexed(
    id: string,
    result: { contentHash: string; chunkCount: number; title: string | null; pageCount: number | null; indexKey: string; reason?: string | null },
  ): void {
    this.db
      .prepare(
        `UPDATE documents SET status = 'indexed', content_hash = ?, chunk_count = ?, title = ?, page_count = ?, index_key = ?,
           reason_code = NULL, reason = ?, updated_at = ? WHERE id = ?`,
      )
      .run(result.contentHash, result.chunkCount, result.title, result.pageCount, result.indexKey, result.reason ?? null, this.now(), id);
  }

  markProblem(id: string, status: Extract<DocumentStatus, 'skipped' | 'failed'>, problem: { code: DocumentReasonCode; message: string }, contentHash: string | null): void {
    this.db
      .prepare(
        `UPDATE documents SET status = ?, reason_code = ?, reason = ?, content_hash = ?, chunk_count = 0, index_key = NULL,
           updated_at = ? WHERE id = ?`,
      )
      .run(status, problem.code, problem.message, contentHash, this.now(), id);
  }

  /** Back to pending, e.g. when reconciling finds its chunks missing from the index. */
  markPending(id: string): void {
    this.db.prepare(`UPDATE documents SET status = 'pending', updated_at = ? WHERE id = ?`).run(this.now(), id);
  }

  /**
   * Scanned PDFs and images skipped for want of OCR, back to pending, so the next run reads them
   * (OCR was just turned on). Images skipped before Hearth knew them as a format count too.
   * Returns how many.
   */
  markScansPending(): number {
    return this.db
      .prepare(
        `UPDATE documents SET status = 'pending', updated_at = ?
         WHERE status = 'skipped' AND (reason_code = 'NO_TEXT' OR (reason_code = 'UNSUPPORTED'
           AND (format = 'image' OR lower(path) LIKE '%.png' OR lower(path) LIKE '%.jpg' OR lower(path) LIKE '%.jpeg')))`,
      )
      .run(this.now()).changes;
  }

  removeDocuments(ids: readonly string[]): void {
    const stmt = this.db.prepare('DELETE FROM documents WHERE id = ?');
    this.db.transaction(() => {
      for (const id of ids) stmt.run(id);
    })();
  }

  allDocumentIds(): Set<string> {
    return new Set((this.db.prepare('SELECT id FROM documents').all() as { id: string }[]).map((r) => r.id));
  }

  totalChunks(indexKey: string): number {
    const row = this.db
      .prepare(`SELECT COALESCE(SUM(chunk_count), 0) AS n FROM documents WHERE status = 'indexed' AND index_key = ?`)
      .get(indexKey) as { n: number };
    return row.n;
  }

  /**
   * Small internal state (e.g. which index table searches use), kept beside the settings.
   * Fallback: a value that is not JSON or not of the schema's shape reads as never set (null),
   * with a warning; `ifUnreadable` says in the log what that means for its owner.
   */
  getState<T>(key: string, schema: z.ZodType<T>, ifUnreadable: string): T | null {
    const row = this.db.prepare('SELECT value FROM settings WHERE key = ?').get(key) as { value: string } | undefined;
    return row ? this.stored.read(schema, row.value, `The stored state "${key}"`, null, ifUnreadable) : null;
  }

  setState(key: string, value: unknown): void {
    this.db
      .prepare('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(key, JSON.stringify(value));
  }

  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }
}
