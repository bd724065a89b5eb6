import { renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SearchHit } from '#contract/dto';
import { HearthError } from '../../src-main/core/common/hearthError';
import type { Core } from '../../src-main/core/createCore';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createDispatcher } from '../../src-main/core/rpc/dispatcher';
import { createHandlers } from '../../src-main/core/rpc/handlers';
import { createLibraryCore, indexPath, waitUntil } from '../support/libraryCore';
import { LABELLED_QUERIES, writeCorpus } from '../support/retrievalCorpus';
import { tempDir } from '../support/tempDir';
import { createTestCore } from '../support/testCore';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function indexedCore() {
  const lib = await createLibraryCore();
  cleanups.push(lib.cleanup);
  const docs = tempDir('hearth-index-loss-');
  cleanups.push(docs.cleanup);
  writeCorpus(docs.path);
  await indexPath(lib.core, docs.path);
  return lib;
}

/** What the search answers for each labelled query, for comparing before and after a rebuild. */
async function answers(core: Core): Promise<Pick<SearchHit, 'chunkId' | 'path' | 'score'>[][]> {
  const all = [];
  for (const { query } of LABELLED_QUERIES) {
    const hits = await core.library.search({ query, limit: 5 });
    all.push(hits.map(({ chunkId, path, score }) => ({ chunkId, path, score })));
  }
  return all;
}

async function searchError(core: Core): Promise<HearthError> {
  const error: unknown = await core.library.search({ query: 'varroa mites' }).then(
    () => null,
    (e: unknown) => e,
  );
  if (!(error instanceof HearthError)) throw new Error(`expected a HearthError, got ${String(error)}`);
  return error;
}

describe('losing index/ under a running core (real LanceDB, real embeddings)', () => {
  for (const loss of ['deleted', 'renamed'] as const) {
    it(`${loss}: search says INDEX_MISSING, status shows the blocker, and index.rebuild brings the same results back`, async () => {
      const { core, dataDir } = await indexedCore();
      const before = await answers(core);
      const chunks = (await core.library.status()).chunks;
      expect(chunks).toBeGreaterThan(0);

      const index = join(dataDir, 'index');
      if (loss === 'deleted') rmSync(index, { recursive: true });
      else renameSync(index, join(dataDir, 'index.moved'));

      const error = await searchError(core);
      expect(error.code).toBe('INDEX_MISSING');
      expect(error.message).toContain(index);
      expect(error.message).toContain('Rebuild');
      await expect(core.library.chunk(before[0]![0]!.chunkId)).rejects.toMatchObject({ code: 'INDEX_MISSING' });

      // Over the contract, as the UI sees it.
      const dispatch = createDispatcher(createHandlers(core), createConsoleLogger('silent'));
      expect(await dispatch('search.query', { query: 'varroa mites' })).toMatchObject({ ok: false, error: { code: 'INDEX_MISSING' } });
      const status = await dispatch('index.status', {});
      expect(status).toMatchObject({ ok: true, value: { blocker: { code: 'INDEX_MISSING' }, chunks: 0, job: null } });

      const rebuild = await dispatch('index.rebuild', {});
      expect(rebuild).toMatchObject({ ok: true, value: { kind: 'library.index' } });
      const job = rebuild.ok ? (rebuild.value as { id: string }).id : '';
      expect((await core.jobs.wait(job)).status).toBe('completed');

      const after = await core.library.status();
      expect(after.blocker).toBeNull();
      expect(after.chunks).toBe(chunks);
      expect(await answers(core)).toEqual(before);
    });
  }

  it('a core started with index/ gone rebuilds it on its own', async () => {
    const { core, dataDir } = await indexedCore();
    const before = await answers(core);
    await core.dispose();
    rmSync(join(dataDir, 'index'), { recursive: true });

    const { core: restarted, cleanup } = createTestCore({ dataDir });
    cleanups.push(cleanup);
    await waitUntil(() => restarted.library.currentJob() !== null, 'the rebuild job to start', 10_000);
    const job = restarted.library.currentJob()!;
    expect((await restarted.jobs.wait(job.id)).status).toBe('completed');
    expect((await restarted.library.status()).blocker).toBeNull();
    expect(await answers(restarted)).toEqual(before);
  });
});
