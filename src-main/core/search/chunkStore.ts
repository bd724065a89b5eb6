import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { connect, Index, MatchQuery, Operator, type Connection, type Table } from '@lancedb/lancedb';
import type * as ArrowModule from 'apache-arrow';
import type { DataType as DataTypeType, Field as FieldType, Schema as SchemaType } from 'apache-arrow';

// LanceDB is CommonJS and checks `instanceof` against the CommonJS build of apache-arrow; an
// ESM import would load the package's other build, whose classes LanceDB does not recognise.
// So Arrow is required, the same way LanceDB loads it: one copy of every class.
const arrow = createRequire(import.meta.url)('apache-arrow') as typeof ArrowModule;
const { DataType, Field, FixedSizeList, Float32, Int32, makeData, RecordBatch, Schema, Struct, Table: ArrowTable, Utf8, vectorFromArray } = arrow;
type Field = FieldType;
type Schema = SchemaType;
type ArrowTable = InstanceType<typeof arrow.Table>;
type DataType = DataTypeType;
type FixedSizeList<T extends DataType> = InstanceType<typeof arrow.FixedSizeList<T>>;
type Float32 = InstanceType<typeof arrow.Float32>;
import { HearthError } from '../common/hearthError';
import { DOCUMENT_FORMATS, type DocumentFormat } from '../library/types';
import { buildWhere, sqlIn, type SearchFilter } from './sqlFilter';

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

export interface ChunkRow {
  /** Deterministic: derived from the document id and the ordinal by the caller. */
  id: string;
  docId: string;
  sourceId: string;
  collectionId: string;
  path: string;
  format: DocumentFormat;
  title: string | null;
  /** The heading path joined with ' › '. */
  heading: string;
  ordinal: number;
  pageStart: number | null;
  pageEnd: number | null;
  lineStart: number | null;
  lineEnd: number | null;
  text: string;
  /** Hash of `text`, so an unchanged chunk's embedding can be reused (`vectorsByTextHash`). */
  textHash: string;
  tokenCount: number;
  vector: Float32Array;
}

/** A row as search and reads return it: everything but the vector. */
export type StoredChunk = Omit<ChunkRow, 'vector'>;

export interface ChunkHit {
  row: StoredChunk;
  /** `searchText`: the BM25 score (higher is better). `searchVector`: cosine similarity, 1 - cosine distance, in [-1, 1]. */
  score: number;
}

/** A hit without its row, for fusion: the row is fetched only if it makes the final cut. */
export interface ChunkScore {
  id: string;
  /** As in `ChunkHit`. */
  score: number;
}

export interface TableSpec {
  dimension: number;
  modelId: string;
  modelName: string;
}

export interface TableInfo extends TableSpec {
  rows: number;
}

export interface SearchOptions {
  limit: number;
  filter?: SearchFilter;
}

export interface ReplaceResult {
  inserted: number;
  updated: number;
  deleted: number;
}

export interface RefreshResult {
  rows: number;
  /** Scalar indexes created by this call. */
  scalarIndexes: number;
  ftsIndex: 'created' | 'updated' | 'none';
  vectorIndex: 'created' | 'updated' | 'none';
  fragmentsRemoved: number;
  fragmentsAdded: number;
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

/** The existing table was made for another embedding space: its vectors cannot be mixed with these. */
export class ChunkTableMismatchError extends HearthError {
  constructor(
    readonly table: string,
    readonly expected: TableSpec,
    readonly actual: { dimension: number | null; modelId: string | null; schema: string | null },
  ) {
    const what =
      actual.schema !== null
        ? `has an unexpected schema (${actual.schema})`
        : actual.dimension !== expected.dimension
          ? `has dimension ${String(actual.dimension)}, not ${expected.dimension}`
          : `was made for model ${String(actual.modelId)}, not ${expected.modelId}`;
    super('BAD_INPUT', `Chunk table "${table}" ${what}`);
    this.name = 'ChunkTableMismatchError';
  }
}

export const DEFAULT_VECTOR_INDEX_THRESHOLD = 10_000;
const FTS_INDEX = 'text_idx';
const VECTOR_INDEX = 'vector_idx';
const SCHEMA_VERSION = '1';
const SCALAR_INDEXES: readonly (readonly [string, () => Index])[] = [
  ['id', () => Index.btree()],
  ['doc_id', () => Index.btree()],
  ['collection_id', () => Index.bitmap()],
  ['format', () => Index.bitmap()],
];
/** Values per IN list, so a big batch never becomes one giant SQL statement. */
const IN_BATCH = 1000;
const MAX_DIMENSION = 16_384;

/** A table name for a model: `chunks_<slug>_<dim>`, where the slug ends in a short hash so two ids never collide. */
export function chunkTableName(modelId: string, dimension: number): string {
  const slug = modelId
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '')
    .slice(0, 40);
  const hash = createHash('sha256').update(modelId).digest('hex').slice(0, 8);
  return `chunks_${slug ? `${slug}_` : ''}${hash}_${dimension}`;
}

// --- schema -------------------------------------------------------------------------------

type ScalarKind = 'string' | 'string?' | 'int' | 'int?';
type ScalarKey = Exclude<keyof ChunkRow, 'vector'>;

/** Table order of the scalar columns: property, column, Arrow kind (`?` = nullable). */
const SCALARS: readonly (readonly [ScalarKey, string, ScalarKind])[] = [
  ['id', 'id', 'string'],
  ['docId', 'doc_id', 'string'],
  ['sourceId', 'source_id', 'string'],
  ['collectionId', 'collection_id', 'string'],
  ['path', 'path', 'string'],
  ['format', 'format', 'string'],
  ['title', 'title', 'string?'],
  ['heading', 'heading', 'string'],
  ['ordinal', 'ordinal', 'int'],
  ['pageStart', 'page_start', 'int?'],
  ['pageEnd', 'page_end', 'int?'],
  ['lineStart', 'line_start', 'int?'],
  ['lineEnd', 'line_end', 'int?'],
  ['text', 'text', 'string'],
  ['textHash', 'text_hash', 'string'],
  ['tokenCount', 'token_count', 'int'],
];

/** Every column but the vector: what searches and reads fetch. */
const RECORD_COLUMNS = SCALARS.map(([, column]) => column);

function vectorType(dimension: number): FixedSizeList<Float32> {
  return new FixedSizeList(dimension, new Field('item', new Float32(), false));
}

function chunkFields(dimension: number): Field[] {
  return [
    ...SCALARS.map(([, column, kind]) => new Field(column, kind.startsWith('int') ? new Int32() : new Utf8(), kind.endsWith('?'))),
    new Field('vector', vectorType(dimension), false),
  ];
}

/** The table schema, with the embedding model recorded in its metadata. */
export function chunkSchema(spec: TableSpec): Schema {
  return new Schema(
    chunkFields(spec.dimension),
    new Map([
      ['model_id', spec.modelId],
      ['model_name', spec.modelName],
      ['dimension', String(spec.dimension)],
      ['hearth_schema', SCHEMA_VERSION],
    ]),
  );
}

function describeFields(fields: readonly Field[]): string {
  return fields.map((f) => `${f.name}:${String(f.type)}${f.nullable ? '?' : ''}`).join(', ');
}

// --- validation ---------------------------------------------------------------------------

const TABLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

function checkTableName(name: string): void {
  if (!TABLE_NAME.test(name)) throw new HearthError('BAD_INPUT', `Invalid chunk table name: ${JSON.stringify(name)}`);
}

function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new HearthError('BAD_INPUT', `Search limit must be a positive integer, got ${limit}`);
}

function checkVector(vector: Float32Array, dimension: number, what: string): void {
  if (vector.length !== dimension) throw new HearthError('BAD_INPUT', `${what} has ${vector.length} dimensions, the table has ${dimension}`);
  for (const value of vector) {
    if (!Number.isFinite(value)) throw new HearthError('BAD_INPUT', `${what} contains a non-finite value`);
  }
}

const INT32_MAX = 2 ** 31 - 1;

function checkRows(rows: readonly ChunkRow[], docIds: ReadonlySet<string>, dimension: number): void {
  const ids = new Set<string>();
  for (const row of rows) {
    if (ids.has(row.id)) throw new HearthError('BAD_INPUT', `Duplicate chunk id ${row.id}`);
    ids.add(row.id);
    if (!docIds.has(row.docId)) throw new HearthError('BAD_INPUT', `Chunk ${row.id} belongs to document ${row.docId}, which is not being replaced`);
    if (!DOCUMENT_FORMATS.includes(row.format)) throw new HearthError('BAD_INPUT', `Chunk ${row.id} has unknown format ${String(row.format)}`);
    for (const [key, , kind] of SCALARS) {
      const value = row[key];
      if (kind === 'int' || (kind === 'int?' && value !== null)) {
        if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > INT32_MAX) {
          throw new HearthError('BAD_INPUT', `Chunk ${row.id}: ${key} must be a non-negative integer`);
        }
      } else if (kind === 'string' && typeof value !== 'string') {
        throw new HearthError('BAD_INPUT', `Chunk ${row.id}: ${key} must be a string`);
      }
    }
    checkVector(row.vector, dimension, `Chunk ${row.id}'s vector`);
  }
}

// --- Arrow conversion ---------------------------------------------------------------------

/** Rows to one Arrow batch in the table's exact schema; the vectors are copied into one buffer, not boxed. */
function toArrow(rows: readonly ChunkRow[], dimension: number): ArrowTable {
  const fields = chunkFields(dimension);
  const schema = new Schema(fields);
  const children = SCALARS.map(([key, , kind]) => {
    const type: DataType = kind.startsWith('int') ? new Int32() : new Utf8();
    return vectorFromArray(
      rows.map((row) => row[key]),
      type,
    ).data[0]!;
  });
  const flat = new Float32Array(rows.length * dimension);
  rows.forEach((row, i) => flat.set(row.vector, i * dimension));
  const values = makeData({ type: new Float32(), length: flat.length, nullCount: 0, data: flat });
  children.push(makeData({ type: vectorType(dimension), length: rows.length, nullCount: 0, child: values }));
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: rows.length, nullCount: 0, children }));
  return new ArrowTable(schema, [batch]);
}

interface Column {
  get(index: number): unknown;
}

function column(table: ArrowTable, name: string): Column {
  const child = table.getChild(name);
  if (!child) throw new HearthError('INTERNAL', `Chunk table result lacks column ${name}`);
  return child as Column;
}

function readRecords(table: ArrowTable): StoredChunk[] {
  // An empty result may come back without any columns.
  if (table.numRows === 0) return [];
  const columns = SCALARS.map(([key, name, kind]) => [key, column(table, name), kind] as const);
  const out: StoredChunk[] = [];
  for (let i = 0; i < table.numRows; i++) {
    const record: Record<string, unknown> = {};
    for (const [key, col, kind] of columns) {
      const value = col.get(i);
      record[key] = value === null || value === undefined ? null : kind.startsWith('int') ? Number(value) : String(value);
    }
    out.push(record as unknown as StoredChunk);
  }
  return out;
}

function readNumbers(table: ArrowTable, name: string): number[] {
  if (table.numRows === 0) return [];
  const col = column(table, name);
  return Array.from({ length: table.numRows }, (_, i) => Number(col.get(i)));
}

function readVector(value: unknown): Float32Array {
  const array = (value as { toArray(): Float32Array }).toArray();
  return Float32Array.from(array);
}

/** Score descending, then id, so equal scores come back in a stable order. */
function compareScored(a: { score: number; id: string }, b: { score: number; id: string }): number {
  return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

function byScore(a: ChunkHit, b: ChunkHit): number {
  return compareScored({ score: a.score, id: a.row.id }, { score: b.score, id: b.row.id });
}

function scored(table: ArrowTable, scores: number[]): ChunkScore[] {
  if (table.numRows === 0) return [];
  const ids = column(table, 'id');
  return scores.map((score, i) => ({ id: String(ids.get(i)), score })).sort(compareScored);
}

// --- the store ----------------------------------------------------------------------------

interface Handle {
  table: Table;
  dimension: number;
}

export class ChunkStore {
  private readonly handles = new Map<string, Promise<Handle>>();
  private readonly queues = new Map<string, Promise<void>>();
  private closed = false;

  private constructor(
    private readonly db: Connection,
    private readonly vectorIndexThreshold: number,
  ) {}

  /** Opens (creating if needed) the LanceDB database in `dir`. */
  static async open(dir: string, options: ChunkStoreOptions = {}): Promise<ChunkStore> {
    mkdirSync(dir, { recursive: true });
    const consistency = options.readConsistencySeconds === undefined ? 0 : options.readConsistencySeconds;
    const db = await connect(dir, consistency === null ? {} : { readConsistencyInterval: consistency });
    const threshold = options.vectorIndexThreshold ?? DEFAULT_VECTOR_INDEX_THRESHOLD;
    if (!Number.isInteger(threshold) || threshold < 1) throw new HearthError('BAD_INPUT', 'vectorIndexThreshold must be a positive integer');
    return new ChunkStore(db, threshold);
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

  /** Creates the table if it is missing; an existing one must match the model and dimension. */
  async ensureTable(name: string, spec: TableSpec): Promise<TableInfo> {
    checkTableName(name);
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
      const schema = await (await this.handle(name)).table.schema();
      const expected = describeFields(chunkFields(spec.dimension));
      const actual = describeFields(schema.fields);
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
      const { table, dimension } = await this.handle(name);
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
      await this.keepFtsRanked(table);
      return result;
    });
  }

  /** Deletes every row of the documents; returns how many rows went. */
  async deleteDocuments(name: string, docIds: readonly string[]): Promise<number> {
    checkTableName(name);
    if (docIds.length === 0) return 0;
    return this.exclusive(name, async () => {
      const { table } = await this.handle(name);
      let deleted = 0;
      for (let i = 0; i < docIds.length; i += IN_BATCH) {
        deleted += (await table.delete(sqlIn('doc_id', docIds.slice(i, i + IN_BATCH)))).numDeletedRows;
      }
      await this.keepFtsRanked(table);
      return deleted;
    });
  }

  /**
   * Folds recent writes into the indexes: compacts small fragments and updates existing indexes
   * (LanceDB `optimize`), creates the FTS index if missing, and builds the vector index
   * (IVF_HNSW_SQ, cosine) once the table holds `vectorIndexThreshold` rows. Run it after a batch
   * of writes; searches are correct without it, only slower on the rows it has not folded in.
   */
  async refreshIndexes(name: string, options: { signal?: AbortSignal } = {}): Promise<RefreshResult> {
    checkTableName(name);
    return this.exclusive(name, async () => {
      const { table } = await this.handle(name);
      options.signal?.throwIfAborted();
      const optimized = await table.optimize();
      const rows = await table.countRows();
      const indexes = new Set((await table.listIndices()).map((index) => index.name));
      options.signal?.throwIfAborted();

      let ftsIndex: RefreshResult['ftsIndex'] = indexes.has(FTS_INDEX) ? 'updated' : 'none';
      if (rows > 0 && (!indexes.has(FTS_INDEX) || (await table.indexStats(FTS_INDEX))?.numIndexedRows === 0)) {
        await this.createFtsIndex(table);
        ftsIndex = 'created';
      }
      options.signal?.throwIfAborted();

      let vectorIndex: RefreshResult['vectorIndex'] = indexes.has(VECTOR_INDEX) ? 'updated' : 'none';
      if (!indexes.has(VECTOR_INDEX) && rows >= this.vectorIndexThreshold) {
        await table.createIndex('vector', {
          name: VECTOR_INDEX,
          // HNSW over scalar-quantised vectors: ~97% recall@10 at a few ms on 100k x 384 where
          // IVF_PQ gave ~60% even with refinement (bench/search.ts). One graph per 500k rows
          // bounds the memory a build needs.
          config: Index.hnswSq({ distanceType: 'cosine', numPartitions: Math.max(1, Math.ceil(rows / 500_000)) }),
        });
        vectorIndex = 'created';
      }
      // Scalar indexes for filters and per-document lookups: ~20 ms each to build at 100k rows.
      let scalarIndexes = 0;
      for (const [columnName, config] of SCALAR_INDEXES) {
        if (rows > 0 && !indexes.has(`${columnName}_idx`)) {
          await table.createIndex(columnName, { name: `${columnName}_idx`, config: config() });
          scalarIndexes++;
        }
      }
      return {
        rows,
        scalarIndexes,
        ftsIndex,
        vectorIndex,
        fragmentsRemoved: optimized.compaction.fragmentsRemoved,
        fragmentsAdded: optimized.compaction.fragmentsAdded,
      };
    });
  }

  // --- reads ---

  /** Stored vectors for chunk texts already embedded with this table's model, by text hash. */
  async vectorsByTextHash(name: string, hashes: readonly string[]): Promise<Map<string, Float32Array>> {
    checkTableName(name);
    const { table } = await this.handle(name);
    const unique = [...new Set(hashes)];
    const found = new Map<string, Float32Array>();
    for (let i = 0; i < unique.length; i += IN_BATCH) {
      const result = await table
        .query()
        .where(sqlIn('text_hash', unique.slice(i, i + IN_BATCH)))
        .select(['text_hash', 'vector'])
        .toArrow();
      if (result.numRows === 0) continue;
      const hashCol = column(result, 'text_hash');
      const vectorCol = column(result, 'vector');
      for (let row = 0; row < result.numRows; row++) {
        const hash = String(hashCol.get(row));
        if (!found.has(hash)) found.set(hash, readVector(vectorCol.get(row)));
      }
    }
    return found;
  }

  /** Rows per document id: what SQLite's document list is reconciled against after a crash. */
  async chunkCounts(name: string): Promise<Map<string, number>> {
    checkTableName(name);
    const { table } = await this.handle(name);
    const counts = new Map<string, number>();
    for await (const batch of table.query().select(['doc_id'])) {
      const docIds = batch.getChild('doc_id');
      if (!docIds) continue;
      for (const docId of docIds as Iterable<unknown>) {
        const key = String(docId);
        counts.set(key, (counts.get(key) ?? 0) + 1);
      }
    }
    return counts;
  }

  /** The chunks with these ids, in the order asked for; unknown ids are skipped. */
  async getChunks(name: string, ids: readonly string[]): Promise<StoredChunk[]> {
    checkTableName(name);
    const { table } = await this.handle(name);
    const unique = [...new Set(ids)];
    const byId = new Map<string, StoredChunk>();
    for (let i = 0; i < unique.length; i += IN_BATCH) {
      const result = await table
        .query()
        .where(sqlIn('id', unique.slice(i, i + IN_BATCH)))
        .select(RECORD_COLUMNS)
        .toArrow();
      for (const row of readRecords(result)) byId.set(row.id, row);
    }
    return unique.flatMap((id) => byId.get(id) ?? []);
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
   * BM25 full-text search over `text`. The query is a plain match query (terms OR-ed, scored by
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
    const result = await this.textQuery(name, query, options, ['id']);
    if (!result) return [];
    return scored(result, readNumbers(result, '_score')).slice(0, options.limit);
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
    const { table } = await this.handle(name);
    if (query.trim() === '') return null;
    const where = buildWhere(options.filter);
    let q = table
      .query()
      .fullTextSearch(new MatchQuery(query, 'text', { operator: Operator.Or }))
      .select(columns);
    if (where) q = q.where(where);
    const ranked = ((await table.indexStats(FTS_INDEX))?.numIndexedRows ?? 0) > 0;
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
      .select(columns)
      .limit(options.limit);
    if (where) q = q.where(where);
    return q.toArrow();
  }

  // --- internals ---

  private checkOpen(): void {
    if (this.closed) throw new HearthError('INTERNAL', 'The chunk store is closed');
  }

  private async exists(name: string): Promise<boolean> {
    this.checkOpen();
    if (this.handles.has(name)) return true;
    return (await this.db.tableNames()).includes(name);
  }

  private handle(name: string): Promise<Handle> {
    this.checkOpen();
    let handle = this.handles.get(name);
    if (!handle) {
      handle = this.openHandle(name);
      this.handles.set(name, handle);
      handle.catch(() => this.handles.delete(name));
    }
    return handle;
  }

  private async openHandle(name: string): Promise<Handle> {
    if (!(await this.db.tableNames()).includes(name)) throw new HearthError('NOT_FOUND', `No chunk table named ${name}`);
    const table = await this.db.openTable(name);
    const vector = (await table.schema()).fields.find((field) => field.name === 'vector');
    // By type id, not instanceof, which stays right whichever copy of apache-arrow made the schema.
    const type = vector?.type;
    if (!type || !DataType.isFixedSizeList(type)) {
      table.close();
      throw new HearthError('CORRUPT_FILE', `Chunk table ${name} has no fixed-size vector column`);
    }
    return { table, dimension: type.listSize };
  }

  private async idsOf(table: Table, where: string): Promise<string[]> {
    const result = await table.query().where(where).select(['id']).toArrow();
    if (result.numRows === 0) return [];
    const ids = column(result, 'id');
    return Array.from({ length: result.numRows }, (_, i) => String(ids.get(i)));
  }

  /** See the freshness contract: an FTS index must hold at least one live row for ranked results. */
  private async keepFtsRanked(table: Table): Promise<void> {
    const stats = await table.indexStats(FTS_INDEX);
    if (stats && stats.numIndexedRows > 0) return;
    if (stats ? stats.numUnindexedRows > 0 : (await table.countRows()) > 0) await this.createFtsIndex(table);
  }

  private async createFtsIndex(table: Table): Promise<void> {
    await table.createIndex('text', {
      name: FTS_INDEX,
      replace: true,
      // LanceDB's defaults, pinned so an upgrade cannot change how old and new rows tokenize.
      config: Index.fts({
        baseTokenizer: 'simple',
        language: 'English',
        lowercase: true,
        stem: true,
        removeStopWords: true,
        asciiFolding: true,
        withPosition: false,
      }),
    });
  }

  /** Runs writes to one table one at a time, in call order, whether or not earlier ones failed. */
  private async exclusive<T>(name: string, fn: () => Promise<T>): Promise<T> {
    this.checkOpen();
    const previous = this.queues.get(name) ?? Promise.resolve();
    const run = previous.then(fn);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(name, settled);
    try {
      return await run;
    } finally {
      if (this.queues.get(name) === settled) this.queues.delete(name);
    }
  }
}
