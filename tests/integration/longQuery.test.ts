import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { createLibraryCore, indexPath } from '../support/libraryCore';
import { writeCorpus } from '../support/retrievalCorpus';
import { tempDir } from '../support/tempDir';

/**
 * A query within the contract's 2,000 characters can be far longer than the embedding model's
 * context in tokens (CJK text tokenizes byte by byte in small vocabularies). stories260K's
 * context is small, so a 2,000-character CJK query is several times too long for it.
 */
describe('a query longer than the embedding context', () => {
  let core: Core;
  let docs: string;
  const cleanups: (() => Promise<void> | void)[] = [];

  beforeAll(async () => {
    const lib = await createLibraryCore();
    core = lib.core;
    cleanups.push(lib.cleanup);
    const folder = tempDir('hearth-long-query-');
    cleanups.push(folder.cleanup);
    docs = folder.path;
    writeCorpus(docs);
    await indexPath(core, docs);
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  // The English words come last: the embedding sees only the query's start, BM25 sees them.
  const query = `${'蜜蜂的巢箱检查与蜂群管理。'.repeat(200)} varroa mites`.slice(-2000);

  it('is answered in every mode: the embedding takes its first tokens, BM25 the whole text', async () => {
    expect(query).toHaveLength(2000);
    const info = await core.library.status();
    expect(info.active?.dimension).toBe(64);

    const hybrid = await core.library.search({ query, limit: 5 });
    expect(hybrid.length).toBeGreaterThan(0);
    const vector = await core.library.search({ query, mode: 'vector', limit: 3 });
    expect(vector).toHaveLength(3);
    const bm25 = await core.library.search({ query, mode: 'bm25', limit: 3 });
    expect(bm25[0]?.path).toBe(join(docs, 'garden/beekeeping.txt'));
    expect(hybrid.map((h) => h.path)).toContain(join(docs, 'garden/beekeeping.txt'));
  });
});
