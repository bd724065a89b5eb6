import type { DataType as DataTypeType } from 'apache-arrow';
import { HearthError } from '../common/hearthError';
import { arrow, type ArrowTable } from './arrow';
import { chunkFields, SCALARS, searchText, vectorType, type ChunkRow, type StoredChunk } from './chunkSchema';

const { Float32, Int32, makeData, RecordBatch, Schema, Struct, Table: ArrowTable, Utf8, vectorFromArray } = arrow;
type DataType = DataTypeType;

/** Conversions between chunk rows and Arrow: writes as one batch, query results back to rows and scores. */

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

/** A full-text hit with its document, for document-aware scoring (documentEvidence.ts). */
export interface PassageScore extends ChunkScore {
  docId: string;
}

/** Rows to one Arrow batch in the table's exact schema; the vectors are copied into one buffer, not boxed. */
export function toArrow(rows: readonly ChunkRow[], dimension: number): ArrowTable {
  const fields = chunkFields(dimension);
  const schema = new Schema(fields);
  const children = SCALARS.map(([key, , kind]) => {
    const type: DataType = kind.startsWith('int') ? new Int32() : new Utf8();
    return vectorFromArray(
      rows.map((row) => row[key]),
      type,
    ).data[0]!;
  });
  children.push(vectorFromArray(rows.map(searchText), new Utf8()).data[0]!);
  const flat = new Float32Array(rows.length * dimension);
  // Validity bitmap: a chunk not embedded yet has a null vector (its slots stay zero).
  const valid = new Uint8Array(Math.ceil(rows.length / 8));
  let nulls = 0;
  rows.forEach((row, i) => {
    if (row.vector === null) {
      nulls++;
      return;
    }
    flat.set(row.vector, i * dimension);
    valid[i >> 3] = (valid[i >> 3] ?? 0) | (1 << (i & 7));
  });
  const values = makeData({ type: new Float32(), length: flat.length, nullCount: 0, data: flat });
  const vectors = nulls === 0 ? { nullCount: 0 } : { nullCount: nulls, nullBitmap: valid };
  children.push(makeData({ type: vectorType(dimension), length: rows.length, ...vectors, child: values }));
  const batch = new RecordBatch(schema, makeData({ type: new Struct(fields), length: rows.length, nullCount: 0, children }));
  return new ArrowTable(schema, [batch]);
}

export interface Column {
  get(index: number): unknown;
}

export function column(table: ArrowTable, name: string): Column {
  const child = table.getChild(name);
  if (!child) throw new HearthError('INTERNAL', `Chunk table result lacks column ${name}`);
  return child as Column;
}

export function readRecords(table: ArrowTable): StoredChunk[] {
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

export function readNumbers(table: ArrowTable, name: string): number[] {
  if (table.numRows === 0) return [];
  const col = column(table, name);
  return Array.from({ length: table.numRows }, (_, i) => Number(col.get(i)));
}

export function readVector(value: unknown): Float32Array {
  const array = (value as { toArray(): Float32Array }).toArray();
  return Float32Array.from(array);
}

/** Score descending, then id, so equal scores come back in a stable order. */
function compareScored(a: { score: number; id: string }, b: { score: number; id: string }): number {
  return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function byScore(a: ChunkHit, b: ChunkHit): number {
  return compareScored({ score: a.score, id: a.row.id }, { score: b.score, id: b.row.id });
}

export function scored(table: ArrowTable, scores: number[]): ChunkScore[] {
  if (table.numRows === 0) return [];
  const ids = column(table, 'id');
  return scores.map((score, i) => ({ id: String(ids.get(i)), score })).sort(compareScored);
}

/** `scored` with each hit's document id (the query selected `doc_id`). */
export function scoredPassages(table: ArrowTable, scores: number[]): PassageScore[] {
  if (table.numRows === 0) return [];
  const ids = column(table, 'id');
  const docIds = column(table, 'doc_id');
  return scores.map((score, i) => ({ id: String(ids.get(i)), docId: String(docIds.get(i)), score })).sort(compareScored);
}
