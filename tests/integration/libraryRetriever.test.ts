import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Collection, JobInfo, Source } from '#contract/dto';
import { HearthError } from '../../src-main/core/common/hearthError';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import type { Core } from '../../src-main/core/createCore';
import { INDEX_JOB } from '../../src-main/core/library/documentLibrary';
import { RETRIEVE_LIMIT } from '../../src-main/core/library/libraryRetriever';
import { createDispatcher, type Dispatch } from '../../src-main/core/rpc/dispatcher';
import { createHandlers } from '../../src-main/core/rpc/handlers';
import { createLibraryCore, indexPath } from '../support/libraryCore';
import { CORPUS, writeCorpus } from '../support/retrievalCorpus';
import { tempDir } from '../support/tempDir';

const codeOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HearthError);
    return (error as HearthError).code;
  }
  throw new Error('expected an error');
};

const words = (text: string) => new Set(text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? []);

/**
 * The chat's retriever, owned by the library: passages filtered for relevance, scoped to the
 * chat's collections, whole documents and collection names. Real files, SQLite, LanceDB and
 * the stories260K model as the embedder.
 */
describe('library retriever (real index)', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  let core: Core;
  let dispatch: Dispatch;
  let docs: string;
  let handbook: Collection;
  let ferries: Collection;
  let handbookSource: Source;

  beforeAll(async () => {
    // stories260K is a story model, not an embedding model: unrelated texts reach a cosine
    // similarity of 0.7, so vector-only relevance is set out of its reach (as in chatSources).
    const lib = await createLibraryCore({ library: { minSimilarity: 0.99 } });
    cleanups.push(lib.cleanup);
    core = lib.core;
    dispatch = createDispatcher(createHandlers(core), createConsoleLogger('silent'));
    const handbookDir = tempDir('hearth-retriever-docs-');
    cleanups.push(handbookDir.cleanup);
    docs = handbookDir.path;
    writeCorpus(docs);
    writeFileSync(join(docs, 'photo.xyz'), 'not a format Hearth reads');
    const ferryDir = tempDir('hearth-retriever-ferries-');
    cleanups.push(ferryDir.cleanup);
    writeFileSync(join(ferryDir.path, 'ferries.md'), '# Ferry timetable\n\nThe harbour ferry sails at 9:15 and 17:45 on weekdays.\n');
    ({ collection: handbook, source: handbookSource } = await indexPath(core, docs, 'Handbook'));
    ({ collection: ferries } = await indexPath(core, ferryDir.path, 'Ferries'));
  });
  afterAll(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  it('keeps only the passages that share a content word with the question, in search order', async () => {
    const question = 'What do I do about varroa mites and oxalic acid?';
    const signal = new AbortController().signal;
    const all = await core.library.search({ query: question, collectionIds: [handbook.id], limit: RETRIEVE_LIMIT });
    const kept = await core.library.retriever.retrieve(question, [handbook.id], signal);
    expect(kept[0]?.path).toBe(join(docs, 'garden/beekeeping.txt'));
    // Hybrid search always returns something; the filter leaves the unrelated passages out.
    expect(all.length).toBeGreaterThan(kept.length);
    const positions = kept.map((hit) => all.findIndex((h) => h.chunkId === hit.chunkId));
    expect(positions.every((p) => p >= 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    for (const hit of kept) {
      const seen = words(`${hit.title ?? ''} ${hit.heading.join(' ')} ${hit.path} ${hit.text}`);
      expect(['varroa', 'mites', 'oxalic', 'acid'].some((term) => seen.has(term)), hit.path).toBe(true);
    }
  });

  it('finds nothing for a question no document is about', async () => {
    const question = 'zeppelin quokka xylophone';
    expect((await core.library.search({ query: question, limit: RETRIEVE_LIMIT })).length).toBeGreaterThan(0);
    expect(await core.library.retriever.retrieve(question, [handbook.id, ferries.id], new AbortController().signal)).toEqual([]);
  });

  it("answers only from the chat's collections", async () => {
    const question = 'When does the harbour ferry sail?';
    const signal = new AbortController().signal;
    expect(await core.library.retriever.retrieve(question, [handbook.id], signal)).toEqual([]);
    const hits = await core.library.retriever.retrieve(question, [ferries.id], signal);
    expect(hits.length).toBeGreaterThan(0);
    expect(new Set(hits.map((hit) => hit.collectionId))).toEqual(new Set([ferries.id]));
  });

  it('gives a whole document by id, and null for one not in the index', async () => {
    const bees = core.library.documents({ collectionId: handbook.id }).find((d) => d.path === join(docs, 'garden/beekeeping.txt'))!;
    const whole = await core.library.retriever.documentText(bees.id);
    expect(whole?.text).toContain('Inspect the brood frames weekly');
    expect(whole?.text).toContain('honey super');
    expect(whole?.tokenCount).toBeGreaterThan(0);
    expect(await core.library.retriever.documentText('doc_missing')).toBeNull();
  });

  it('names collections in the order asked, leaving out unknown ids', () => {
    expect(core.library.retriever.collectionNames([ferries.id, 'col_missing', handbook.id])).toEqual(['Ferries', 'Handbook']);
  });

  it('a chat can only be scoped to collections that exist, through the core and through the contract', async () => {
    const thread = core.chat.createThread();
    expect(codeOf(() => core.chat.setCollections(thread.id, [handbook.id, 'col_missing']))).toBe('COLLECTION_NOT_FOUND');
    expect(core.chat.getThread(thread.id).collectionIds).toEqual([]);
    expect(await dispatch('threads.setCollections', { threadId: thread.id, collectionIds: ['col_missing'] })).toMatchObject({
      ok: false,
      error: { code: 'COLLECTION_NOT_FOUND' },
    });
    // A missing collection is reported before a missing thread, as before.
    expect(codeOf(() => core.chat.setCollections('thr_missing', ['col_missing']))).toBe('COLLECTION_NOT_FOUND');
    expect(codeOf(() => core.chat.setCollections('thr_missing', [handbook.id]))).toBe('THREAD_NOT_FOUND');
    expect(await dispatch('threads.setCollections', { threadId: thread.id, collectionIds: [handbook.id, ferries.id] })).toMatchObject({
      ok: true,
      value: { id: thread.id, collectionIds: [handbook.id, ferries.id] },
    });
  });

  it('rescans one source that exists, or every source', async () => {
    expect(codeOf(() => core.library.rescan('src_missing'))).toBe('SOURCE_NOT_FOUND');
    expect(await dispatch('index.rescan', { sourceId: 'src_missing' })).toMatchObject({ ok: false, error: { code: 'SOURCE_NOT_FOUND' } });
    const one = await dispatch('index.rescan', { sourceId: handbookSource.id });
    expect(one).toMatchObject({ ok: true, value: { kind: INDEX_JOB } });
    if (!one.ok) throw new Error('no job');
    expect((await core.jobs.wait((one.value as JobInfo).id)).status).toBe('completed');
    const all = core.library.rescan();
    expect(all.kind).toBe(INDEX_JOB);
    expect((await core.jobs.wait(all.id)).status).toBe('completed');
  });

  it("lists the indexed files with their source folder, for a snapshot that includes documents", () => {
    const files = core.library.indexedFiles().filter((f) => f.sourceId === handbookSource.id);
    expect(files.map((f) => f.path).sort()).toEqual(Object.keys(CORPUS).map((name) => join(docs, name)).sort());
    for (const file of files) expect(file.sourceRoot).toBe(docs);
    // The file Hearth does not read was seen (skipped) but is not a document to copy.
    expect(core.library.documents({ sourceId: handbookSource.id }).find((d) => d.path === join(docs, 'photo.xyz'))?.status).toBe('skipped');
    expect(core.library.indexedFiles()).toHaveLength(core.library.documents({ status: 'indexed' }).length);
  });
});

describe('library retriever: the similarity threshold', () => {
  it('counts a passage close enough to the question as relevant without a shared word, and asks for at most RETRIEVE_LIMIT', async () => {
    // Every similarity is at least -1: with that threshold every vector hit counts.
    const lib = await createLibraryCore({ library: { minSimilarity: -1 } });
    const docs = tempDir('hearth-retriever-sim-');
    try {
      writeCorpus(docs.path);
      const { collection } = await indexPath(lib.core, docs.path, 'Handbook');
      const hits = await lib.core.library.retriever.retrieve('zeppelin quokka xylophone', [collection.id], new AbortController().signal);
      expect(hits).toHaveLength(RETRIEVE_LIMIT);
      for (const hit of hits) expect(hit.similarity).not.toBeNull();
    } finally {
      await lib.cleanup();
      docs.cleanup();
    }
  });
});
