import { connect } from '@lancedb/lancedb';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { arrow } from '../../src-main/core/search/arrow';
import { ChunkStore, type ChunkRow } from '../../src-main/core/search/chunkStore';
import { legacyChunkFields, SEARCH_TEXT } from '../../src-main/core/search/chunkSchema';
import { tempDir } from '../support/tempDir';

/** Chunks written before their vectors exist: found by full text at once, by vector once set. */
const TABLE = 'chunks_later_4';
const SPEC = { dimension: 4, modelId: 'test-embed-4', modelName: 'Test Embed (4d)' };
let dir: ReturnType<typeof tempDir>;
let store: ChunkStore;

beforeEach(async () => {
  dir = tempDir('hearth-vectors-');
  store = await ChunkStore.open(dir.path);
});
afterEach(() => {
  store.close();
  dir.cleanup();
});

function row(docId: string, ordinal: number, text: string, vector: Float32Array | null): ChunkRow {
  return {
    id: `${docId}:${ordinal}`, docId, sourceId: 's', collectionId: 'c', path: `/n/${docId}.md`, format: 'markdown', title: null, heading: '',
    ordinal, pageStart: null, pageEnd: null, lineStart: 1, lineEnd: 2, text, textHash: `h:${text}`, tokenCount: 3, vector,
  };
}

describe('chunks without vectors yet', () => {
  it('are found by full text, skipped by vector search, listed as unembedded, and searchable by vector once set', async () => {
    await store.ensureTable(TABLE, SPEC);
    await store.replaceDocuments(TABLE, ['a', 'b'], [
      row('a', 0, 'lighthouse keeper', Float32Array.of(1, 0, 0, 0)),
      row('b', 0, 'lighthouse fog horn', null),
      row('b', 1, 'harbour pilot', null),
    ]);
    expect((await store.searchText(TABLE, 'lighthouse', { limit: 5 })).map((h) => h.row.id).sort()).toEqual(['a:0', 'b:0']);
    expect((await store.searchVector(TABLE, Float32Array.of(0, 1, 0, 0), { limit: 5 })).map((h) => h.row.id)).toEqual(['a:0']);
    expect(await store.unembeddedCounts(TABLE)).toEqual(new Map([['b', 2]]));
    expect((await store.unembedded(TABLE, ['b'])).map((r) => r.id)).toEqual(['b:0', 'b:1']);
    // A vector is only reused from a chunk that has one.
    expect([...(await store.vectorsByTextHash(TABLE, ['h:lighthouse keeper', 'h:harbour pilot'])).keys()]).toEqual(['h:lighthouse keeper']);

    const [, pilot] = await store.unembedded(TABLE, ['b']);
    await store.setVectors(TABLE, [{ ...pilot!, vector: Float32Array.of(0, 1, 0, 0) }, { ...pilot!, id: 'gone:0', vector: Float32Array.of(0, 0, 1, 0) }]);
    expect(await store.unembeddedCounts(TABLE)).toEqual(new Map([['b', 1]]));
    const [nearest] = await store.searchVector(TABLE, Float32Array.of(0, 1, 0, 0), { limit: 1 });
    expect(nearest).toMatchObject({ row: { id: 'b:1', text: 'harbour pilot', lineStart: 1 } });
    expect(nearest!.score).toBeCloseTo(1, 5);
    // Setting vectors kept every other column and the full-text ranking.
    expect((await store.searchText(TABLE, 'harbour', { limit: 5 })).map((h) => h.row.id)).toEqual(['b:1']);
    expect(await store.tableInfo(TABLE)).toEqual({ ...SPEC, rows: 3 });
    await expect(store.setVectors(TABLE, [{ ...pilot!, vector: Float32Array.of(1, 2) }])).rejects.toMatchObject({ code: 'BAD_INPUT' });
  });

  it('sets vectors on a big table with null vectors after its indexes were refreshed (a partial merge failed there)', async () => {
    const v = (seed: number) => Float32Array.from({ length: 4 }, (_, i) => Math.sin(seed * 7 + i) + 1.5);
    await store.ensureTable(TABLE, SPEC);
    await store.replaceDocuments(TABLE, ['a'], [row('a', 0, 'alpha', v(1))]);
    await store.replaceDocuments(TABLE, ['b'], Array.from({ length: 1500 }, (_, i) => row('b', i, `beta ${i}`, null)));
    await store.refreshIndexes(TABLE);
    await store.replaceDocuments(TABLE, ['d'], Array.from({ length: 300 }, (_, i) => row('d', i, `delta ${i}`, null)));
    const pending = await store.unembedded(TABLE, ['d']);
    for (let k = 0; k < 3; k++) await store.setVectors(TABLE, pending.slice(k * 16, k * 16 + 16).map((r, i) => ({ ...r, vector: v(k * 16 + i) })));
    expect(await store.unembeddedCounts(TABLE)).toEqual(new Map([['b', 1500], ['d', 300 - 48]]));
    expect((await store.searchText(TABLE, 'delta', { limit: 400 })).length).toBe(300);
  });

  it('opens a table made before vectors could come later, relaxing its vector column and keeping its rows', async () => {
    const raw = await connect(dir.path);
    const schema = new arrow.Schema(legacyChunkFields(4), new Map([['model_id', SPEC.modelId], ['model_name', SPEC.modelName], ['dimension', '4'], ['hearth_schema', '1']]));
    const legacy = await raw.createEmptyTable(TABLE, schema);
    const { vector: _vector, ...old } = row('a', 0, 'old row', null);
    // Every column the legacy schema has, the derived full-text column included.
    const columns = Object.fromEntries(Object.entries(old).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), v]));
    await legacy.add([{ ...columns, [SEARCH_TEXT]: 'old row', vector: [1, 0, 0, 0] }]);
    legacy.close();
    raw.close();
    expect(await store.ensureTable(TABLE, SPEC)).toEqual({ ...SPEC, rows: 1 });
    await store.replaceDocuments(TABLE, ['b'], [row('b', 0, 'new row without vector', null)]);
    expect(await store.unembeddedCounts(TABLE)).toEqual(new Map([['b', 1]]));
    expect((await store.searchText(TABLE, 'row', { limit: 5 })).length).toBeGreaterThanOrEqual(1);
  });
});
