import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { createCore } from '../../src-main/core/createCore';
import { LABELLED_QUERIES, writeCorpus } from '../support/retrievalCorpus';
import { assertBuilt, runHearth } from '../support/server';
import { tempDir } from '../support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';
import { testModelPath } from '../support/testModels';

/** `hearth index PATH`, `hearth search --json`, `hearth collections`, `hearth docs ls`: the built CLI, real files. */
describe('hearth index and search from the command line', () => {
  const data = tempDir('hearth-cli-library-');
  const docs = tempDir('hearth-cli-docs-');

  const run = (args: string[]) => runHearth([...args, '--data-dir', data.path, '--gpu', 'off', '--threads', '1']);

  beforeAll(async () => {
    assertBuilt();
    writeCorpus(docs.path);
    writeFileSync(join(docs.path, 'empty.txt'), '');
    const seed = createCore(
      { dataDir: data.path, host: 'server', version: 'test', gpu: 'off', catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH },
      { logger: createConsoleLogger('error') },
    );
    const model = await seed.models.add(await testModelPath('stories260K'));
    seed.models.setDefault('embedding', model.id);
    await seed.dispose();
  });
  afterAll(() => {
    data.cleanup();
    docs.cleanup();
  });

  it('indexes a folder with a progress bar and lists what it skipped and why', async () => {
    const index = await run(['index', docs.path, '--collection', 'Handbook']);
    expect(index.code, index.stderr).toBe(0);
    expect(index.stderr).toMatch(/\[#{20}\] 100% 11\/11 files · \d+ chunks/);
    expect(index.stdout).toContain(`${docs.path} in "Handbook": 10 indexed, 1 skipped, 0 failed`);
    expect(index.stdout).toMatch(/skipped\s+\S*empty\.txt\s+\S.*/);

    const again = await run(['index', docs.path, '--collection', 'Handbook', '--json']);
    expect(again.code, again.stderr).toBe(0);
    const result = JSON.parse(again.stdout) as { source: { counts: Record<string, number> }; documents: { status: string; reasonCode: string | null }[] };
    expect(result.source.counts).toEqual({ pending: 0, indexed: 10, skipped: 1, failed: 0 });
    expect(result.documents.find((d) => d.status === 'skipped')?.reasonCode).toBe('EMPTY');
  });

  it('prints ranked chunks as JSON with path, location, score and text', async () => {
    const { query, expected } = LABELLED_QUERIES[2]!;
    const search = await run(['search', '--json', query]);
    expect(search.code, search.stderr).toBe(0);
    const hits = JSON.parse(search.stdout) as { path: string; location: { lineStart: number | null }; score: number; text: string }[];
    expect(hits[0]).toMatchObject({ path: join(docs.path, expected), location: { lineStart: expect.any(Number) } });
    expect(hits[0]!.text).toContain('varroa');
    expect(hits.map((h) => h.score)).toEqual([...hits.map((h) => h.score)].sort((a, b) => b - a));

    const text = await run(['search', 'tyre casing thorn', '--mode', 'bm25', '-n', '1']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^1\. \S+bicycle\.md — lines \d+–\d+ — Fixing a flat tyre/);

    const filtered = await run(['search', '--json', '--type', 'code', 'semicolons']);
    expect((JSON.parse(filtered.stdout) as { path: string }[]).every((h) => h.path.endsWith('.ts'))).toBe(true);
    const badType = await run(['search', '--type', 'exe', 'x']);
    expect(badType.code).toBe(2);
    const badCollection = await run(['search', '--collection', 'Nope', 'x']);
    expect(badCollection.code).toBe(2);
  });

  it('lists collections and documents', async () => {
    const collections = JSON.parse((await run(['collections', 'ls', '--json'])).stdout) as { name: string; documentCount: number }[];
    expect(collections).toEqual([expect.objectContaining({ name: 'Handbook', documentCount: 11 })]);
    const skipped = await run(['docs', 'ls', '--status', 'skipped']);
    expect(skipped.stdout).toMatch(/skipped\s+0\s+\S*empty\.txt\s+/);
    const missing = await run(['index', join(docs.path, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error FILE_NOT_FOUND: /m);
  });

  it('hearth index PATH rebuilds an index whose folder was deleted, and search finds the same passages again', async () => {
    const { query } = LABELLED_QUERIES[2]!;
    const before = JSON.parse((await run(['search', '--json', query])).stdout) as { chunkId: string }[];
    rmSync(join(data.path, 'index'), { recursive: true });
    const index = await run(['index', docs.path, '--collection', 'Handbook']);
    expect(index.code, index.stderr).toBe(0);
    const after = await run(['search', '--json', query]);
    expect(after.code, after.stderr).toBe(0);
    expect((JSON.parse(after.stdout) as { chunkId: string }[]).map((h) => h.chunkId)).toEqual(before.map((h) => h.chunkId));
  });

  it('checks its inputs with the contract schemas the API uses, creating nothing on a refusal', async () => {
    const names = async () => (JSON.parse((await run(['collections', 'ls', '--json'])).stdout) as { name: string }[]).map((c) => c.name);
    const before = await names();
    const longName = 'n'.repeat(5000);
    const create = await run(['collections', 'create', longName]);
    expect(create.code, create.stderr).toBe(2);
    expect(create.stderr).toMatch(/NAME: Too big: expected string to have <=100 characters/);
    const index = await run(['index', docs.path, '--collection', longName]);
    expect(index.code, index.stderr).toBe(2);
    expect(index.stderr).toMatch(/--collection NAME: Too big: .*100/);
    const blank = await run(['collections', 'create', '   ']);
    expect(blank.code).toBe(2);
    const longQuery = await run(['search', 'q'.repeat(2001)]);
    expect(longQuery.code).toBe(2);
    expect(longQuery.stderr).toMatch(/QUERY: Too big: .*2000/);
    expect(await names()).toEqual(before);

    const trimmed = await run(['collections', 'create', '  Spaced  ', '--json']);
    expect(trimmed.code, trimmed.stderr).toBe(0);
    expect(JSON.parse(trimmed.stdout)).toMatchObject({ name: 'Spaced' });
  });
});
