import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { indexKey } from '../../src-main/core/library/documentLibrary';
import { ChunkStore } from '../../src-main/core/search/chunkStore';
import { openDatabase } from '../../src-main/core/storage/database';
import { createLibraryCore, indexPath, waitUntil } from '../support/libraryCore';
import { createTestCore } from '../support/testCore';
import { tempDir } from '../support/tempDir';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const FILES = 240;

function writeFolder(dir: string): void {
  for (let i = 0; i < FILES; i++) {
    const n = String(i).padStart(3, '0');
    const paragraphs = Array.from({ length: 4 }, (_, p) => `Section ${p} of note ${n}: the ${['amber', 'cobalt', 'olive', 'scarlet'][p]} token ${i * 7 + p} appears here.`);
    writeFileSync(join(dir, `note-${n}.md`), `# Note ${n}\n\n${paragraphs.join('\n\n')}\n`);
  }
}

/** Every chunk id and text hash in the table, sorted, for comparing two indexes of the same files. */
async function snapshot(dataDir: string, key: string, docIds: string[]) {
  const store = await ChunkStore.open(join(dataDir, 'index'));
  try {
    const counts = await store.chunkCounts(key);
    const rows = (await Promise.all(docIds.map((id) => store.docChunks(key, id)))).flat();
    return { counts, ids: rows.map((r) => `${r.id} ${r.textHash}`).sort(), total: [...counts.values()].reduce((a, b) => a + b, 0) };
  } finally {
    store.close();
  }
}

describe('indexing survives kill -9', () => {
  it('resumes after the process is killed mid-index and ends with no duplicate and no missing chunk', async () => {
    const docs = tempDir('hearth-crash-docs-');
    cleanups.push(docs.cleanup);
    writeFolder(docs.path);
    const data = tempDir('hearth-crash-data-');
    cleanups.push(data.cleanup);

    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'support', 'indexChild.ts'), data.path, docs.path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const jobId = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
    const db = openDatabase(join(data.path, 'hearth.db'));
    const indexed = () => (db.prepare(`SELECT COUNT(*) AS n FROM documents WHERE status = 'indexed'`).get() as { n: number }).n;
    await waitUntil(() => indexed() >= FILES * 0.3, 'the child to index 30% of the files', 60_000);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const atKill = indexed();
    // What was finished at the kill, with when its row was last written.
    const finished = db.prepare(`SELECT id, path, updated_at AS updatedAt FROM documents WHERE status = 'indexed'`).all() as { id: string; path: string; updatedAt: number }[];
    db.close();
    expect(atKill).toBeLessThan(FILES);
    expect(finished.length).toBe(atKill);

    // The app's own start-up: createCore registers the indexing kind and resumes the job.
    const restarted = createTestCore({ dataDir: data.path });
    cleanups.push(() => restarted.core.dispose());
    expect(restarted.core.jobs.get(jobId).status).toBe('running');
    // A document finished before the kill is searchable at once, before the resumed job gets far.
    const sample = finished[0]!;
    const i = Number(/note-(\d+)\.md$/.exec(sample.path)![1]);
    const hits = await restarted.core.library.search({ query: `cobalt token ${i * 7 + 1}`, mode: 'bm25' });
    expect(hits[0]?.path).toBe(sample.path);
    const done = await restarted.core.jobs.wait(jobId);
    expect(done).toMatchObject({ status: 'completed', error: null });
    const docsAfter = restarted.core.library.documents({});
    // Finished documents were kept as they were: not read again, their rows untouched.
    const after = new Map(docsAfter.map((d) => [d.id, d.updatedAt]));
    for (const doc of finished) expect(after.get(doc.id), doc.path).toBe(doc.updatedAt);
    expect(docsAfter.filter((d) => d.status === 'indexed')).toHaveLength(FILES);
    const model = (await restarted.core.models.list())[0]!;
    const key = indexKey(model.id, 64);
    const resumed = await snapshot(data.path, key, docsAfter.map((d) => d.id));
    for (const doc of docsAfter) expect(resumed.counts.get(doc.id), doc.path).toBe(doc.chunkCount);

    // The same folder indexed in one go, without a crash, gives exactly the same chunks.
    const clean = await createLibraryCore();
    cleanups.push(clean.cleanup);
    const { source } = await indexPath(clean.core, docs.path);
    const cleanDocs = clean.core.library.documents({ sourceId: source.id });
    const reference = await snapshot(clean.dataDir, indexKey(clean.model.id, 64), cleanDocs.map((d) => d.id));
    expect(resumed.total).toBe(reference.total);
    const strip = (ids: string[]) => ids.map((line) => line.replace(/^doc_[0-9a-f]+/, 'doc'));
    // Document ids depend on the source's id, which differs between the two data dirs; the rest must match.
    expect(strip(resumed.ids).sort()).toEqual(strip(reference.ids).sort());
  }, 180_000);
});
