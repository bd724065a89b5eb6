import { connect, type Connection } from '@lancedb/lancedb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HearthError } from '../../src-main/core/common/hearthError';
import type { DocumentFormat } from '../../src-main/core/library/types';
import { ChunkStore, ChunkTableMismatchError, chunkTableName, type ChunkRow, type TableSpec } from '../../src-main/core/search/chunkStore';
import { searchText } from '../../src-main/core/search/chunkSchema';
import { hybridSearch } from '../../src-main/core/search/hybridSearch';
import { buildWhere, sqlString, type SearchFilter } from '../../src-main/core/search/sqlFilter';
import { tempDir } from '../support/tempDir';

const DIM = 4;
const SPEC: TableSpec = { dimension: DIM, modelId: 'test-embed-4', modelName: 'Test Embed (4d)' };
const TABLE = 'chunks_test_4';

let dir: ReturnType<typeof tempDir>;
let store: ChunkStore;
let raw: Connection;

beforeEach(async () => {
  dir = tempDir('hearth-chunks-');
  store = await ChunkStore.open(dir.path, { vectorIndexThreshold: 32 });
  raw = await connect(dir.path);
});

afterEach(() => {
  store.close();
  raw.close();
  dir.cleanup();
});

function vec(...values: number[]): Float32Array {
  return Float32Array.from(values);
}

function row(docId: string, ordinal: number, text: string, vector: Float32Array, extra: Partial<ChunkRow> = {}): ChunkRow {
  return {
    id: `${docId}#${ordinal}`,
    docId,
    sourceId: 'src1',
    collectionId: 'col1',
    path: `/notes/${docId}.md`,
    format: 'markdown',
    title: null,
    heading: '',
    ordinal,
    pageStart: null,
    pageEnd: null,
    lineStart: ordinal * 10 + 1,
    lineEnd: ordinal * 10 + 9,
    text,
    textHash: `h:${text}`,
    tokenCount: text.split(' ').length,
    vector,
    ...extra,
  };
}

async function rawVersion(): Promise<number> {
  const table = await raw.openTable(TABLE);
  const version = await table.version();
  table.close();
  return version;
}

async function allIds(): Promise<string[]> {
  const table = await raw.openTable(TABLE);
  const rows = (await table.query().select(['id']).toArray()) as { id: string }[];
  table.close();
  return rows.map((r) => r.id).sort();
}

describe('ChunkStore tables', () => {
  it('creates the table from an explicit schema and records the model', async () => {
    const info = await store.ensureTable(TABLE, SPEC);
    expect(info).toEqual({ ...SPEC, rows: 0 });
    expect(await store.refreshIndexes(TABLE)).toMatchObject({ rows: 0, ftsIndex: 'none', vectorIndex: 'none', scalarIndexes: 0 });
    expect(await store.searchText(TABLE, 'anything', { limit: 3 })).toEqual([]);
    expect(await store.searchVector(TABLE, vec(1, 0, 0, 0), { limit: 3 })).toEqual([]);
    // An empty table already has every column with its final type: nothing is inferred from data.
    const schema = await (await raw.openTable(TABLE)).schema();
    expect(schema.fields.map((f) => `${f.name}:${String(f.type)}:${f.nullable ? 'null' : 'not null'}`)).toEqual([
      'id:Utf8:not null',
      'doc_id:Utf8:not null',
      'source_id:Utf8:not null',
      'collection_id:Utf8:not null',
      'path:Utf8:not null',
      'format:Utf8:not null',
      'title:Utf8:null',
      'heading:Utf8:not null',
      'ordinal:Int32:not null',
      'page_start:Int32:null',
      'page_end:Int32:null',
      'line_start:Int32:null',
      'line_end:Int32:null',
      'text:Utf8:not null',
      'text_hash:Utf8:not null',
      'token_count:Int32:not null',
      'search_text:Utf8:not null',
      // Nullable: a chunk is written (and found by full text) before its vector exists.
      'vector:FixedSizeList[4]<Float32>:null',
    ]);
    expect(schema.metadata.get('model_id')).toBe('test-embed-4');
    expect(schema.metadata.get('model_name')).toBe('Test Embed (4d)');
    expect(schema.metadata.get('dimension')).toBe('4');

    // The first batch has only nulls in the nullable columns; the types stay as declared.
    await store.replaceDocuments(TABLE, ['a'], [row('a', 0, 'alpha', vec(1, 0, 0, 0))]);
    const after = await (await raw.openTable(TABLE)).schema();
    expect(after.fields.find((f) => f.name === 'page_start')?.type.toString()).toBe('Int32');
    expect(after.metadata.get('model_id')).toBe('test-embed-4');

    expect(await store.ensureTable(TABLE, SPEC)).toEqual({ ...SPEC, rows: 1 });
    expect(await store.tableInfo(TABLE)).toEqual({ ...SPEC, rows: 1 });
    expect(await store.tableInfo('chunks_missing_4')).toBeNull();
    expect(await store.listTables()).toEqual([TABLE]);
  });

  it('refuses an existing table made for another dimension or model, with a typed error', async () => {
    await store.ensureTable(TABLE, SPEC);
    const wrongDim = store.ensureTable(TABLE, { ...SPEC, dimension: 8 });
    await expect(wrongDim).rejects.toBeInstanceOf(ChunkTableMismatchError);
    await expect(wrongDim).rejects.toMatchObject({ code: 'BAD_INPUT', message: expect.stringContaining('dimension 4, not 8') });
    await expect(store.ensureTable(TABLE, { ...SPEC, modelId: 'other-model' })).rejects.toBeInstanceOf(ChunkTableMismatchError);
    // A new model gets its own table instead.
    const other = chunkTableName('nomic-embed-text-v1.5.Q8_0.gguf', 768);
    expect(other).toMatch(/^chunks_nomic_embed_text_v1_5_q8_0_gguf_[0-9a-f]{8}_768$/);
    await store.ensureTable(other, { dimension: 768, modelId: 'nomic-embed-text-v1.5.Q8_0.gguf', modelName: 'Nomic' });
    expect(await store.listTables()).toEqual([TABLE, other].sort());
    await store.dropTable(other);
    expect(await store.listTables()).toEqual([TABLE]);
  });

  it('rejects bad names, rows and vectors with BAD_INPUT', async () => {
    await expect(store.ensureTable('../escape', SPEC)).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await store.ensureTable(TABLE, SPEC);
    const bad = async (rows: ChunkRow[], docIds = ['a']) => {
      const error: unknown = await store.replaceDocuments(TABLE, docIds, rows).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HearthError);
      expect((error as HearthError).code).toBe('BAD_INPUT');
    };
    await bad([row('a', 0, 'x', vec(1, 0, 0))]);
    await bad([row('a', 0, 'x', vec(1, 0, 0, Number.NaN))]);
    await bad([row('b', 0, 'x', vec(1, 0, 0, 0))]);
    await bad([row('a', 0, 'x', vec(1, 0, 0, 0)), row('a', 0, 'y', vec(0, 1, 0, 0))]);
    await bad([row('a', 0, 'x', vec(1, 0, 0, 0), { ordinal: 1.5 })]);
    await bad([row('a', 0, 'x', vec(1, 0, 0, 0), { format: 'exe' as DocumentFormat })]);
    await expect(store.searchVector(TABLE, vec(1, 0), { limit: 3 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(store.searchText(TABLE, 'x', { limit: 0 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(store.searchText('chunks_nope_4', 'x', { limit: 3 })).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(await allIds()).toEqual([]);
  });
});

describe('ChunkStore writes', () => {
  beforeEach(async () => {
    await store.ensureTable(TABLE, SPEC);
    await store.replaceDocuments(
      TABLE,
      ['a', 'b'],
      [
        row('a', 0, 'apple orchard in spring', vec(1, 0, 0, 0)),
        row('a', 1, 'banana bread recipe', vec(0, 1, 0, 0)),
        row('a', 2, 'cherry blossom festival', vec(0, 0, 1, 0)),
        row('b', 0, 'durian smells strong', vec(0, 0, 0, 1)),
        row('b', 1, 'elderberry syrup', vec(1, 1, 0, 0)),
      ],
    );
  });

  it('replaces a document with fewer chunks in one commit, leaving no stale rows and other documents untouched', async () => {
    const bBefore = await store.docChunks(TABLE, 'b');
    const before = await rawVersion();
    const result = await store.replaceDocuments(TABLE, ['a'], [row('a', 0, 'apple orchard in autumn', vec(1, 0.1, 0, 0))]);
    expect(result).toEqual({ inserted: 0, updated: 1, deleted: 2 });
    expect(await rawVersion()).toBe(before + 1);
    expect(await allIds()).toEqual(['a#0', 'b#0', 'b#1']);
    expect((await store.docChunks(TABLE, 'a')).map((c) => c.text)).toEqual(['apple orchard in autumn']);
    expect(await store.docChunks(TABLE, 'b')).toEqual(bBefore);
    // The removed chunks' text is gone from full-text search too, and the new text is there.
    expect(await store.searchText(TABLE, 'banana cherry', { limit: 10 })).toEqual([]);
    expect((await store.searchText(TABLE, 'autumn', { limit: 10 })).map((h) => h.row.id)).toEqual(['a#0']);
    expect(await store.searchText(TABLE, 'spring', { limit: 10 })).toEqual([]);
  });

  it('grows a document in one commit, and serialises concurrent writes to a table', async () => {
    const before = await rawVersion();
    const grown = [row('b', 0, 'durian smells strong', vec(0, 0, 0, 1)), row('b', 1, 'elderberry syrup', vec(1, 1, 0, 0)), row('b', 2, 'fig tree', vec(0, 1, 1, 0))];
    expect(await store.replaceDocuments(TABLE, ['b'], grown)).toEqual({ inserted: 1, updated: 2, deleted: 0 });
    expect(await rawVersion()).toBe(before + 1);

    const docs = Array.from({ length: 8 }, (_, i) => `p${i}`);
    await Promise.all(docs.map((d, i) => store.replaceDocuments(TABLE, [d], [row(d, 0, `parallel ${i}`, vec(1, i, 0, 0)), row(d, 1, `parallel again ${i}`, vec(0, i, 1, 0))])));
    await Promise.all([store.deleteDocuments(TABLE, ['p0']), store.replaceDocuments(TABLE, ['p1'], [row('p1', 0, 'only one now', vec(1, 0, 0, 1))])]);
    expect(Object.fromEntries(await store.chunkCounts(TABLE))).toEqual({ a: 3, b: 3, p1: 1, p2: 2, p3: 2, p4: 2, p5: 2, p6: 2, p7: 2 });
  });

  it('ranks ids alone (for fusion) exactly as the full searches rank rows', async () => {
    const text = await store.searchText(TABLE, 'apple banana durian', { limit: 3 });
    expect(await store.rankText(TABLE, 'apple banana durian', { limit: 3 })).toEqual(text.map((h) => ({ id: h.row.id, score: h.score })));
    const vector = await store.searchVector(TABLE, vec(1, 0.5, 0, 0), { limit: 4 });
    expect(await store.rankVector(TABLE, vec(1, 0.5, 0, 0), { limit: 4 })).toEqual(vector.map((h) => ({ id: h.row.id, score: h.score })));
    // a#2 and b#0 are both orthogonal to the query: either may take the fourth place.
    expect(vector.map((h) => h.row.id).slice(0, 3)).toEqual(['b#1', 'a#0', 'a#1']);
    expect(['a#2', 'b#0']).toContain(vector[3]!.row.id);
  });

  it('is idempotent: replaying the same write leaves no duplicates', async () => {
    const rows = [row('c', 0, 'fig jam', vec(0, 0, 1, 1)), row('c', 1, 'grape juice', vec(0, 1, 1, 0))];
    expect(await store.replaceDocuments(TABLE, ['c'], rows)).toEqual({ inserted: 2, updated: 0, deleted: 0 });
    expect(await store.replaceDocuments(TABLE, ['c'], rows)).toEqual({ inserted: 0, updated: 2, deleted: 0 });
    expect(await store.replaceDocuments(TABLE, ['c'], rows)).toEqual({ inserted: 0, updated: 2, deleted: 0 });
    expect(await allIds()).toEqual(['a#0', 'a#1', 'a#2', 'b#0', 'b#1', 'c#0', 'c#1']);
    expect((await store.searchText(TABLE, 'grape', { limit: 10 })).map((h) => h.row.id)).toEqual(['c#1']);
    expect(Object.fromEntries(await store.chunkCounts(TABLE))).toEqual({ a: 3, b: 2, c: 2 });
  });

  it('deletes a document given no rows, and with deleteDocuments', async () => {
    expect(await store.replaceDocuments(TABLE, ['a'], [])).toEqual({ inserted: 0, updated: 0, deleted: 3 });
    expect(await allIds()).toEqual(['b#0', 'b#1']);
    expect(await store.deleteDocuments(TABLE, ['b', 'never-indexed'])).toBe(2);
    expect(await store.deleteDocuments(TABLE, ['b'])).toBe(0);
    expect(await store.deleteDocuments(TABLE, [])).toBe(0);
    expect(await allIds()).toEqual([]);
    expect(await store.chunkCounts(TABLE)).toEqual(new Map());
    expect(await store.searchText(TABLE, 'durian', { limit: 5 })).toEqual([]);
  });

  it('reads back vectors by text hash, counts per document, and chunks by id or document', async () => {
    const vectors = await store.vectorsByTextHash(TABLE, ['h:banana bread recipe', 'h:elderberry syrup', 'h:unknown', 'h:banana bread recipe']);
    expect([...vectors.keys()].sort()).toEqual(['h:banana bread recipe', 'h:elderberry syrup']);
    expect(vectors.get('h:elderberry syrup')).toEqual(vec(1, 1, 0, 0));
    expect(vectors.get('h:banana bread recipe')).toBeInstanceOf(Float32Array);

    expect(Object.fromEntries(await store.chunkCounts(TABLE))).toEqual({ a: 3, b: 2 });

    const chunks = await store.getChunks(TABLE, ['b#1', 'missing', 'a#0', 'b#1']);
    expect(chunks.map((c) => c.id)).toEqual(['b#1', 'a#0']);
    expect(chunks[1]).toEqual({
      id: 'a#0',
      docId: 'a',
      sourceId: 'src1',
      collectionId: 'col1',
      path: '/notes/a.md',
      format: 'markdown',
      title: null,
      heading: '',
      ordinal: 0,
      pageStart: null,
      pageEnd: null,
      lineStart: 1,
      lineEnd: 9,
      text: 'apple orchard in spring',
      textHash: 'h:apple orchard in spring',
      tokenCount: 4,
    });
    expect(chunks[1]).not.toHaveProperty('vector');

    // Written out of order, read back in reading order, with every nullable field set.
    const pdfRows = [2, 0, 1].map((i) =>
      row('p', i, `page text ${i}`, vec(0, 0, 1, i), { format: 'pdf', title: 'Report', heading: 'Intro › Scope', pageStart: i + 1, pageEnd: i + 2, lineStart: null, lineEnd: null }),
    );
    await store.replaceDocuments(TABLE, ['p'], pdfRows);
    const pdf = await store.docChunks(TABLE, 'p');
    expect(pdf.map((c) => c.ordinal)).toEqual([0, 1, 2]);
    expect(pdf[2]).toMatchObject({ format: 'pdf', title: 'Report', heading: 'Intro › Scope', pageStart: 3, pageEnd: 4, lineStart: null, lineEnd: null });
  });
});

describe('ChunkStore search', () => {
  /** 40 chunks over 8 dimensions: enough rows for the vector index (threshold 32 here). */
  function corpus(): ChunkRow[] {
    const words = ['river', 'mountain', 'forest', 'desert', 'ocean', 'valley', 'glacier', 'meadow'];
    const formats: DocumentFormat[] = ['markdown', 'pdf', 'text', 'html'];
    return Array.from({ length: 40 }, (_, i) => {
      const v = new Float32Array(8);
      const add = (dim: number, amount: number) => v.set([v[dim]! + amount], dim);
      add(i % 8, 1);
      add((i * 3 + 1) % 8, 0.5);
      add((i * 5 + 2) % 8, 0.25 * ((i % 4) + 1));
      const doc = `d${Math.floor(i / 4)}`;
      return row(doc, i % 4, `${words[i % 8]} ${words[(i * 3) % 8]} story number n${i}${i % 5 === 0 ? ' river river' : ''}`, v, {
        collectionId: i % 2 === 0 ? 'even' : 'odd',
        format: formats[i % 4]!,
        path: `/lib/${i < 20 ? 'first' : 'second'}/${doc}.txt`,
      });
    });
  }

  function cosine(a: Float32Array, b: Float32Array): number {
    let dot = 0;
    let na = 0;
    let nb = 0;
    for (let i = 0; i < a.length; i++) {
      dot += a[i]! * b[i]!;
      na += a[i]! * a[i]!;
      nb += b[i]! * b[i]!;
    }
    return dot / Math.sqrt(na * nb);
  }

  const SPEC8: TableSpec = { dimension: 8, modelId: 'test-embed-8', modelName: 'Test 8' };
  const T8 = 'chunks_test_8';

  async function load(rows: ChunkRow[]): Promise<void> {
    await store.ensureTable(T8, SPEC8);
    const docIds = [...new Set(rows.map((r) => r.docId))];
    for (const docId of docIds) await store.replaceDocuments(T8, [docId], rows.filter((r) => r.docId === docId));
  }

  function exactNearest(rows: ChunkRow[], query: Float32Array, keep: (r: ChunkRow) => boolean = () => true): string[] {
    return rows
      .filter(keep)
      .map((r) => ({ id: r.id, sim: cosine(r.vector!, query) }))
      .sort((a, b) => b.sim - a.sim || (a.id < b.id ? -1 : 1))
      .map((r) => r.id);
  }

  const query = Float32Array.from([0.9, 0.1, 0.3, 0, 0, 0, 0.2, 0]);

  it('ranks the nearest vector first with score = cosine similarity, before and after the vector index', async () => {
    const rows = corpus();
    await load(rows);
    const expected = exactNearest(rows, query);
    const check = async () => {
      const hits = await store.searchVector(T8, query, { limit: 5 });
      expect(hits.map((h) => h.row.id)).toEqual(expected.slice(0, 5));
      for (const hit of hits) {
        expect(hit.score).toBeCloseTo(cosine(rows.find((r) => r.id === hit.row.id)!.vector!, query), 5);
      }
      expect(hits.every((h, i) => i === 0 || hits[i - 1]!.score >= h.score)).toBe(true);
    };
    await check();
    const refreshed = await store.refreshIndexes(T8);
    expect(refreshed).toMatchObject({ rows: 40, vectorIndex: 'created' });
    const indexes = await (await raw.openTable(T8)).listIndices();
    expect(indexes.map((i) => `${i.name}:${i.indexType}`).sort()).toEqual([
      'collection_id_idx:Bitmap',
      'doc_id_idx:BTree',
      'format_idx:Bitmap',
      'id_idx:BTree',
      'text_idx:FTS',
      'vector_idx:IvfHnswSq',
    ]);
    await check();
    // A second refresh only folds new rows in; a cancelled one does nothing.
    expect(await store.refreshIndexes(T8)).toMatchObject({ ftsIndex: 'updated', vectorIndex: 'updated', scalarIndexes: 0 });
    await expect(store.refreshIndexes(T8, { signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' });
    await check();
  });

  it('refreshes a full-text-only table past the vector threshold, and builds the vector index once enough rows have vectors', async () => {
    const rows = corpus();
    await load(rows.map((r) => ({ ...r, vector: null })));
    // 40 rows, none with a vector: nothing to train a vector index on, and no error.
    expect(await store.refreshIndexes(T8)).toMatchObject({ rows: 40, vectorIndex: 'none' });
    expect((await store.searchText(T8, 'glacier', { limit: 3 })).length).toBeGreaterThan(0);
    const stored = await store.getChunks(T8, rows.map((r) => r.id));
    await store.setVectors(T8, stored.slice(0, 20).map((r) => ({ ...r, vector: rows.find((x) => x.id === r.id)!.vector! })));
    expect(await store.refreshIndexes(T8)).toMatchObject({ vectorIndex: 'none' });
    await store.setVectors(T8, stored.slice(20).map((r) => ({ ...r, vector: rows.find((x) => x.id === r.id)!.vector! })));
    expect(await store.refreshIndexes(T8)).toMatchObject({ rows: 40, vectorIndex: 'created' });
    expect((await store.searchVector(T8, query, { limit: 5 })).map((h) => h.row.id)).toEqual(exactNearest(rows, query).slice(0, 5));
  });

  it('finds rows written after the indexes were built, by full text and by vector, right after the write', async () => {
    const rows = corpus();
    await load(rows);
    await store.refreshIndexes(T8);
    const fresh = row('late', 0, 'zeppelin over the glacier', Float32Array.from([0, 0, 0, 0, 0, 0, 0, 1]), { path: '/lib/late.txt' });
    await store.replaceDocuments(T8, ['late'], [fresh]);
    expect((await store.searchText(T8, 'zeppelin', { limit: 3 })).map((h) => h.row.id)).toEqual(['late#0']);
    expect((await store.searchText(T8, 'glacier zeppelin', { limit: 1 })).map((h) => h.row.id)).toEqual(['late#0']);
    expect((await store.searchVector(T8, Float32Array.from([0, 0, 0, 0, 0, 0, 0, 1]), { limit: 1 }))[0]?.row.id).toBe('late#0');
    // Stemming applies to unindexed rows as to indexed ones.
    expect((await store.searchText(T8, 'zeppelins', { limit: 3 })).map((h) => h.row.id)).toEqual(['late#0']);
    const stats = await (await raw.openTable(T8)).indexStats('text_idx');
    expect(stats?.numUnindexedRows).toBe(1);
    await store.refreshIndexes(T8);
    expect(await (await raw.openTable(T8)).indexStats('text_idx')).toMatchObject({ numUnindexedRows: 0 });
    expect((await store.searchText(T8, 'zeppelin', { limit: 3 })).map((h) => h.row.id)).toEqual(['late#0']);
  });

  it('ranks BM25 hits by score with a correct top-k whether or not the FTS index covers them', async () => {
    const rows = corpus();
    const ranking = async (text = 'river desert', k = 4) => {
      const all = await store.searchText(T8, text, { limit: 100 });
      const top = await store.searchText(T8, text, { limit: k });
      expect(all.length).toBeGreaterThan(k);
      expect(all.every((h, i) => i === 0 || all[i - 1]!.score >= h.score)).toBe(true);
      // The same top k as ranking everything, up to the order of rows tied at the cut.
      expect(top.map((h) => h.score)).toEqual(all.slice(0, k).map((h) => h.score));
      const cut = all[k - 1]!.score;
      expect(top.filter((h) => h.score > cut)).toEqual(all.filter((h) => h.score > cut));
      // Rows with equal scores may come in any order (LanceDB versions differ): ids in rank
      // order, sorted within each run of equal scores.
      const groups: string[][] = [];
      all.forEach((h, i) => (i > 0 && Math.abs(all[i - 1]!.score - h.score) < 1e-6 ? groups.at(-1)!.push(h.row.id) : groups.push([h.row.id])));
      return groups.flatMap((group) => group.sort());
    };

    // 1. Rows written behind the store's back (no FTS index at all): searchText ranks itself.
    await store.ensureTable(T8, SPEC8);
    const direct = await raw.openTable(T8);
    await direct.add(rows.slice(0, 20).map(toColumns));
    direct.close();
    const unindexed = await ranking();

    // 2. Written through the store: the first write builds the FTS index.
    await store.replaceDocuments(T8, ['d0'], rows.filter((r) => r.docId === 'd0'));
    expect(await (await raw.openTable(T8)).indexStats('text_idx')).toMatchObject({ numIndexedRows: 20 });
    // The same hits; the order may differ, since the fallback's BM25 statistics are its own.
    expect((await ranking()).sort()).toEqual([...unindexed].sort());

    // 3. Half the rows unindexed, then all indexed: the same hits (scores shift with corpus stats).
    await load(rows.slice(20));
    expect(await (await raw.openTable(T8)).indexStats('text_idx')).toMatchObject({ numIndexedRows: 20, numUnindexedRows: 20 });
    const mixed = await ranking();
    await store.refreshIndexes(T8);
    expect(await (await raw.openTable(T8)).indexStats('text_idx')).toMatchObject({ numIndexedRows: 40, numUnindexedRows: 0 });
    expect((await ranking()).sort()).toEqual([...mixed].sort());

    // 4. Every indexed row deleted or rewritten: the write rebuilds the index so ranking stays right.
    await store.deleteDocuments(T8, [...new Set(rows.slice(0, 32).map((r) => r.docId))]);
    await load(rows.slice(32).map((r) => ({ ...r, text: `${r.text} rewritten` })));
    expect(await (await raw.openTable(T8)).indexStats('text_idx')).toMatchObject({ numIndexedRows: 8, numUnindexedRows: 0 });
    await store.replaceDocuments(T8, ['extra'], rows.slice(0, 3).map((r, i) => ({ ...r, id: `extra#${i}`, docId: 'extra', ordinal: i })));
    await ranking('river desert ocean meadow', 2);
  });

  it('treats quotes, operators and unicode in a text query as plain text', async () => {
    await load(corpus());
    await store.replaceDocuments(T8, ['u'], [row('u', 0, 'Über naïve café 日本語 "quoted" C++ a:b', new Float32Array(8).fill(1))]);
    const ids = async (q: string) => (await store.searchText(T8, q, { limit: 5 })).map((h) => h.row.id);
    for (const hostile of ['"unbalanced', 'river AND (', 'text:river', 'river OR NOT', '*', '+-!~^', "'; DROP TABLE x; --", '\u0000', 'x'.repeat(5000)]) {
      await expect(ids(hostile)).resolves.toBeInstanceOf(Array);
    }
    expect(await ids('')).toEqual([]);
    expect(await ids('   ')).toEqual([]);
    expect(await ids('"river')).toContain('d0#0');
    expect(await ids('uber')).toEqual(['u#0']);
    expect(await ids('CAFÉ')).toEqual(['u#0']);
    expect(await ids('日本語')).toEqual(['u#0']);
    expect(await ids('"quoted"')).toEqual(['u#0']);
  });

  it('filters by collection, document, path prefix and format in both searches', async () => {
    const rows = corpus();
    await load(rows);
    const check = async (filter: SearchFilter, keep: (r: ChunkRow) => boolean) => {
      const vector = await store.searchVector(T8, query, { limit: 50, filter });
      expect(vector.map((h) => h.row.id)).toEqual(exactNearest(rows, query, keep));
      const text = await store.searchText(T8, 'story', { limit: 50, filter });
      expect(text.map((h) => h.row.id).sort()).toEqual(rows.filter(keep).map((r) => r.id).sort());
    };
    for (const phase of ['before indexes', 'after indexes']) {
      if (phase === 'after indexes') await store.refreshIndexes(T8);
      await check({ collectionIds: ['even'] }, (r) => r.collectionId === 'even');
      await check({ docIds: ['d1', 'd7'] }, (r) => r.docId === 'd1' || r.docId === 'd7');
      await check({ pathPrefix: '/lib/second/' }, (r) => r.path.startsWith('/lib/second/'));
      await check({ formats: ['pdf', 'html'] }, (r) => r.format === 'pdf' || r.format === 'html');
      await check({ collectionIds: ['odd'], formats: ['pdf'], pathPrefix: '/lib/first' }, (r) => r.collectionId === 'odd' && r.format === 'pdf' && r.path.startsWith('/lib/first'));
      await check({ collectionIds: [] }, () => false);
      await check({}, () => true);
    }
  });
});

/** A ChunkRow as the table's columns, for writing behind the store's back. */
function toColumns(r: ChunkRow): Record<string, unknown> {
  return {
    id: r.id,
    doc_id: r.docId,
    source_id: r.sourceId,
    collection_id: r.collectionId,
    path: r.path,
    format: r.format,
    title: r.title,
    heading: r.heading,
    ordinal: r.ordinal,
    page_start: r.pageStart,
    page_end: r.pageEnd,
    line_start: r.lineStart,
    line_end: r.lineEnd,
    text: r.text,
    text_hash: r.textHash,
    token_count: r.tokenCount,
    search_text: searchText(r),
    vector: [...r.vector!],
  };
}

describe('sqlFilter', () => {
  it('quotes literals and never splices raw input', () => {
    expect(sqlString("it's")).toBe("'it''s'");
    expect(sqlString('C:\\dir\\')).toBe("'C:\\dir\\'");
    expect(buildWhere(undefined)).toBeNull();
    expect(buildWhere({})).toBeNull();
    expect(buildWhere({ pathPrefix: '' })).toBeNull();
    expect(buildWhere({ collectionIds: [] })).toBe('(FALSE)');
    expect(buildWhere({ collectionIds: ["a'b", 'a'], pathPrefix: "x' OR 1=1 --", formats: ['pdf'] })).toBe(
      "(collection_id IN ('a''b', 'a')) AND (starts_with(path, 'x'' OR 1=1 --')) AND (format IN ('pdf'))",
    );
  });

  const hostile = [
    "x' OR 1=1 --",
    "' OR '1'='1",
    "') OR ('a'='a",
    '%',
    '_',
    '%%',
    '\\',
    "\\'",
    "\\' OR 1=1 --",
    '\u0000',
    '"; DROP TABLE chunks; --',
    '日本語',
    'Ünïcödé 🙂',
    '/notes/',
  ];
  const paths = ["/notes/it's 100%_done.md", '/notes/itXs 100XXdone.md', 'C:\\Users\\me\\notes\\file.md', '/notes/日本語/ファイル.md', '/notes/a'];

  async function loadHostile(): Promise<void> {
    await store.ensureTable(TABLE, SPEC);
    await store.replaceDocuments(
      TABLE,
      paths.map((_, i) => `doc${i}`),
      paths.map((path, i) => row(`doc${i}`, 0, `shared words ${i}`, vec(1, i, 0, 0), { path, collectionId: `col${i}` })),
    );
  }

  async function matches(filter: SearchFilter): Promise<string[]> {
    const text = await store.searchText(TABLE, 'shared', { limit: 20, filter });
    const vector = await store.searchVector(TABLE, vec(1, 1, 0, 0), { limit: 20, filter });
    const ids = text.map((h) => h.row.path).sort();
    expect(vector.map((h) => h.row.path).sort()).toEqual(ids);
    return ids;
  }

  it('matches nothing, rather than everything, for hostile values, with and without scalar indexes', async () => {
    await loadHostile();
    expect(await matches({})).toHaveLength(paths.length);
    for (const value of [...hostile, 'refresh', ...hostile]) {
      if (value === 'refresh') {
        expect(await store.refreshIndexes(TABLE)).toMatchObject({ scalarIndexes: 4 });
        continue;
      }
      expect(await matches({ collectionIds: [value] }), value).toEqual([]);
      expect(await matches({ docIds: [value, `${value}x`] }), value).toEqual([]);
      expect(await matches({ formats: [value as DocumentFormat] }), value).toEqual([]);
      const prefixed = await matches({ pathPrefix: value });
      expect(prefixed, value).toEqual(value === '/notes/' ? paths.filter((p) => p.startsWith('/notes/')).sort() : []);
      expect(await store.getChunks(TABLE, [value])).toEqual([]);
      expect(await store.vectorsByTextHash(TABLE, [value])).toEqual(new Map());
      expect(await store.deleteDocuments(TABLE, [value])).toBe(0);
    }
    expect(await matches({})).toHaveLength(paths.length);
  });

  it('treats quotes, backslashes, % and _ in a path prefix as those characters', async () => {
    await loadHostile();
    expect(await matches({ pathPrefix: "/notes/it's 100%_" })).toEqual(["/notes/it's 100%_done.md"]);
    expect(await matches({ pathPrefix: '/notes/it_s' })).toEqual([]);
    expect(await matches({ pathPrefix: '/notes/it%' })).toEqual([]);
    expect(await matches({ pathPrefix: 'C:\\Users\\me\\' })).toEqual(['C:\\Users\\me\\notes\\file.md']);
    expect(await matches({ pathPrefix: '/notes/日本語/' })).toEqual(['/notes/日本語/ファイル.md']);
    expect(await matches({ collectionIds: ['col0', "col1' OR '1'='1"] })).toEqual(["/notes/it's 100%_done.md"]);
  });
});

describe('hybridSearch on a real table', () => {
  it('fuses BM25 and vector ranks, and reports each side', async () => {
    await store.ensureTable(TABLE, SPEC);
    await store.replaceDocuments(
      TABLE,
      ['k'],
      [
        row('k', 0, 'lighthouse keeper diary', vec(0, 0, 0, 1)),
        row('k', 1, 'lighthouse lens maintenance', vec(1, 0, 0, 0)),
        row('k', 2, 'harbour tides table', vec(0.9, 0.1, 0, 0)),
        row('k', 3, 'unrelated grocery list', vec(0, 1, 0, 0)),
      ],
    );
    const q = vec(1, 0.05, 0, 0);
    const hybrid = await hybridSearch(store, TABLE, { text: 'lighthouse', vector: q, limit: 3, mode: 'hybrid', candidates: 3 });
    // k#1 is first in both lists; k#0 is BM25-only, k#2 vector-only.
    expect(hybrid[0]).toMatchObject({ row: { id: 'k#1' }, bm25Rank: expect.any(Number), vectorRank: 1 });
    expect(hybrid[0]!.score).toBeCloseTo(1 / (60 + hybrid[0]!.bm25Rank!) + 1 / 61, 10);
    expect(hybrid.map((h) => h.row.id).sort()).toEqual(['k#0', 'k#1', 'k#2']);
    const k2 = hybrid.find((h) => h.row.id === 'k#2')!;
    expect(k2).toMatchObject({ bm25Rank: null, bm25Score: null, vectorRank: 2 });
    expect(k2.vectorSimilarity).toBeGreaterThan(0.9);

    const bm25 = await hybridSearch(store, TABLE, { text: 'lighthouse', vector: null, limit: 5, mode: 'bm25' });
    expect(bm25.map((h) => h.row.id).sort()).toEqual(['k#0', 'k#1']);
    expect(bm25.every((h) => h.vectorRank === null && h.bm25Score !== null)).toBe(true);

    const vector = await hybridSearch(store, TABLE, { text: '', vector: q, limit: 2, mode: 'vector' });
    expect(vector.map((h) => h.row.id)).toEqual(['k#1', 'k#2']);
    expect(vector[0]!.score).toBeCloseTo(1 / 61, 10);

    await expect(hybridSearch(store, TABLE, { text: 'x', vector: null, limit: 2, mode: 'hybrid' })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    const filtered = await hybridSearch(store, TABLE, { text: 'lighthouse', vector: q, limit: 5, mode: 'hybrid', filter: { docIds: ['other'] } });
    expect(filtered).toEqual([]);
  });
});
