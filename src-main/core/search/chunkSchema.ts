import { createHash } from 'node:crypto';
import { basename, extname } from 'node:path';
import { DOCUMENT_FORMATS, type DocumentFormatName } from '#contract/vocabulary';
import type { DataType as DataTypeType, Field as FieldType, Schema as SchemaType } from 'apache-arrow';
import { HearthError } from '../common/hearthError';
import { arrow } from './arrow';

const { Field, FixedSizeList, Float32, Int32, Schema, Utf8 } = arrow;
type Field = FieldType;
type Schema = SchemaType;
type DataType = DataTypeType;
type FixedSizeList<T extends DataType> = InstanceType<typeof arrow.FixedSizeList<T>>;
type Float32 = InstanceType<typeof arrow.Float32>;

/*
 * A chunk's shape: the row type, its Arrow schema (with the embedding model in the schema's
 * metadata), table names, and the checks every row and argument passes before LanceDB sees it.
 */

export interface ChunkRow {
  /** Deterministic: derived from the document id and the ordinal by the caller. */
  id: string;
  docId: string;
  sourceId: string;
  collectionId: string;
  path: string;
  format: DocumentFormatName;
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
  /** Null until the chunk is embedded: full-text search finds it before its vector exists. */
  vector: Float32Array | null;
}

/** A row as search and reads return it: everything but the vector. */
export type StoredChunk = Omit<ChunkRow, 'vector'>;

export interface TableSpec {
  dimension: number;
  modelId: string;
  modelName: string;
}

export interface TableInfo extends TableSpec {
  rows: number;
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

/** 2: the derived `search_text` column (title, file name and heading with the text) is what full-text search reads. */
const SCHEMA_VERSION = '2';
export const MAX_DIMENSION = 16_384;

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

export type ScalarKind = 'string' | 'string?' | 'int' | 'int?';
type ScalarKey = Exclude<keyof ChunkRow, 'vector'>;

/** Table order of the scalar columns: property, column, Arrow kind (`?` = nullable). */
export const SCALARS: readonly (readonly [ScalarKey, string, ScalarKind])[] = [
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
export const RECORD_COLUMNS = SCALARS.map(([, column]) => column);

export function vectorType(dimension: number): FixedSizeList<Float32> {
  return new FixedSizeList(dimension, new Field('item', new Float32(), false));
}

export function chunkFields(dimension: number): Field[] {
  return [
    ...SCALARS.map(([, column, kind]) => new Field(column, kind.startsWith('int') ? new Int32() : new Utf8(), kind.endsWith('?'))),
    new Field(SEARCH_TEXT, new Utf8(), false),
    // Nullable: a chunk is written (and searchable by full text) before it is embedded.
    new Field('vector', vectorType(dimension), true),
  ];
}

/** The schema tables had before vectors could be added later: the same, with a non-null vector. */
export function legacyChunkFields(dimension: number): Field[] {
  return [...chunkFields(dimension).slice(0, -1), new Field('vector', vectorType(dimension), false)];
}

/**
 * The column full-text search reads, derived from the row when it is written: the document's
 * title, its file name (without extension, separators as spaces) and the heading path before the
 * passage's text, so every passage of "War and Peace.epub" is found by "war and peace", not
 * only the first one. Search results show `text`; this column is never read back.
 */
export const SEARCH_TEXT = 'search_text';

export function searchText(row: Pick<ChunkRow, 'title' | 'path' | 'heading' | 'text'>): string {
  const file = basename(row.path, extname(row.path)).replace(/[_.-]+/g, ' ').trim();
  const title = row.title?.trim() ?? '';
  const context = [title, file.toLowerCase() === title.toLowerCase() ? '' : file, row.heading].filter((part) => part !== '');
  return context.length > 0 ? `${context.join(' \u00b7 ')}\n${row.text}` : row.text;
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

export function describeFields(fields: readonly Field[]): string {
  return fields.map((f) => `${f.name}:${String(f.type)}${f.nullable ? '?' : ''}`).join(', ');
}

// --- validation ---------------------------------------------------------------------------

const TABLE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

export function checkTableName(name: string): void {
  if (!TABLE_NAME.test(name)) throw new HearthError('BAD_INPUT', `Invalid chunk table name: ${JSON.stringify(name)}`);
}

export function checkLimit(limit: number): void {
  if (!Number.isInteger(limit) || limit < 1) throw new HearthError('BAD_INPUT', `Search limit must be a positive integer, got ${limit}`);
}

export function checkVector(vector: Float32Array, dimension: number, what: string): void {
  if (vector.length !== dimension) throw new HearthError('BAD_INPUT', `${what} has ${vector.length} dimensions, the table has ${dimension}`);
  for (const value of vector) {
    if (!Number.isFinite(value)) throw new HearthError('BAD_INPUT', `${what} contains a non-finite value`);
  }
}

const INT32_MAX = 2 ** 31 - 1;

export function checkRows(rows: readonly ChunkRow[], docIds: ReadonlySet<string>, dimension: number): void {
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
    if (row.vector !== null) checkVector(row.vector, dimension, `Chunk ${row.id}'s vector`);
  }
}
