import type { Table } from '@lancedb/lancedb';
import { column, readRecords, readVector } from './chunkArrow';
import { RECORD_COLUMNS, type StoredChunk } from './chunkSchema';
import { sqlIn } from './sqlFilter';

/** Reads of one chunk table by key (the ChunkStore checks names and holds the handles). */

/** Values per IN list, so a big batch never becomes one giant SQL statement. */
export const IN_BATCH = 1000;

/** Stored vectors for chunk texts already embedded, by text hash (chunks without a vector are skipped). */
export async function vectorsByTextHash(table: Table, hashes: readonly string[]): Promise<Map<string, Float32Array>> {
  const unique = [...new Set(hashes)];
  const found = new Map<string, Float32Array>();
  for (let i = 0; i < unique.length; i += IN_BATCH) {
    const result = await table
      .query()
      .where(`${sqlIn('text_hash', unique.slice(i, i + IN_BATCH))} AND vector IS NOT NULL`)
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

/** Rows per document id, of those matching `where` if given. */
export async function countByDocument(table: Table, where?: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const query = where ? table.query().where(where) : table.query();
  for await (const batch of query.select(['doc_id'])) {
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
export async function chunksById(table: Table, ids: readonly string[]): Promise<StoredChunk[]> {
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
