import { appendFileSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { indexKey } from '../../src-main/core/library/documentLibrary';
import { ChunkStore } from '../../src-main/core/search/chunkStore';
import { openDatabase } from '../../src-main/core/storage/database';
import { createLibraryCore, indexPath, waitUntil } from '../support/libraryCore';
import { CORPUS, LABELLED_QUERIES, writeCorpus } from '../support/retrievalCorpus';
import { ggufBytes } from '../support/ggufWriter';
import { tempDir } from '../support/tempDir';
import { testModelPath } from '../support/testModels';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(options: Parameters<typeof createLibraryCore>[0] = {}) {
  const lib = await createLibraryCore(options);
  cleanups.push(lib.cleanup);
  const docs = tempDir('hearth-docs-');
  cleanups.push(docs.cleanup);
  writeCorpus(docs.path);
  return { ...lib, docs: docs.path };
}

async function openStore(dataDir: string): Promise<ChunkStore> {
  const store = await ChunkStore.open(join(dataDir, 'index'));
  cleanups.push(() => store.close());
  return store;
}

describe('document library (real files, real SQLite, real LanceDB, real embeddings)', () => {
  it('indexes a folder, and SQLite and LanceDB agree chunk for chunk', async () => {
    const { core, docs, dataDir, model } = await setup();
    const { source, collection } = await indexPath(core, docs);
    expect(source.counts).toEqual({ pending: 0, indexed: Object.keys(CORPUS).length, skipped: 0, failed: 0 });

    const status = await core.library.status();
    expect(status.active).toMatchObject({ modelId: model.id, modelName: model.name, dimension: 64 });
    expect(status.blocker).toBeNull();

    const store = await openStore(dataDir);
    const counts = await store.chunkCounts(indexKey(model.id, 64));
    const rows = core.library.documents({ collectionId: collection.id });
    for (const doc of rows) expect(counts.get(doc.id), doc.path).toBe(doc.chunkCount);
    expect(status.chunks).toBe([...counts.values()].reduce((a, b) => a + b, 0));
    expect(core.library.collections()[0]).toMatchObject({ name: 'Docs', sourceCount: 1, documentCount: rows.length, chunkCount: status.chunks });
  });

  it('re-scanning an unchanged folder embeds nothing; an edit embeds only what changed; a rename re-embeds nothing', async () => {
    const { core, docs, dataDir, model } = await setup();
    const { source } = await indexPath(core, docs);
    const firstRun = core.embedder.stats.embeddedTexts;
    expect(firstRun).toBeGreaterThan(0);

    // Unchanged: not a single text embedded.
    await core.jobs.wait(core.library.requestIndex([source.id]).id);
    expect(core.embedder.stats.embeddedTexts).toBe(firstRun);

    // Touched but identical bytes: the content hash says unchanged.
    writeFileSync(join(docs, 'garage/bicycle.md'), CORPUS['garage/bicycle.md']!);
    await core.jobs.wait(core.library.requestIndex([source.id]).id);
    expect(core.embedder.stats.embeddedTexts).toBe(firstRun);

    // An appended section: only its new chunk is embedded, the rest reuse their vectors.
    appendFileSync(join(docs, 'kitchen/sourdough.md'), '\n\n## Scoring\n\nSlash the loaf with a lame just before it goes into the Dutch oven.\n');
    await core.jobs.wait(core.library.requestIndex([source.id]).id);
    const afterEdit = core.embedder.stats.embeddedTexts;
    expect(afterEdit - firstRun).toBeGreaterThanOrEqual(1);
    expect(afterEdit - firstRun).toBeLessThanOrEqual(2);
    const hits = await core.library.search({ query: 'Dutch oven lame', mode: 'bm25' });
    expect(hits[0]?.path).toBe(join(docs, 'kitchen/sourdough.md'));

    // Renamed: the old path's chunks go, the new path's arrive, and no text is embedded again.
    renameSync(join(docs, 'notes/chess.md'), join(docs, 'notes/openings.md'));
    await core.jobs.wait(core.library.requestIndex([source.id]).id);
    expect(core.embedder.stats.embeddedTexts).toBe(afterEdit);
    const chess = await core.library.search({ query: 'Najdorf', mode: 'bm25' });
    expect(chess.map((h) => h.path)).toEqual([join(docs, 'notes/openings.md')]);

    // Deleted: its chunks leave the index and its row leaves the list.
    rmSync(join(docs, 'home/boiler.txt'));
    await core.jobs.wait(core.library.requestIndex([source.id]).id);
    expect(await core.library.search({ query: 'radiators gurgling', mode: 'bm25' })).toEqual([]);
    expect(core.library.documents({}).map((d) => d.path)).not.toContain(join(docs, 'home/boiler.txt'));

    const store = await openStore(dataDir);
    const counts = await store.chunkCounts(indexKey(model.id, 64));
    const rows = core.library.documents({});
    expect(new Set(counts.keys())).toEqual(new Set(rows.map((d) => d.id)));
    for (const doc of rows) expect(counts.get(doc.id), doc.path).toBe(doc.chunkCount);
  });

  it('ranks the labelled document first with BM25 alone, and still first with hybrid search', async () => {
    const { core, docs } = await setup();
    await indexPath(core, docs);
    for (const { query, expected } of LABELLED_QUERIES) {
      const bm25 = await core.library.search({ query, mode: 'bm25', limit: 5 });
      expect(bm25[0]?.path, `BM25: ${query}`).toBe(join(docs, expected));
      expect(bm25[0]?.bm25Rank).toBe(1);
      const hybrid = await core.library.search({ query, limit: 5 });
      expect(hybrid[0]?.path, `hybrid: ${query}`).toBe(join(docs, expected));
      expect(hybrid[0]?.vectorRank, 'hybrid results carry their vector rank').not.toBeUndefined();
    }
    const vector = await core.library.search({ query: 'anything at all', mode: 'vector', limit: 3 });
    expect(vector).toHaveLength(3);
    expect(vector.every((h) => h.similarity !== null && h.bm25Rank === null)).toBe(true);
  });

  it('filters by collection, path and type', async () => {
    const { core, docs } = await setup();
    const other = tempDir('hearth-other-');
    cleanups.push(other.cleanup);
    writeFileSync(join(other.path, 'levain.md'), '# Levain\n\nA second levain note, in another collection.');
    const { collection: kitchen } = await indexPath(core, docs, 'Kitchen');
    const { collection: extra } = await indexPath(core, other.path, 'Extra');

    const all = await core.library.search({ query: 'levain', mode: 'bm25' });
    expect(new Set(all.map((h) => h.collectionId))).toEqual(new Set([kitchen.id, extra.id]));
    const onlyExtra = await core.library.search({ query: 'levain', mode: 'bm25', collectionIds: [extra.id] });
    expect(onlyExtra.map((h) => h.path)).toEqual([join(other.path, 'levain.md')]);
    const underKitchen = await core.library.search({ query: 'levain', mode: 'bm25', pathPrefix: join(docs, 'kitchen') });
    expect(underKitchen.map((h) => h.path)).toEqual([join(docs, 'kitchen/sourdough.md')]);
    const code = await core.library.search({ query: 'semicolons', formats: ['code'] });
    expect(code.every((h) => h.format === 'code')).toBe(true);
    expect(code[0]?.path).toBe(join(docs, 'code/parser.ts'));
    // A hostile prefix matches nothing rather than everything.
    expect(await core.library.search({ query: 'levain', mode: 'bm25', pathPrefix: "/x' OR '1'='1" })).toEqual([]);
  });

  it('keeps chunk locations: line ranges that point at the passage', async () => {
    const { core, docs } = await setup();
    await indexPath(core, docs);
    const [hit] = await core.library.search({ query: 'oxalic acid varroa', mode: 'bm25' });
    expect(hit).toBeDefined();
    const lines = CORPUS['garden/beekeeping.txt']!.split('\n');
    const { lineStart, lineEnd } = hit!.location;
    expect(lineStart).not.toBeNull();
    const passage = lines.slice(lineStart! - 1, lineEnd!).join('\n');
    expect(passage).toContain('oxalic acid');
    const chunk = await core.library.chunk(hit!.chunkId);
    expect(chunk.text).toBe(hit!.text);
  });

  it('pauses and resumes an indexing job without losing or repeating work', async () => {
    // Small write batches, so documents are committed (and counted) as the job goes.
    const { core, docs, dataDir, model } = await setup({ library: { writeBatchChunks: 4 } });
    for (let i = 0; i < 110; i++) writeFileSync(join(docs, `bulk-${String(i).padStart(3, '0')}.md`), `# Note ${i}\n\nParagraph ${i} about topic number ${i}.\n`);
    const collection = core.library.ensureCollection('Docs');
    const { job } = core.library.addSource(collection.id, docs);
    await waitUntil(() => core.library.documents({ status: 'indexed' }).length >= 5, 'a few documents indexed');
    core.jobs.pause(job.id);
    const paused = await core.jobs.wait(job.id);
    expect(paused.status).toBe('paused');
    const indexedDocs = core.library.documents({ status: 'indexed' });
    const indexedAtPause = indexedDocs.length;
    const chunksAtPause = indexedDocs.reduce((n, d) => n + d.chunkCount, 0);
    expect(indexedAtPause).toBeLessThan(120);
    const embeddedAtPause = core.embedder.stats.embeddedTexts;
    // Committed documents are searchable by full text at once; their vectors may still be coming.
    const atPause = await openStore(dataDir);
    const rowsAtPause = [...(await atPause.chunkCounts(indexKey(model.id, 64))).values()].reduce((a, b) => a + b, 0);
    const vectorlessAtPause = [...(await atPause.unembeddedCounts(indexKey(model.id, 64))).values()].reduce((a, b) => a + b, 0);
    expect(rowsAtPause).toBe(chunksAtPause);
    const vectorsAtPause = chunksAtPause - vectorlessAtPause;

    core.jobs.resume(job.id);
    expect((await core.jobs.wait(job.id)).status).toBe('completed');
    expect(core.library.documents({ status: 'indexed' })).toHaveLength(120);
    // Vectors made before the pause were not made again: the resumed run embedded exactly the
    // chunks that had none when it paused.
    const store = await openStore(dataDir);
    const counts = await store.chunkCounts(indexKey(model.id, 64));
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    expect(core.embedder.stats.embeddedTexts - embeddedAtPause).toBe(total - vectorsAtPause);
    expect((await store.unembeddedCounts(indexKey(model.id, 64))).size).toBe(0);
    for (const doc of core.library.documents({})) expect(counts.get(doc.id)).toBe(doc.chunkCount);
  });

  it('indexing yields to chat: no text is embedded while a reply is generated', async () => {
    const { core, docs } = await setup();
    for (let i = 0; i < 60; i++) writeFileSync(join(docs, `yield-${i}.md`), `# Note ${i}\n\nA paragraph about lanterns number ${i}.\n`);
    const collection = core.library.ensureCollection('Docs');
    const { job } = core.library.addSource(collection.id, docs);
    await waitUntil(() => core.embedder.stats.embeddedTexts >= 3, 'indexing to start embedding');
    const thread = core.chat.createThread();
    const marks: number[] = [];
    const off = core.events.on('chat.stream', (e) => {
      if (e.type === 'start' || e.type === 'end') marks.push(core.embedder.stats.embeddedTexts);
    });
    await core.chat.send(thread.id, 'Once upon a time', { maxReplyTokens: 160 });
    await core.chat.idle(thread.id);
    off();
    const [atStart, atEnd] = marks;
    // At most the one text already being embedded when the reply started finishes meanwhile.
    expect(atEnd! - atStart!).toBeLessThanOrEqual(1);
    expect((await core.jobs.wait(job.id)).status).toBe('completed');
    expect(core.embedder.stats.embeddedTexts).toBeGreaterThan(atEnd!);
  });

  it('reconciles after a crash between the two stores: orphan chunks go, missing chunks come back', async () => {
    const { core, docs, dataDir, model } = await setup();
    const { source } = await indexPath(core, docs);
    const key = indexKey(model.id, 64);
    const store = await openStore(dataDir);
    const kyoto = core.library.documents({}).find((d) => d.path.endsWith('kyoto.md'))!;
    const chess = core.library.documents({}).find((d) => d.path.endsWith('chess.md'))!;
    // As if a crash hit after LanceDB lost a document's chunks and after SQLite forgot another's row.
    await store.deleteDocuments(key, [kyoto.id]);
    const db = openDatabase(join(dataDir, 'hearth.db'));
    db.prepare('DELETE FROM documents WHERE id = ?').run(chess.id);
    db.close();
    rmSync(join(docs, 'notes/chess.md'));

    await core.jobs.wait(core.library.requestIndex([source.id]).id);
    const counts = await store.chunkCounts(key);
    expect(counts.has(chess.id)).toBe(false);
    expect(counts.get(kyoto.id)).toBe(kyoto.chunkCount);
    expect((await core.library.search({ query: 'torii', mode: 'bm25' }))[0]?.path).toBe(kyoto.path);
  });

  it('switching the embedding model re-embeds everything as a job, and searches keep working meanwhile', async () => {
    const { core, docs, dataDir, model } = await setup();
    await indexPath(core, docs);
    const random = await core.models.add(await testModelPath('tinyRandom'));
    core.models.setDefault('embedding', random.id);
    const job = core.library.embeddingModelChanged();
    expect(job).not.toBeNull();
    // The old index answers until the new one is complete.
    expect((await core.library.search({ query: 'torii', mode: 'bm25' }))[0]?.path).toBe(join(docs, 'travel/kyoto.md'));
    expect((await core.jobs.wait(job!.id)).status).toBe('completed');

    const status = await core.library.status();
    expect(status.active).toMatchObject({ modelId: random.id });
    expect(status.active!.dimension).not.toBe(64);
    const hybrid = await core.library.search({ query: 'Fushimi Inari torii gates' });
    expect(hybrid[0]?.path).toBe(join(docs, 'travel/kyoto.md'));
    const store = await openStore(dataDir);
    expect(await store.listTables()).toEqual([indexKey(random.id, status.active!.dimension)]);
    expect(await store.tableInfo(indexKey(model.id, 64))).toBeNull();
  });

  it('says when no reranker is set, and refuses a model without a ranking head as the reranker', async () => {
    const { core, docs, model } = await setup();
    await indexPath(core, docs);
    await expect(core.library.search({ query: 'torii', rerank: true })).rejects.toMatchObject({ code: 'RERANKER_UNAVAILABLE' });
    expect(() => core.models.setDefault('rerank', model.id)).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });


  it('uses a dedicated embedding model from the library when no default is set', async () => {
    const { core, dataDir } = await setup();
    core.models.setDefault('embedding', null);
    // No embedding model is no blocker any more: documents are indexed for full-text search.
    expect(await core.library.status()).toMatchObject({ blocker: null, target: null, mode: 'full-text' });
    // A header-only GGUF that declares mean pooling: an embedding model by its metadata.
    const path = join(dataDir, 'mini-embed.gguf');
    writeFileSync(
      path,
      ggufBytes(
        {
          'general.architecture': { type: 'string', value: 'llama' },
          'general.name': { type: 'string', value: 'Mini Embed' },
          'llama.block_count': { type: 'u32', value: 1 },
          'llama.context_length': { type: 'u32', value: 512 },
          'llama.embedding_length': { type: 'u32', value: 8 },
          'llama.feed_forward_length': { type: 'u32', value: 8 },
          'llama.attention.head_count': { type: 'u32', value: 1 },
          'llama.pooling_type': { type: 'u32', value: 1 },
        },
        [{ name: 'token_embd.weight', dims: [8n, 64n], ggmlType: 0 }],
        8 * 64 * 4,
      ),
    );
    const embed = await core.models.add(path);
    expect(embed.kind).toBe('embedding');
    const status = await core.library.status();
    expect(status.blocker).toBeNull();
    expect(status.target).toMatchObject({ modelId: embed.id, modelName: 'Mini Embed' });
  });

  it('refuses a path that does not exist, with a clear code', async () => {
    const { core } = await setup();
    const collection = core.library.ensureCollection('Docs');
    expect(() => core.library.addSource(collection.id, '/definitely/not/here')).toThrow(expect.objectContaining({ code: 'FILE_NOT_FOUND' }));
  });
});

describe('watching folders', () => {
  it('picks up adds, edits, renames and deletes within seconds', async () => {
    const { core, docs } = await setup({ library: { watch: true, watchDebounceMs: 200 } });
    await indexPath(core, docs);
    const bm25 = (query: string) => core.library.search({ query, mode: 'bm25' }).then((hits) => hits.map((h) => h.path));

    mkdirSync(join(docs, 'new'));
    writeFileSync(join(docs, 'new/lighthouse.md'), '# Lighthouse\n\nThe keeper trims the wick at dusk.');
    await waitUntil(async () => (await bm25('lighthouse keeper wick')).includes(join(docs, 'new/lighthouse.md')), 'an added file', 15_000);

    appendFileSync(join(docs, 'new/lighthouse.md'), '\n\nFog horns sound every thirty seconds.\n');
    await waitUntil(async () => (await bm25('fog horns')).includes(join(docs, 'new/lighthouse.md')), 'an edit', 15_000);

    renameSync(join(docs, 'new/lighthouse.md'), join(docs, 'new/beacon.md'));
    await waitUntil(async () => (await bm25('lighthouse keeper wick')).join() === join(docs, 'new/beacon.md'), 'a rename', 15_000);

    rmSync(join(docs, 'new/beacon.md'));
    await waitUntil(async () => (await bm25('lighthouse keeper wick')).length === 0, 'a delete', 15_000);
  });
});
