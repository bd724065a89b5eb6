import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getLlama } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { indexKey } from '../../src-main/core/library/documentLibrary';
import { embeddingRules, embeddingText } from '../../src-main/core/library/embeddingRules';
import { ChunkStore } from '../../src-main/core/search/chunkStore';
import type { ModelRow } from '../../src-main/core/storage/modelRepository';
import { createLibraryCore, indexPath } from '../support/libraryCore';
import { tempDir } from '../support/tempDir';
import { createTestCore } from '../support/testCore';
import { testModelPath, type TestModelName } from '../support/testModels';

/**
 * The embedder's parallel contexts with the real shared models: the vectors are those one
 * context gives for the exact text (prefix included), in order; a search goes before a batch
 * of document texts; unloading and swapping the model free every context.
 */

const TEXTS = Array.from(
  { length: 10 },
  (_, i) => `Note ${i}. The lantern by the river ${'glows '.repeat(i + 1)}while the ferry crosses to the harbor number ${i * 7}.`,
);
const MODELS: TestModelName[] = ['stories260K', 'tinyRandom'];

let parallel: { core: Core; cleanup: () => Promise<void> };
const rows = new Map<TestModelName, ModelRow>();

beforeAll(async () => {
  // Two contexts of one thread each, whatever the machine's cores.
  parallel = createTestCore({ threads: undefined, embeddingContexts: 2 });
  for (const name of MODELS) {
    const info = await parallel.core.models.add(await testModelPath(name));
    rows.set(name, parallel.core.models.get(info.id));
  }
});

afterAll(async () => {
  await parallel.cleanup();
});

/** What one plain node-llama-cpp embedding context gives for each text, unit length. */
async function oneContextVectors(path: string, texts: readonly string[]): Promise<number[][]> {
  const llama = await getLlama({ gpu: false, build: 'never' });
  const model = await llama.loadModel({ modelPath: path });
  const context = await model.createEmbeddingContext({ contextSize: Math.min(model.trainContextSize, 512), threads: 1 });
  const out: number[][] = [];
  for (const text of texts) {
    const { vector } = await context.getEmbeddingFor(text);
    const norm = Math.hypot(...vector);
    out.push(vector.map((x) => x / norm));
  }
  await context.dispose();
  await model.dispose();
  return out;
}

describe('parallel embedding contexts', () => {
  it.each(MODELS)('gives %s the vectors one context gives for the exact texts with their prefix, in order', async (name) => {
    const row = rows.get(name)!;
    const { embedder } = parallel.core;
    const vectors = await embedder.embed(row, TEXTS, { role: 'document', background: true });
    expect(embedder.layout()).toMatchObject({ modelId: row.id, contexts: 2, threads: 1 });
    const rules = embeddingRules(row);
    const expected = await oneContextVectors(row.path, TEXTS.map((t) => embeddingText(rules, t, 'document')));
    expect(vectors).toHaveLength(TEXTS.length);
    vectors.forEach((vector, i) => {
      expect(vector.length).toBe(expected[i]!.length);
      for (let j = 0; j < vector.length; j++) expect(Math.abs(vector[j]! - expected[i]![j]!)).toBeLessThan(1e-5);
    });
    // Texts that differ give different vectors: the order is the texts' order, not the finishing order.
    expect(Math.abs(vectors[0]![0]! - vectors[9]![0]!) + Math.abs(vectors[0]![1]! - vectors[9]![1]!)).toBeGreaterThan(0);
  });

  it('embeds a search before the waiting document texts: it waits at most for the texts already under way', async () => {
    const row = rows.get('stories260K')!;
    const { embedder } = parallel.core;
    const batch = Array.from({ length: 40 }, (_, i) => `${TEXTS[i % TEXTS.length]!} Page ${i}.`);
    let done = 0;
    const background = embedder.embed(row, batch, { background: true, role: 'document', onEmbedded: (n) => (done = n) });
    while (done < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    const before = done;
    const [query] = await embedder.embed(row, ['ferry to the harbor'], { role: 'query' });
    const during = done - before;
    expect(query).toBeInstanceOf(Float32Array);
    // One text per context was under way when the search came; no new document text started before it.
    expect(during).toBeLessThanOrEqual(2);
    expect(done).toBeLessThan(batch.length);
    expect(await background).toHaveLength(batch.length);
  });

  it('frees every context when the model is unloaded or swapped', async () => {
    const stories = rows.get('stories260K')!;
    const tiny = rows.get('tinyRandom')!;
    const { embedder } = parallel.core;
    await embedder.embed(stories, TEXTS.slice(0, 4), { role: 'document' });
    const storiesContexts = embedder.openContexts();
    expect(storiesContexts).toHaveLength(2);
    await embedder.embed(tiny, TEXTS.slice(0, 4), { role: 'document' });
    expect(storiesContexts.every((c) => c.disposed)).toBe(true);
    const tinyContexts = embedder.openContexts();
    expect(tinyContexts).toHaveLength(2);
    expect(tinyContexts.some((c) => c.disposed)).toBe(false);
    await embedder.unload();
    expect(tinyContexts.every((c) => c.disposed)).toBe(true);
    expect(embedder.openContexts()).toHaveLength(0);
    // A search after the unload loads one context again, as a one-shot search does.
    await embedder.embed(stories, ['lantern'], { role: 'query' });
    expect(embedder.openContexts()).toHaveLength(1);
  });
});

describe('indexing on parallel contexts', () => {
  /** Every chunk's vector by its text hash, after indexing the folder with this many contexts. */
  async function indexWith(folder: string, embeddingContexts: number): Promise<{ vectors: Map<string, Float32Array>; contexts: number }> {
    const { core, dataDir, model, cleanup } = await createLibraryCore({ threads: undefined, embeddingContexts });
    try {
      await indexPath(core, folder);
      const contexts = core.embedder.layout()?.contexts ?? 0;
      const store = await ChunkStore.open(join(dataDir, 'index'));
      try {
        const key = indexKey(model.id, 64);
        const rows = (await Promise.all(core.library.documents({}).map((d) => store.docChunks(key, d.id)))).flat();
        expect(rows.length).toBeGreaterThan(20);
        const vectors = await store.vectorsByTextHash(key, rows.map((r) => r.textHash));
        expect(vectors.size).toBe(new Set(rows.map((r) => r.textHash)).size);
        return { vectors, contexts };
      } finally {
        store.close();
      }
    } finally {
      await cleanup();
    }
  }

  it('stores the vectors one context stores, every chunk with its own', async () => {
    const docs = tempDir('hearth-embed-contexts-');
    try {
      for (let i = 0; i < 8; i++) {
        mkdirSync(join(docs.path, `f${i % 3}`), { recursive: true });
        const body = Array.from({ length: 3 + (i % 4) }, (_, p) => `## Part ${p}\n\n${TEXTS[(i + p) % TEXTS.length]!}`).join('\n\n');
        writeFileSync(join(docs.path, `f${i % 3}`, `note-${i}.md`), `# Note ${i}\n\n${body}\n`);
      }
      const one = await indexWith(docs.path, 1);
      const two = await indexWith(docs.path, 2);
      expect(one.contexts).toBe(1);
      expect(two.contexts).toBe(2);
      expect([...two.vectors.keys()].sort()).toEqual([...one.vectors.keys()].sort());
      for (const [hash, vector] of one.vectors) {
        const other = two.vectors.get(hash)!;
        for (let j = 0; j < vector.length; j++) expect(Math.abs(vector[j]! - other[j]!)).toBeLessThan(1e-5);
      }
    } finally {
      docs.cleanup();
    }
  });
});
