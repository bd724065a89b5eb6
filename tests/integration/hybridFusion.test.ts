import { connect } from '@lancedb/lancedb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { arrow } from '../../src-main/core/search/arrow';
import { ChunkStore, chunkSchema, type ChunkRow, type TableSpec } from '../../src-main/core/search/chunkStore';
import { SEARCH_TEXT, searchText } from '../../src-main/core/search/chunkSchema';
import { DOCUMENT_EVIDENCE_WEIGHT, queryWords } from '../../src-main/core/search/documentEvidence';
import { CANDIDATE_POOL, hybridSearch } from '../../src-main/core/search/hybridSearch';
import { tempDir } from '../support/tempDir';

const DIM = 4;
const SPEC: TableSpec = { dimension: DIM, modelId: 'fusion-4', modelName: 'Fusion (4d)' };
const TABLE = 'chunks_fusion_4';

let dir: ReturnType<typeof tempDir>;
let store: ChunkStore;

beforeEach(async () => {
  dir = tempDir('hearth-fusion-');
  store = await ChunkStore.open(dir.path);
  await store.ensureTable(TABLE, SPEC);
});
afterEach(() => {
  store.close();
  dir.cleanup();
});

// A seeded generator: the same table every run.
let seed = 7;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);

function row(docId: string, ordinal: number, text: string, extra: Partial<ChunkRow> = {}): ChunkRow {
  return {
    id: `${docId}:${ordinal}`,
    docId,
    sourceId: 's',
    collectionId: 'c',
    path: `/notes/${docId}.md`,
    format: 'markdown',
    title: null,
    heading: '',
    ordinal,
    pageStart: null,
    pageEnd: null,
    lineStart: null,
    lineEnd: null,
    text,
    textHash: `h:${docId}:${ordinal}`,
    tokenCount: 10,
    vector: Float32Array.from({ length: DIM }, () => random() - 0.5),
    ...extra,
  };
}

const WORDS = 'ferry harbour timetable lantern copper meadow signal orbit winter garden engine ledger'.split(' ');
const sentence = () => Array.from({ length: 12 }, () => WORDS[Math.floor(random() * WORDS.length)]!).join(' ');

describe('hybrid fusion', () => {
  it('returns the same top 10 whatever limit is asked for: the pool per channel is fixed', async () => {
    // 300 passages that all mention "ferry" a different number of times, with vectors that
    // rank them in another order: the two lists disagree far beyond the top 10.
    const rows = Array.from({ length: 300 }, (_, i) => row(`d${i}`, 0, `ferry ${sentence()} ${sentence()}`));
    await store.replaceDocuments(TABLE, rows.map((r) => r.docId), rows);
    const vector = Float32Array.from([0.5, -0.2, 0.1, 0.4]);
    const top = async (limit: number) => (await hybridSearch(store, TABLE, { text: 'ferry harbour timetable', vector, limit, mode: 'hybrid' })).map((h) => h.row.id);
    const ten = await top(10);
    expect(ten).toHaveLength(10);
    for (const limit of [11, 25, 50, 99, 100]) {
      const more = await top(limit);
      expect(more.slice(0, 10), `limit ${limit}`).toEqual(ten);
      expect(more).toHaveLength(limit);
    }
    // With a pool that grew with the limit (the old max(50, 2 x limit)), the top 10 moved.
    const grown = async (limit: number) =>
      (await hybridSearch(store, TABLE, { text: 'ferry harbour timetable', vector, limit, mode: 'hybrid', candidates: Math.max(10, limit * 2) })).map((h) => h.row.id);
    expect((await grown(100)).slice(0, 10)).not.toEqual(await grown(10));
    expect(CANDIDATE_POOL).toBe(100);
  });

  it('weighs the vector list, and with weight 0 leaves it out entirely (no query vector needed)', async () => {
    const rows = Array.from({ length: 60 }, (_, i) => row(`d${i}`, 0, `${i % 2 ? 'ferry' : 'garden'} ${sentence()}`));
    await store.replaceDocuments(TABLE, rows.map((r) => r.docId), rows);
    const bm25 = await hybridSearch(store, TABLE, { text: 'ferry', vector: null, limit: 20, mode: 'bm25' });
    const off = await hybridSearch(store, TABLE, { text: 'ferry', vector: null, limit: 20, mode: 'hybrid', vectorWeight: 0 });
    expect(off.map((h) => h.row.id)).toEqual(bm25.map((h) => h.row.id));
    expect(off.every((h) => h.vectorRank === null && h.vectorSimilarity === null)).toBe(true);
    await expect(hybridSearch(store, TABLE, { text: 'ferry', vector: null, limit: 5, mode: 'hybrid', vectorWeight: 0.5 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
    await expect(hybridSearch(store, TABLE, { text: 'ferry', vector: null, limit: 5, mode: 'hybrid', vectorWeight: -1 })).rejects.toMatchObject({ code: 'BAD_INPUT' });

    // Off, with a query vector: BM25's hits keep their order and places; vector-only hits follow (score 0).
    const vector = rows[4]!.vector;
    const behind = await hybridSearch(store, TABLE, { text: 'ferry', vector, limit: 60, mode: 'hybrid', vectorWeight: 0 });
    const all = await hybridSearch(store, TABLE, { text: 'ferry', vector: null, limit: 60, mode: 'bm25' });
    expect(behind.slice(0, all.length).map((h) => h.row.id)).toEqual(all.map((h) => h.row.id));
    expect(behind.length).toBeGreaterThan(all.length);
    expect(behind.slice(all.length).every((h) => h.bm25Rank === null && h.score === 0 && h.relevance === 0 && h.vectorRank !== null)).toBe(true);
    const none = await hybridSearch(store, TABLE, { text: 'zeppelin', vector, limit: 5, mode: 'hybrid', vectorWeight: 0 });
    expect(none.map((h) => h.vectorRank)).toEqual([1, 2, 3, 4, 5]);

    const weighted = await hybridSearch(store, TABLE, { text: 'ferry', vector, limit: 20, mode: 'hybrid', vectorWeight: 0.25 });
    for (const hit of weighted) {
      const expected = (hit.bm25Rank ? 1 / (60 + hit.bm25Rank) : 0) + (hit.vectorRank ? 0.25 / (60 + hit.vectorRank) : 0);
      expect(hit.score).toBeCloseTo(expected, 12);
    }
  });

  it('gives each hit a relevance from 0 to 1: 1 at the top of every list that counts', async () => {
    const rows = Array.from({ length: 30 }, (_, i) => row(`d${i}`, 0, `ferry ${sentence()}`));
    await store.replaceDocuments(TABLE, rows.map((r) => r.docId), rows);
    const bm25 = await hybridSearch(store, TABLE, { text: 'ferry timetable', vector: null, limit: 30, mode: 'bm25' });
    expect(bm25[0]!.relevance).toBe(1);
    const relevances = bm25.map((h) => h.relevance);
    expect([...relevances].sort((a, b) => b - a)).toEqual(relevances);
    expect(relevances.every((r) => r > 0 && r <= 1)).toBe(true);
    // In hybrid, first in BM25 only is half of first in both.
    const hybrid = await hybridSearch(store, TABLE, { text: 'ferry timetable', vector: rows[3]!.vector, limit: 30, mode: 'hybrid' });
    for (const hit of hybrid) expect(hit.relevance).toBeCloseTo(hit.score / (2 / 61), 12);
  });
});

describe('titles and file names in every passage', () => {
  it('finds every chunk of a book by its title or file name, though the words are only there', async () => {
    const book = [0, 1, 2].map((i) =>
      row('wp', i, `Chapter ${i + 1}. The prince walked through the ballroom of the old house.`, { title: 'War and Peace', path: '/books/War_and_Peace.epub', format: 'epub' }),
    );
    const untitled = [0, 1].map((i) => row('budget', i, `Line ${i}: coffee, rent and paper for the office.`, { path: '/notes/Quarterly-Budget.md' }));
    const other = row('essay', 0, 'A short essay on why war is never simple, and what peace asks of us.');
    const rows = [...book, ...untitled, other];
    await store.replaceDocuments(TABLE, ['wp', 'budget', 'essay'], rows);

    const war = await store.searchText(TABLE, 'War and Peace', { limit: 10 });
    expect(war.slice(0, 3).map((h) => h.row.id).sort()).toEqual(['wp:0', 'wp:1', 'wp:2']);
    expect(war.map((h) => h.row.id)).toContain('essay:0');
    // Search shows the passage, not the column it was found by.
    expect(war[0]!.row.text).toMatch(/^Chapter \d\. The prince/);

    const budget = await store.searchText(TABLE, 'quarterly budget', { limit: 10 });
    expect(budget.map((h) => h.row.id).sort()).toEqual(['budget:0', 'budget:1']);
  });

  it('builds the searched text from title, file name and heading, once each', () => {
    const base = row('x', 0, 'Body text.');
    expect(searchText({ ...base, title: 'War and Peace', path: '/b/War_and_Peace.epub', heading: 'Book One › Chapter 1' })).toBe(
      'War and Peace · Book One › Chapter 1\nBody text.',
    );
    expect(searchText({ ...base, title: 'Notes', path: '/b/2024-budget.final.md', heading: '' })).toBe('Notes · 2024 budget final\nBody text.');
    expect(searchText({ ...base, title: null, path: '/b/readme', heading: '' })).toBe('readme\nBody text.');
  });

  it('still searches a table from before search_text, on its text column', async () => {
    const legacy = 'chunks_legacy_4';
    const fields = chunkSchema(SPEC).fields.filter((f) => f.name !== SEARCH_TEXT);
    const db = await connect(dir.path);
    const table = await db.createEmptyTable(legacy, new arrow.Schema(fields, chunkSchema(SPEC).metadata));
    const old = row('old', 0, 'An old passage about the harbour ferry.');
    const { vector, ...scalars } = old;
    const record: Record<string, unknown> = { ...scalars, vector: Array.from(vector!) };
    const columns = Object.fromEntries(
      Object.entries({ doc_id: 'docId', source_id: 'sourceId', collection_id: 'collectionId', page_start: 'pageStart', page_end: 'pageEnd', line_start: 'lineStart', line_end: 'lineEnd', text_hash: 'textHash', token_count: 'tokenCount' }).map(([c, k]) => [c, record[k]]),
    );
    await table.add([{ id: old.id, path: old.path, format: old.format, title: null, heading: '', ordinal: 0, text: old.text, vector: Array.from(vector!), ...columns }]);
    table.close();
    db.close();
    const hits = await store.searchText(legacy, 'ferry', { limit: 5 });
    expect(hits.map((h) => h.row.id)).toEqual(['old:0']);
  });
});

describe('document evidence in the full-text channel', () => {
  /** A document whose query words are spread over short passages, one holding two of them in one passage, and others. */
  async function library(): Promise<ChunkRow[]> {
    const spread = ['copper kettle on the stove', 'a lantern by the door', 'the meadow behind the barn', 'nothing here but rain'].map((text, i) =>
      row('spread', i, text, { path: '/notes/spread.md' }),
    );
    const pair = [row('pair', 0, 'copper lantern on the shelf', { path: '/notes/pair.md' }), row('pair', 1, 'rain on the roof', { path: '/notes/pair.md' })];
    const other = [0, 1].map((i) => row(`other${i}`, 0, `a kettle, a lantern ${i === 0 ? 'and a barn' : 'at sea'}`, { collectionId: 'c2', path: `/notes/other${i}.md` }));
    const filler = Array.from({ length: 20 }, (_, i) => row(`filler${i}`, 0, `rain falls on the quiet town, day ${i}`, { path: `/notes/filler${i}.md` }));
    const rows = [...spread, ...pair, ...other, ...filler];
    await store.replaceDocuments(TABLE, [...new Set(rows.map((r) => r.docId))], rows);
    return rows;
  }

  it("lifts each document's best passage by its document's score: per query word, its best passage for that word", async () => {
    await library();
    const query = 'copper lantern meadow, copper!';
    const words = ['copper', 'lantern', 'meadow'];
    expect(queryWords(query)).toEqual(words);
    // The reference, from the store's own BM25: the pool for the distinct words, then one search per word.
    const own = await store.rankTextPassages(TABLE, words.join(' '), { limit: 100 });
    const perWord = await Promise.all(words.map((word) => store.rankTextPassages(TABLE, word, { limit: 100 })));
    const documentScore = (docId: string) => perWord.reduce((sum, hits) => sum + Math.max(0, ...hits.filter((h) => h.docId === docId).map((h) => h.score)), 0);
    const weight = 3;
    const expected = own.map((hit) => {
      const best = own.find((h) => h.docId === hit.docId)!;
      return { id: hit.id, score: best === hit ? hit.score + weight * documentScore(hit.docId) : hit.score };
    });
    const hits = await hybridSearch(store, TABLE, { text: query, vector: null, limit: 100, mode: 'bm25', documentWeight: weight });
    expect(hits.map((h) => h.row.id)).toEqual([...expected].sort((a, b) => b.score - a.score).map((h) => h.id));
    // The passage's own BM25 is what a hit reports; the ranks are the document-aware ones.
    for (const hit of hits) expect(hit.bm25Score).toBe(own.find((h) => h.id === hit.row.id)!.score);
    expect(hits.map((h) => h.bm25Rank)).toEqual(hits.map((_, i) => i + 1));

    // Alone, the passage with two of the words wins; with its document's evidence, the document
    // that holds all three (one per passage) does, as whole-document BM25 would rank them.
    const alone = await hybridSearch(store, TABLE, { text: query, vector: null, limit: 100, mode: 'bm25', documentWeight: 0 });
    expect(alone.map((h) => h.row.id)).toEqual((await store.rankTextPassages(TABLE, query, { limit: 100 })).map((h) => h.id));
    expect(alone[0]!.row.id).toBe('pair:0');
    expect(hits[0]!.row.docId).toBe('spread');
    const byDefault = await hybridSearch(store, TABLE, { text: query, vector: null, limit: 100, mode: 'bm25' });
    expect(byDefault[0]!.row.docId).toBe('spread');
    expect(DOCUMENT_EVIDENCE_WEIGHT).toBe(1);
    await expect(hybridSearch(store, TABLE, { text: query, vector: null, limit: 5, mode: 'bm25', documentWeight: -1 })).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('keeps the best passage first among its document, so a citation points at it', async () => {
    await library();
    for (const query of ['copper lantern meadow', 'kettle lantern barn', 'rain meadow']) {
      const own = await store.rankTextPassages(TABLE, query, { limit: 100 });
      const hits = await hybridSearch(store, TABLE, { text: query, vector: null, limit: 100, mode: 'bm25' });
      for (const docId of new Set(own.map((h) => h.docId))) {
        const mine = (list: { docId: string; id: string }[]) => list.filter((h) => h.docId === docId).map((h) => h.id);
        expect(mine(hits.map((h) => ({ docId: h.row.docId, id: h.row.id }))), `${query}: ${docId}`).toEqual(mine(own));
      }
    }
  });

  it('takes evidence only from documents within the filter and keeps the top 10 whatever the limit', async () => {
    await library();
    const c2 = await hybridSearch(store, TABLE, { text: 'kettle lantern barn', vector: null, limit: 10, mode: 'bm25', filter: { collectionIds: ['c2'] } });
    expect(c2.map((h) => h.row.id)).toEqual(['other0:0', 'other1:0']);
    const all = await hybridSearch(store, TABLE, { text: 'kettle lantern barn', vector: null, limit: 10, mode: 'bm25' });
    expect(all.map((h) => h.row.docId)).toContain('spread');
    // Many documents of several passages each: the document-aware top 10 does not move with the limit.
    const rows = Array.from({ length: 120 }, (_, d) => [0, 1, 2].map((i) => row(`m${d}`, i, `ferry ${sentence()}`))).flat();
    await store.replaceDocuments(TABLE, [...new Set(rows.map((r) => r.docId))], rows);
    const top = async (limit: number) => (await hybridSearch(store, TABLE, { text: 'ferry harbour timetable', vector: null, limit, mode: 'bm25' })).map((h) => h.row.id);
    const ten = await top(10);
    for (const limit of [11, 37, 100]) expect((await top(limit)).slice(0, 10), `limit ${limit}`).toEqual(ten);
    // (and the evidence did reorder the pool: documents' best passages first)
    const alone = (await hybridSearch(store, TABLE, { text: 'ferry harbour timetable', vector: null, limit: 100, mode: 'bm25', documentWeight: 0 })).map((h) => h.row.id);
    expect(await top(100)).not.toEqual(alone);
  });
});
