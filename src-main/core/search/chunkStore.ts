import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { connect, MatchQuery, Operator, type Connection, type Table } from '@lancedb/lancedb';
import { KeyedSequencer } from '../common/async';
import { HearthError } from '../common/hearthError';
import { lanceWriteError } from './lanceErrors';
import { arrow, type ArrowTable } from './arrow';
import { byScore, column, readNumbers, readRecords, scored, scoredPassages, toArrow, type ChunkHit, type ChunkScore, type PassageScore } from './chunkArrow';
import { ftsRanks, keepFtsRanked, refreshTableIndexes, type RefreshResult } from './chunkIndexes';
import { chunksById, countByDocument, IN_BATCH, vectorsByTextHash } from './chunkReads';
import { checkLimit, checkRows, checkTableName, checkVector, chunkFields, chunkSchema, describeFields, legacyChunkFields, MAX_DIMENSION, RECORD_COLUMNS, SEARCH_TEXT } from './chunkSchema';
import { ChunkTableMismatchError, type ChunkRow, type StoredChunk, type TableInfo, type TableSpec } from './chunkSchema';
import { buildWhere, sqlIn, type SearchFilter } from './sqlFilter';

export type { ChunkHit, ChunkScore, PassageScore } from './chunkArrow';
export type { RefreshResult } from './chunkIndexes';
export { ChunkTableMismatchError, chunkSchema, chunkTableName, type ChunkRow, type StoredChunk, type TableInfo, type TableSpec } from './chunkSchema';

const { DataType } = arrow;

/**
 * The chunk store: one LanceDB table per embedding model and dimension, with an explicit
 * Arrow schema, per-document replacement in one `mergeInsert` commit, BM25 full-text search
 * and cosine vector search. Fusion of the two lives in hybridSearch.ts.
 *
 * Freshness contract (measured on @lancedb/lancedb 0.37.1):
 * - Vector search always scans rows the vector index does not cover yet, so new rows are
 *   found as soon as a write resolves.
 * - Full-text search also scans unindexed rows, but only ranks them correctly when the FTS
 *   index holds at least one live row: with no index, or an index whose rows were all deleted,
 *   LanceDB returns matches unsorted and `limit` keeps arbitrary ones. So every write ends by
 *   (re)building the FTS index when it covers no live row (cheap: that only happens while a
 *   table is small), and `searchText` ranks in JS when it finds an index in that state (a
 *   crash between the two steps, or another writer).
 * - `refreshIndexes` is the caller's job after a batch of writes (an indexing job's end): it
 *   compacts fragments, folds new rows into the indexes and builds the vector index once the
 *   table is big enough. Until then search stays correct, only slower on unindexed rows.
 *
 * Write cost: a `replaceDocuments` that leaves stale rows to delete joins against the whole
 * table (~100-150 ms at 100k rows on 2 cores, growing linearly); one that only upserts takes
 * ~20 ms. Indexing jobs should pass many documents per call rather than one.
 */

export interface SearchOptions {
  limit: number;
  filter?: SearchFilter;
}

export interface ReplaceResult {
  inserted: number;
  updated: number;
  deleted: number;
}

export interface ChunkStoreOptions {
  /**
   * Rows from which `refreshIndexes` builds a vector index. Below it a flat scan is exact and
   * takes a few milliseconds, and an ANN index would only cost recall.
   */
  vectorIndexThreshold?: number;
  /**
   * How stale a read may be with respect to other processes' writes (the CLI and the app share
   * one library). 0, the default, checks on every read; undefined never checks.
   */
  readConsistencySeconds?: number | null;
}

export const DEFAULT_VECTOR_INDEX_THRESHOLD = 10_000;

// --- the store ----------------------------------------------------------------------------

interface Handle {
  table: Table;
  dimension: number;
  /** What full-text search reads: `search_text`, or `text` in a table from before that column. */
  textColumn: string;
}

export class ChunkStore {
  private readonly handles = new Map<string, Promise<Handle>>();
  private readonly writes = new KeyedSequencer<string>();
  private closed = false;

  private constructor(
    private readonly db: Connection,
    private readonly vectorIndexThreshold: number,
    /** The LanceDB folder (index/ in the data directory). */
    readonly dir: string,
  ) {}

  /** Opens (creating if needed) the LanceDB database in `dir`. */
  static async open(dir: string, options: ChunkStoreOptions = {}): Promise<ChunkStore> {
    const consistency = options.readConsistencySeconds === undefined ? 0 : options.readConsistencySeconds;
    const db = await (async () => {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      return connect(dir, consistency === null ? {} : { readConsistencyInterval: consistency });
    })().catch((error: unknown) => Promise.reject(lanceWriteError(error, dir)));
    const threshold = options.vectorIndexThreshold ?? DEFAULT_VECTOR_INDEX_THRESHOLD;
    if (!Number.isInteger(threshold) || threshold < 1) throw new HearthError('BAD_INPUT', 'vectorIndexThreshold must be a positive integer');
    return new ChunkStore(db, threshold, dir);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const handle of this.handles.values()) handle.then((h) => h.table.close()).catch(() => undefined);
    this.handles.clear();
    this.db.close();
  }

  // --- tables ---

  async listTables(): Promise<string[]> {
    this.checkOpen();
    return this.db.tableNames();
  }

  /**
   * Runs fn while no write to any existing table is in flight and none starts: every table's
   * write queue waits for it. A snapshot links the table files meanwhile (milliseconds), so
   * it sees one committed version of each table, never half of a write.
   */
  async quiesced<T>(fn: (tables: string[]) => Promise<T>): Promise<T> {
    const tables = await this.listTables();
    const hold = (i: number): Promise<T> => (i === tables.length ? fn(tables) : this.exclusive(tables[i]!, () => hold(i + 1)));
    return hold(0);
  }

  /**
   * Whether the table's folder is on disk: false once index/ (or the table in it) was deleted
   * or moved under a running Hearth, which LanceDB itself only reports as raw I/O errors.
   */
  hasTable(name: string): boolean {
    checkTableName(name);
    return existsSync(join(this.dir, `${name}.lance`));
  }

  /** Creates the table if it is missing; an existing one must match the model and dimension. */
  async ensureTable(name: string, spec: TableSpec): Promise<TableInfo> {
    checkTableName(name);
    // index/ itself may have been deleted since open (a rebuild then starts from nothing).
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (!Number.isInteger(spec.dimension) || spec.dimension < 1 || spec.dimension > MAX_DIMENSION) {
      throw new HearthError('BAD_INPUT', `Invalid embedding dimension ${spec.dimension}`);
    }
    return this.exclusive(name, async () => {
      if (!(await this.exists(name))) {
        // existOk: another process may create it between the check and here.
        const table = await this.db.createEmptyTable(name, chunkSchema(spec), { mode: 'create', existOk: true });
        table.close();
      }
      const info = await this.tableInfo(name);
      if (!info) throw new HearthError('INTERNAL', `Chunk table ${name} vanished after creation`);
      const { table } = await this.handle(name);
      const expected = describeFields(chunkFields(spec.dimension));
      let actual = describeFields((await table.schema()).fields);
      if (actual === describeFields(legacyChunkFields(spec.dimension))) {
        // A table from before chunks could wait for their vectors: relax the column, keep the rows.
        await table.alterColumns([{ path: 'vector', nullable: true }]);
        actual = describeFields((await table.schema()).fields);
      }
      if (actual !== expected || info.dimension !== spec.dimension || info.modelId !== spec.modelId) {
        throw new ChunkTableMismatchError(name, spec, {
          dimension: info.dimension,
          modelId: info.modelId,
          schema: actual !== expected && info.dimension === spec.dimension ? actual : null,
        });
      }
      return info;
    });
  }

  /** The model recorded with a table and its row count, or null when there is no such table. */
  async tableInfo(name: string): Promise<TableInfo | null> {
    checkTableName(name);
    if (!(await this.exists(name))) return null;
    const { table, dimension } = await this.handle(name);
    const metadata = (await table.schema()).metadata;
    return {
      dimension,
      modelId: metadata.get('model_id') ?? '',
      modelName: metadata.get('model_name') ?? '',
      rows: await table.countRows(),
    };
  }

  async dropTable(name: string): Promise<void> {
    checkTableName(name);
    await this.exclusive(name, async () => {
      const handle = this.handles.get(name);
      this.handles.delete(name);
      if (handle) await handle.then((h) => h.table.close()).catch(() => undefined);
      if (await this.exists(name)) await this.db.dropTable(name);
    });
  }

  // --- writes ---

  /**
   * Makes `rows` the whole content of the documents `docIds` in one commit: upserts the rows by
   * id and deletes the documents' other rows. Replaying the same call changes nothing.
   * Every row must belong to one of `docIds`; a document with no rows is deleted.
   */
  async replaceDocuments(name: string, docIds: readonly string[], rows: readonly ChunkRow[]): Promise<ReplaceResult> {
    checkTableName(name);
    return this.exclusive(name, async () => {
      const { table, dimension, textColumn } = await this.handle(name);
      checkRows(rows, new Set(docIds), dimension);
      if (docIds.length === 0) return { inserted: 0, updated: 0, deleted: 0 };
      const docFilter = sqlIn('doc_id', docIds);
      let result: ReplaceResult;
      if (rows.length === 0) {
        const deleted = await table.delete(docFilter);
        result = { inserted: 0, updated: 0, deleted: deleted.numDeletedRows };
      } else {
        // The delete clause makes LanceDB join against every row of the table (~150 ms a call at
        // 100k rows, against ~25 ms without it), so it is added only when some existing row of
        // these documents is not among the new ones. Either way the write is one commit.
        const incoming = new Set(rows.map((row) => row.id));
        const stale = (await this.idsOf(table, docFilter)).some((id) => !incoming.has(id));
        let merge = table.mergeInsert('id').whenMatchedUpdateAll().whenNotMatchedInsertAll();
        if (stale) merge = merge.whenNotMatchedBySourceDelete({ where: docFilter });
        const merged = await merge.execute(toArrow(rows, dimension));
        result = { inserted: merged.numInsertedRows, updated: merged.numUpdatedRows, deleted: merged.numDeletedRows };
      }
      await keepFtsRanked(table, textColumn);
      return result;
    });
  }

  /** Deletes every row of the documents; returns how many rows went. */
  async deleteDocuments(name: string, docIds: readonly string[]): Promise<number> {
    checkTableName(name);
    if (docIds.length === 0) return 0;
    return this.exclusive(name, async () => {
      const { table, textColumn } = await this.handle(name);
      let deleted = 0;
      for (let i = 0; i < docIds.length; i += IN_BATCH) {
        deleted += (await table.delete(sqlIn('doc_id', docIds.slice(i, i + IN_BATCH)))).numDeletedRows;
      }
      await keepFtsRanked(table, textColumn);
      return deleted;
    });
  }

  /**
   * Folds recent writes into the indexes: compacts small fragments and updates existing indexes
   * (LanceDB `optimize`), creates the FTS index if missing, and builds the vector index
   * (IVF_HNSW_SQ, cosine) once the table holds `vectorIndexThreshold` rows with a vector. Run it after a batch
   * of writes; searches are correct without it, only slower on the rows it has not folded in.
   */
  async refreshIndexes(name: string, options: { signal?: AbortSignal } = {}): Promise<RefreshResult> {
    checkTableName(name);
    return this.exclusive(name, async () => {
      const { table, textColumn } = await this.handle(name);
      return refreshTableIndexes(table, this.vectorIndexThreshold, textColumn, options.signal);
    });
  }

  // --- reads ---

  /** Stored vectors for chunk texts already embedded with this table's model, by text hash. */
  async vectorsByTextHash(name: string, hashes: readonly string[]): Promise<Map<string, Float32Array>> {
    checkTableName(name);
    return vectorsByTextHash((await this.handle(name)).table, hashes);
  }

  /**
   * Gives chunks already in the table their vectors, in one commit: the rows are written whole
   * (as read back, plus the vector) by id. A partial-column merge is not used: LanceDB 0.37
   * fails it on fragments that hold null vectors. Ids no longer in the table are ignored.
   */
  async setVectors(name: string, rows: readonly (StoredChunk & { vector: Float32Array })[]): Promise<void> {
    checkTableName(name);
    if (rows.length === 0) return;
    await this.exclusive(name, async () => {
      const { table, dimension, textColumn } = await this.handle(name);
      checkRows(rows, new Set(rows.map((row) => row.docId)), dimension);
      await table.mergeInsert('id').whenMatchedUpdateAll().execute(toArrow(rows, dimension));
      await keepFtsRanked(table, textColumn);
    });
  }

  /** The chunks of these documents still without a vector, in reading order. */
  async unembedded(name: string, docIds: readonly string[]): Promise<StoredChunk[]> {
    checkTableName(name);
    const { table } = await this.handle(name);
    const rows = readRecords(await table.query().where(`vector IS NULL AND ${sqlIn('doc_id', docIds)}`).select(RECORD_COLUMNS).toArrow());
    return rows.sort((a, b) => (a.docId < b.docId ? -1 : a.docId > b.docId ? 1 : a.ordinal - b.ordinal));
  }

  /** Chunks without a vector per document id. */
  unembeddedCounts(name: string): Promise<Map<string, number>> {
    return this.chunkCounts(name, 'vector IS NULL');
  }

  /** Rows per document id (matching `where`, if given): what SQLite's document list is reconciled against after a crash. */
  async chunkCounts(name: string, where?: string): Promise<Map<string, number>> {
    checkTableName(name);
    return countByDocument((await this.handle(name)).table, where);
  }

  /** Every chunk id in the table (what calibration samples from). */
  async chunkIds(name: string): Promise<string[]> {
    checkTableName(name);
    return this.idsOf((await this.handle(name)).table, 'true');
  }

  /** The chunks with these ids, in the order asked for; unknown ids are skipped. */
  async getChunks(name: string, ids: readonly string[]): Promise<StoredChunk[]> {
    checkTableName(name);
    return chunksById((await this.handle(name)).table, ids);
  }

  /** A document's chunks in reading order. */
  async docChunks(name: string, docId: string): Promise<StoredChunk[]> {
    checkTableName(name);
    const { table } = await this.handle(name);
    const result = await table.query().where(sqlIn('doc_id', [docId])).select(RECORD_COLUMNS).toArrow();
    return readRecords(result).sort((a, b) => a.ordinal - b.ordinal);
  }

  // --- search ---

  /**
   * BM25 full-text search over the passage with its document's title and file name (`search_text`). The query is a plain match query (terms OR-ed, scored by
   * BM25): quotes, operators and other syntax in it are just text, never query language.
   */
  async searchText(name: string, query: string, options: SearchOptions): Promise<ChunkHit[]> {
    const result = await this.textQuery(name, query, options, RECORD_COLUMNS);
    if (!result) return [];
    const scores = readNumbers(result, '_score');
    return readRecords(result)
      .map((row, i) => ({ row, score: scores[i]! }))
      .sort(byScore)
      .slice(0, options.limit);
  }

  /** `searchText` without the rows: ids and BM25 scores only, several times cheaper (what fusion needs). */
  async rankText(name: string, query: string, options: SearchOptions): Promise<ChunkScore[]> {
    return (await this.rankTextPassages(name, query, options)).map(({ id, score }) => ({ id, score }));
  }

  /** `rankText` with each passage's document id: what document-aware scoring needs. */
  async rankTextPassages(name: string, query: string, options: SearchOptions): Promise<PassageScore[]> {
    const result = await this.textQuery(name, query, options, ['id', 'doc_id']);
    if (!result) return [];
    return scoredPassages(result, readNumbers(result, '_score')).slice(0, options.limit);
  }

  /** Nearest chunks by cosine distance; `score` is the similarity, 1 - distance. */
  async searchVector(name: string, vector: Float32Array, options: SearchOptions): Promise<ChunkHit[]> {
    const result = await this.vectorQuery(name, vector, options, RECORD_COLUMNS);
    const distances = readNumbers(result, '_distance');
    return readRecords(result)
      .map((row, i) => ({ row, score: 1 - distances[i]! }))
      .sort(byScore);
  }

  /** `searchVector` without the rows: ids and cosine similarities only. */
  async rankVector(name: string, vector: Float32Array, options: SearchOptions): Promise<ChunkScore[]> {
    const result = await this.vectorQuery(name, vector, options, ['id']);
    return scored(
      result,
      readNumbers(result, '_distance').map((distance) => 1 - distance),
    );
  }

  // --- internals ---

  private async textQuery(name: string, query: string, options: SearchOptions, columns: string[]): Promise<ArrowTable | null> {
    checkTableName(name);
    checkLimit(options.limit);
    const { table, textColumn } = await this.handle(name);
    if (query.trim() === '') return null;
    const where = buildWhere(options.filter);
    let q = table
      .query()
      .fullTextSearch(new MatchQuery(query, textColumn, { operator: Operator.Or }))
      // _score named: LanceDB adds it unasked today, with a warning that it will stop.
      .select([...columns, '_score']);
    if (where) q = q.where(where);
    const ranked = await ftsRanks(table);
    // See the freshness contract above: an index without live rows means unsorted results, so
    // take every match and rank here (callers sort and cut).
    return q.limit(ranked ? options.limit : Math.max(1, await table.countRows(where ?? undefined))).toArrow();
  }

  private async vectorQuery(name: string, vector: Float32Array, options: SearchOptions, columns: string[]): Promise<ArrowTable> {
    checkTableName(name);
    checkLimit(options.limit);
    const { table, dimension } = await this.handle(name);
    checkVector(vector, dimension, 'The query vector');
    const where = buildWhere(options.filter);
    let q = table
      .query()
      .nearestTo(vector)
      .distanceType('cosine')
      // Used only once an HNSW index exists: a wider beam than LanceDB's 1.5 x limit default
      // (recall@10 0.86 -> 0.97 on the bench set), and exact distances for the returned rows.
      .ef(Math.max(64, options.limit * 2))
      .refineFactor(1)
      // _distance named, as _score above: unnamed, LanceDB warns on every query that it will stop adding it.
      .select([...columns, '_distance'])
      .limit(options.limit);
    if (where) q = q.where(where);
    return q.toArrow();
  }

  private checkOpen(): void {
    if (this.closed) throw new HearthError('INTERNAL', 'The chunk store is closed');
  }

  private async exists(name: string): Promise<boolean> {
    this.checkOpen();
    this.forgetIfGone(name);
    if (this.handles.has(name)) return true;
    return (await this.db.tableNames()).includes(name);
  }

  private handle(name: string): Promise<Handle> {
    this.checkOpen();
    this.forgetIfGone(name);
    let handle = this.handles.get(name);
    if (!handle) {
      handle = this.openHandle(name);
      this.handles.set(name, handle);
      handle.catch(() => this.handles.delete(name));
    }
    return handle;
  }

  /** A cached handle to a table whose folder is gone would only give LanceDB's I/O errors. */
  private forgetIfGone(name: string): void {
    const handle = this.handles.get(name);
    if (!handle || this.hasTable(name)) return;
    this.handles.delete(name);
    handle.then((h) => h.table.close()).catch(() => undefined);
  }

  private async openHandle(name: string): Promise<Handle> {
    if (!(await this.db.tableNames()).includes(name)) throw new HearthError('NOT_FOUND', `No chunk table named ${name}`);
    const table = await this.db.openTable(name);
    const fields = (await table.schema()).fields;
    const vector = fields.find((field) => field.name === 'vector');
    // By type id, not instanceof, which stays right whichever copy of apache-arrow made the schema.
    const type = vector?.type;
    if (!type || !DataType.isFixedSizeList(type)) {
      table.close();
      throw new HearthError('CORRUPT_FILE', `Chunk table ${name} has no fixed-size vector column`);
    }
    return { table, dimension: type.listSize, textColumn: fields.some((field) => field.name === SEARCH_TEXT) ? SEARCH_TEXT : 'text' };
  }

  private async idsOf(table: Table, where: string): Promise<string[]> {
    const result = await table.query().where(where).select(['id']).toArrow();
    if (result.numRows === 0) return [];
    const ids = column(result, 'id');
    return Array.from({ length: result.numRows }, (_, i) => String(ids.get(i)));
  }

  /** Runs writes to one table one at a time, in call order, whether or not earlier ones failed. */
  private async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.checkOpen();
    return this.writes.queue(name, () => fn().catch((error: unknown) => Promise.reject(lanceWriteError(error, this.dir))));
  }
}
