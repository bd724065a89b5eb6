import { Index, type Table } from '@lancedb/lancedb';

/*
 * A chunk table's indexes: BM25 full-text on `search_text` (`text` in tables from before it), the vector index once the table is big
 * enough, and scalar indexes for filters. See the freshness contract in chunkStore.ts for why
 * the FTS index must always hold a live row.
 */

export const FTS_INDEX = 'text_idx';
export const VECTOR_INDEX = 'vector_idx';
const SCALAR_INDEXES: readonly (readonly [string, () => Index])[] = [
  ['id', () => Index.btree()],
  ['doc_id', () => Index.btree()],
  ['collection_id', () => Index.bitmap()],
  ['format', () => Index.bitmap()],
];

export interface RefreshResult {
  rows: number;
  /** Scalar indexes created by this call. */
  scalarIndexes: number;
  ftsIndex: 'created' | 'updated' | 'none';
  vectorIndex: 'created' | 'updated' | 'none';
  fragmentsRemoved: number;
  fragmentsAdded: number;
}

/**
 * Folds recent writes into a table's indexes: compacts small fragments and updates existing
 * indexes (LanceDB `optimize`), creates the FTS index if missing, builds the vector index once
 * the table holds `vectorIndexThreshold` rows with a vector, and the scalar indexes.
 */
export async function refreshTableIndexes(table: Table, vectorIndexThreshold: number, textColumn: string, signal?: AbortSignal): Promise<RefreshResult> {
  signal?.throwIfAborted();
  const optimized = await table.optimize();
  const rows = await table.countRows();
  const indexes = new Set((await table.listIndices()).map((index) => index.name));
  signal?.throwIfAborted();

  let ftsIndex: RefreshResult['ftsIndex'] = indexes.has(FTS_INDEX) ? 'updated' : 'none';
  if (rows > 0 && (!indexes.has(FTS_INDEX) || (await table.indexStats(FTS_INDEX))?.numIndexedRows === 0)) {
    await createFtsIndex(table, textColumn);
    ftsIndex = 'created';
  }
  signal?.throwIfAborted();

  let vectorIndex: RefreshResult['vectorIndex'] = indexes.has(VECTOR_INDEX) ? 'updated' : 'none';
  // Counted by rows with a vector: a full-text-only table (no embedding model yet) has none to
  // train the index on, and LanceDB fails the build rather than skipping it.
  if (!indexes.has(VECTOR_INDEX) && rows >= vectorIndexThreshold && (await table.countRows('vector IS NOT NULL')) >= vectorIndexThreshold) {
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
}

/** Whether full-text search on the table ranks its matches (its FTS index holds a live row). */
export async function ftsRanks(table: Table): Promise<boolean> {
  return ((await table.indexStats(FTS_INDEX))?.numIndexedRows ?? 0) > 0;
}

/** After a write: an FTS index must hold at least one live row for ranked results. */
export async function keepFtsRanked(table: Table, textColumn: string): Promise<void> {
  const stats = await table.indexStats(FTS_INDEX);
  if (stats && stats.numIndexedRows > 0) return;
  if (stats ? stats.numUnindexedRows > 0 : (await table.countRows()) > 0) await createFtsIndex(table, textColumn);
}

async function createFtsIndex(table: Table, textColumn: string): Promise<void> {
  await table.createIndex(textColumn, {
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
