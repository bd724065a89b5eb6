import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import {
  calibrateChannels,
  calibrationCurrent,
  calibrationSchema,
  CALIBRATION_SAMPLES,
  pseudoQuery,
} from '../../src-main/core/library/channelCalibration';
import { ChunkStore, type ChunkRow } from '../../src-main/core/search/chunkStore';
import type { ModelRow } from '../../src-main/core/storage/modelRepository';
import { createLibraryCore, indexPath, waitUntil } from '../support/libraryCore';
import { tempDir } from '../support/tempDir';

/**
 * Channel calibration on a real chunk store, with the real stories260K model (a story model
 * pressed into service as an embedder, the weak channel) and with a bag-of-words embedding
 * that does carry the passages' meaning (the strong channel).
 */

let seed = 11;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const VOCABULARY = (
  'river stone lantern harvest copper meadow signal orbit winter thread garden engine ledger violet anchor compass forest ' +
  'marble ember canyon harbor pillar quartz saddle timber velvet willow zenith beacon cobalt ferry glacier orchard falcon ' +
  'tunnel lighthouse bakery violin parcel mortar pepper canvas hammock riddle saffron thimble walnut yarrow'
).split(' ');
const sentence = () => {
  const words = Array.from({ length: 8 + Math.floor(random() * 6) }, () => VOCABULARY[Math.floor(random() * VOCABULARY.length)]!);
  return `${words.join(' ').replace(/^./, (c) => c.toUpperCase())}.`;
};
const passages = Array.from({ length: 48 }, () => Array.from({ length: 4 }, sentence).join(' '));

/** A hashed bag of words: a real, if simple, embedding that places texts sharing words close. */
const DIM = 64;
function bagOfWords(text: string): Float32Array {
  const v = new Float32Array(DIM);
  for (const word of text.toLowerCase().match(/[a-z]+/g) ?? []) {
    let h = 0;
    for (const c of word) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    v[h % DIM]! += 1;
  }
  const norm = Math.hypot(...v) || 1;
  return v.map((x) => x / norm);
}

function rowFor(i: number, text: string, vector: Float32Array): ChunkRow {
  return {
    id: `p${i}:0`,
    docId: `p${i}`,
    sourceId: 's',
    collectionId: 'c',
    path: `/notes/p${i}.txt`,
    format: 'text',
    title: null,
    heading: '',
    ordinal: 0,
    pageStart: null,
    pageEnd: null,
    lineStart: null,
    lineEnd: null,
    text,
    textHash: `h${i}`,
    tokenCount: 40,
    vector,
  };
}

describe('channel calibration', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  let core: Core;
  let row: ModelRow;
  let docsDir: string;

  beforeAll(async () => {
    const lib = await createLibraryCore({ library: { watch: false } });
    cleanups.push(lib.cleanup);
    core = lib.core;
    row = core.models.get(lib.model.id);
    const docs = tempDir('hearth-calibration-docs-');
    cleanups.push(docs.cleanup);
    docsDir = docs.path;
  });
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  async function storeWith(embed: (texts: string[]) => Promise<Float32Array[]>, dimension: number, count = passages.length) {
    const dir = tempDir('hearth-calibration-');
    cleanups.push(dir.cleanup);
    const store = await ChunkStore.open(dir.path);
    cleanups.push(() => store.close());
    await store.ensureTable('t', { dimension, modelId: 'm', modelName: 'm' });
    const texts = passages.slice(0, count);
    const vectors = await embed(texts);
    await store.replaceDocuments('t', texts.map((_, i) => `p${i}`), texts.map((t, i) => rowFor(i, t, vectors[i]!)));
    return store;
  }

  it('switches off (or nearly) a channel that does not find its passages, and never makes fusion worse than BM25', async () => {
    const embed = (role: 'query' | 'document') => (texts: string[]) => core.embedder.embed(row, texts, { role });
    const store = await storeWith(embed('document'), 64, 24);
    const calibration = await calibrateChannels({ store, key: 't', embedQueries: embed('query'), dedicated: false, fallbackThreshold: 0.6 });
    expect(calibrationSchema.parse(calibration)).toEqual(calibration);
    expect(calibration).toMatchObject({ key: 't', rows: 24, samples: 24, basis: 'measured' });
    expect(calibration.bm25Mrr).toBeGreaterThan(0.8);
    expect(calibration.vectorMrr).toBeLessThan(calibration.bm25Mrr);
    // The chosen weight's fused ranking is within the tolerance of the best, and weight 0 is BM25 itself.
    expect(calibration.fusedMrr).toBeGreaterThanOrEqual(calibration.bm25Mrr - 0.01);
    expect(calibration.vectorWeight).toBeLessThan(0.5);
    if (calibration.vectorWeight === 0) expect(calibration.similarityThreshold).toBeNull();
  });

  it('keeps a channel that finds its passages, with a similarity bar above what unrelated passages reach', async () => {
    const embed = async (texts: string[]) => texts.map(bagOfWords);
    const store = await storeWith(embed, DIM);
    const calibration = await calibrateChannels({ store, key: 't', embedQueries: embed, dedicated: true, fallbackThreshold: 0.6 });
    expect(calibration.samples).toBe(Math.min(CALIBRATION_SAMPLES, passages.length));
    expect(calibration.vectorMrr).toBeGreaterThan(0.8);
    expect(calibration.vectorWeight).toBeGreaterThan(0.5);
    expect(calibration.similarityThreshold).not.toBeNull();
    // A passage's own sentence clears the bar; another passage's does not (mostly).
    const own = pseudoQuery(passages[0]!)!;
    const sim = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);
    expect(sim(bagOfWords(own), bagOfWords(passages[0]!))).toBeGreaterThan(calibration.similarityThreshold!);
  });

  it('uses the prior when there is too little to measure, and says when a calibration is stale', async () => {
    const embed = async (texts: string[]) => texts.map(bagOfWords);
    const store = await storeWith(embed, DIM, 5);
    const generative = await calibrateChannels({ store, key: 't', embedQueries: embed, dedicated: false, fallbackThreshold: 0.6 });
    expect(generative).toMatchObject({ basis: 'prior', rows: 5, vectorWeight: 0.25, similarityThreshold: null });
    const dedicated = await calibrateChannels({ store, key: 't', embedQueries: embed, dedicated: true, fallbackThreshold: 0.6 });
    expect(dedicated).toMatchObject({ basis: 'prior', vectorWeight: 1, similarityThreshold: 0.6 });
    expect(calibrationCurrent(generative, 't', 5)).toBe(true);
    expect(calibrationCurrent(generative, 't', 6)).toBe(false);
    const measured = { ...generative, basis: 'measured' as const, rows: 300 };
    expect(calibrationCurrent(measured, 't', 330)).toBe(true);
    expect(calibrationCurrent(measured, 't', 450)).toBe(false);
    expect(calibrationCurrent(measured, 't', 150)).toBe(false);
    expect(calibrationCurrent(measured, 'other', 300)).toBe(false);
    expect(calibrationCurrent(null, 't', 300)).toBe(false);
  });

  it('picks a mid-length sentence of the passage as the pseudo-query', () => {
    expect(pseudoQuery('Short. This sentence has exactly enough words to count. Tail.')).toBe('This sentence has exactly enough words to count.');
    expect(pseudoQuery('one two three')).toBeNull();
    expect(pseudoQuery(Array.from({ length: 50 }, (_, i) => `w${i}`).join(' '))).toBe(Array.from({ length: 20 }, (_, i) => `w${i}`).join(' '));
  });

  it('is measured by a hybrid search on the library, stored, and used by the chat relevance gate', async () => {
    for (const [i, text] of passages.slice(0, 16).entries()) {
      mkdirSync(join(docsDir, `f${i % 3}`), { recursive: true });
      writeFileSync(join(docsDir, `f${i % 3}`, `note-${i}.txt`), `${text}\n`);
    }
    await indexPath(core, docsDir, 'Calibrated');
    const hits = await core.library.search({ query: 'lighthouse harbor ferry', limit: 5 });
    expect(hits.length).toBeGreaterThan(0);
    expect(hits.every((h) => h.relevance > 0 && h.relevance <= 1)).toBe(true);
    const read = () => core.db.prepare("SELECT value FROM settings WHERE key = 'library.calibration'").get() as { value: string } | undefined;
    await waitUntil(() => read() !== undefined, 'the calibration after indexing', 60_000);
    const stored = read();
    const calibration = calibrationSchema.parse(JSON.parse(stored!.value));
    expect(calibration).toMatchObject({ basis: 'measured', rows: 16 });
    // stories260K's cosines tell nothing: similarity alone never makes a passage relevant, so a
    // question sharing no word with the documents finds nothing.
    if (calibration.similarityThreshold === null) {
      const collection = core.library.findCollection('Calibrated')!;
      expect(await core.library.retriever.retrieve('What did the committee decide yesterday?', [collection.id], new AbortController().signal)).toEqual([]);
    }
  });
});
