import { readFileSync, utimesSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { indexKey } from '../../src-main/core/library/documentLibrary';
import { ChunkStore } from '../../src-main/core/search/chunkStore';
import { createLibraryCore, indexPath, waitUntil } from '../support/libraryCore';
import { CORPUS, writeCorpus } from '../support/retrievalCorpus';
import { tempDir } from '../support/tempDir';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Parameters<typeof createLibraryCore>[0] = {}) {
  const lib = await createLibraryCore(options);
  cleanups.push(lib.cleanup);
  const docs = tempDir('hearth-docs-');
  cleanups.push(docs.cleanup);
  return { ...lib, docs: docs.path };
}

async function openStore(dataDir: string): Promise<ChunkStore> {
  const store = await ChunkStore.open(join(dataDir, 'index'));
  cleanups.push(() => store.close());
  return store;
}

const sum = (counts: Map<string, number>) => [...counts.values()].reduce((a, b) => a + b, 0);

describe('full text first (real files, SQLite, LanceDB and the stories260K GGUF)', () => {
  it('indexes without an embedding model, searches by full text and says so, then adds vectors without reading the files again', async () => {
    const { core, docs, dataDir, model } = await setup();
    writeCorpus(docs);
    const chess = join(docs, 'notes/chess.md');
    // A whole-second time stamp, so it can be put back exactly after the edit below.
    utimesSync(chess, 1_700_000_000, 1_700_000_000);
    core.models.setDefault('embedding', null);
    const { source } = await indexPath(core, docs);
    expect(source.counts).toEqual({ pending: 0, indexed: Object.keys(CORPUS).length, skipped: 0, failed: 0 });
    expect(core.embedder.stats.embeddedTexts).toBe(0);
    // Full text is the plan without an embedding model: no passage is said to wait for vectors.
    expect(await core.library.status()).toMatchObject({ blocker: null, active: null, target: null, mode: 'full-text', vectorsPending: 0 });
    expect((await core.library.status()).chunks).toBeGreaterThan(0);

    // The default (hybrid) search runs on full text alone and each hit says so.
    const hits = await core.library.search({ query: 'Najdorf' });
    expect(hits[0]).toMatchObject({ path: join(docs, 'notes/chess.md'), mode: 'full-text', vectorRank: null, similarity: null });
    await expect(core.library.search({ query: 'Najdorf', mode: 'vector' })).rejects.toMatchObject({ code: 'EMBEDDING_MODEL_MISSING' });

    // Same size and time stamp, other bytes: only a file read again would see the change.
    const size = statSync(chess).size;
    writeFileSync(chess, readFileSync(chess, 'utf8').replace('Najdorf', 'Zzzzzzz'));
    utimesSync(chess, 1_700_000_000, 1_700_000_000);
    expect(statSync(chess).size).toBe(size);

    // The embedding model arrives: a job gives every chunk a vector, copying the chunks over.
    core.models.setDefault('embedding', model.id);
    const job = core.library.embeddingModelChanged();
    expect(job).not.toBeNull();
    expect((await core.jobs.wait(job!.id)).status).toBe('completed');
    const status = await core.library.status();
    expect(status).toMatchObject({ mode: 'hybrid', active: { modelId: model.id, dimension: 64 }, blocker: null });
    const store = await openStore(dataDir);
    const key = indexKey(model.id, 64);
    expect(await store.listTables()).toEqual([key]);
    expect((await store.unembeddedCounts(key)).size).toBe(0);
    expect(sum(await store.chunkCounts(key))).toBe(status.chunks);
    // Each distinct chunk text was embedded once, and the files were not parsed again.
    expect(core.embedder.stats.embeddedTexts).toBeLessThanOrEqual(status.chunks);
    // The chunks were copied, not read again: the old word is still what the index holds.
    expect((await core.library.search({ query: 'Najdorf', mode: 'bm25' }))[0]).toMatchObject({ path: chess, mode: 'full-text' });
    expect(await core.library.search({ query: 'Zzzzzzz', mode: 'bm25' })).toEqual([]);
    const hybrid = await core.library.search({ query: 'Najdorf' });
    expect(hybrid.every((hit) => hit.mode === 'hybrid')).toBe(true);
    expect(hybrid.find((hit) => hit.path === chess)).toMatchObject({ bm25Rank: 1 });
    expect(hybrid.some((hit) => hit.similarity !== null)).toBe(true);
  });

  it('makes small files searchable while a big one is still embedding; cancel keeps them, and a rescan redoes nothing finished', async () => {
    const { core, docs, dataDir, model } = await setup();
    // Read first (by path), the big file used to hold every later file in its batch.
    const big = Array.from({ length: 120 }, (_, i) => `## Part ${i}\n\nThe archive volume ${i} lists ledger entry ${i * 13} in faded ink, ${'with more words '.repeat(12)}`).join('\n\n');
    writeFileSync(join(docs, 'a-big.md'), `# Archive\n\n${big}\n`);
    for (let i = 0; i < 6; i++) writeFileSync(join(docs, `b-note-${i}.md`), `# Note ${i}\n\nThe zeppelin${i} hangar smells of varnish.\n`);
    const collection = core.library.ensureCollection('Docs');
    const { job } = core.library.addSource(collection.id, docs);
    const store = await openStore(dataDir);
    const key = indexKey(model.id, 64);
    const bigId = () => core.library.documents({}).find((d) => d.path.endsWith('a-big.md'))?.id;

    // Small files: indexed and found by full text and vector while the big file still waits for vectors.
    await waitUntil(async () => {
      const small = core.library.documents({ status: 'indexed' }).filter((d) => d.path.includes('b-note-'));
      return small.length === 6 && (await store.unembeddedCounts(key)).size === 1;
    }, 'the small files to be indexed and embedded', 60_000);
    expect(core.jobs.get(job.id).status).toBe('running');
    expect((await store.unembeddedCounts(key)).has(bigId()!)).toBe(true);
    // Big enough that its vectors take many embedding calls.
    expect(core.library.documents({}).find((d) => d.id === bigId())!.chunkCount).toBeGreaterThan(32);
    const found = await core.library.search({ query: 'zeppelin3 hangar', mode: 'bm25' });
    expect(found[0]?.path).toBe(join(docs, 'b-note-3.md'));
    // The big file is searchable by its text before its vectors are made.
    expect((await core.library.search({ query: 'ledger entry 1300 volume 100', mode: 'bm25' }))[0]?.path).toBe(join(docs, 'a-big.md'));
    const progress = core.jobs.get(job.id);
    expect(progress.progress).toBeGreaterThan(0.2);
    expect(progress.detail).toMatch(/^Embedding \d+\/\d+ chunks · 7 files searchable/);

    core.jobs.cancel(job.id);
    expect((await core.jobs.wait(job.id)).status).toBe('cancelled');
    const afterCancel = core.library.documents({});
    expect(afterCancel.filter((d) => d.status === 'indexed')).toHaveLength(7);
    const vectorless = sum(await store.unembeddedCounts(key));
    expect(vectorless).toBeGreaterThan(0);
    // The status says so (never "up to date" while passages lack vectors), until the embedding pass fills them.
    expect(await core.library.status()).toMatchObject({ job: null, mode: 'hybrid', vectorsPending: vectorless });
    expect((await core.library.search({ query: 'zeppelin5 hangar', mode: 'bm25' }))[0]?.path).toBe(join(docs, 'b-note-5.md'));

    // A rescan reads nothing again and embeds only the chunks still without a vector.
    const embeddedBefore = core.embedder.stats.embeddedTexts;
    expect((await core.jobs.wait(core.library.rescan().id)).status).toBe('completed');
    const updated = new Map(afterCancel.map((d) => [d.id, d.updatedAt]));
    for (const doc of core.library.documents({})) expect(doc.updatedAt, doc.path).toBe(updated.get(doc.id));
    expect(core.embedder.stats.embeddedTexts - embeddedBefore).toBeLessThanOrEqual(vectorless);
    expect((await store.unembeddedCounts(key)).size).toBe(0);
    expect(await core.library.status()).toMatchObject({ job: null, vectorsPending: 0 });
  }, 120_000);
});
