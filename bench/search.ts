/**
 * bench:search — hybrid retrieval (BM25 + vector, fused with RRF in hybridSearch.ts) against
 * its two halves, on synthetic chunk tables of 10k and 100k rows, same store, same process.
 *
 * The baselines are the two plain searches a caller would run instead, returning the same
 * number of rows: ChunkStore.searchText (BM25) and ChunkStore.searchVector (cosine). So
 * "hybrid / (bm25 + vector)" is what one hybrid query costs against running both searches
 * (< 1: cheaper than the two together). Hybrid ranks `candidates` ids per side, fuses, then
 * reads the rows of the final `limit` only. For reference: the same hybrid filtered to one
 * collection. Modes are interleaved
 * query by query, rotating which goes first, so drift hits all of them alike.
 *
 * Data (seeded, so runs repeat): 384-d unit vectors around 64 topic centroids with 16
 * sub-topics each; text of 60-160 words drawn from a 30k-word Zipf vocabulary mixed with
 * per-topic vocabularies, so BM25 has long posting lists to score. Queries mix topic words
 * with common words; query vectors sit near a chunk of that topic.
 *
 *   npm run bench:search -- [--sizes 10000,100000] [--queries 200] [--warmup 20] [--limit 10]
 *                           [--candidates 50] [--seed 42] [--read-consistency 0|none]
 */
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { connect } from '@lancedb/lancedb';
import { ChunkStore, type ChunkRow, type RefreshResult } from '../src-main/core/search/chunkStore';
import { hybridSearch } from '../src-main/core/search/hybridSearch';
import type { DocumentFormat } from '../src-main/core/library/types';
import type { SearchMode } from '#contract/vocabulary';
import { tempDir } from '../tests/support/tempDir';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,100000' },
    queries: { type: 'string', default: '200' },
    warmup: { type: 'string', default: '20' },
    limit: { type: 'string', default: '10' },
    candidates: { type: 'string', default: '50' },
    seed: { type: 'string', default: '42' },
    'read-consistency': { type: 'string', default: '0' },
  },
});
const sizes = values.sizes.split(',').map(Number);
const queryCount = Number(values.queries);
const warmup = Number(values.warmup);
const limit = Number(values.limit);
const candidates = Number(values.candidates);
const seed = Number(values.seed);
const readConsistency = values['read-consistency'] === 'none' ? null : Number(values['read-consistency']);
const DIM = 384;
const CHUNKS_PER_DOC = 8;
const WRITE_BATCH_DOCS = 125; // 1,000 rows per replaceDocuments call

// --- seeded data ---------------------------------------------------------------------------

function mulberry32(a: number): () => number {
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class Generator {
  private readonly rand: () => number;
  readonly vocab: string[];
  private readonly globalCdf: Float64Array;
  private readonly topicWords: number[][];
  private readonly topicCdf: Float64Array;
  private readonly centroids: Float32Array[];
  private readonly subtopics: Float32Array[];
  static readonly TOPICS = 64;
  static readonly SUBTOPICS = 16;

  constructor(seedValue: number) {
    this.rand = mulberry32(seedValue);
    const syllables = ['ka', 'lo', 'mi', 'ne', 'ru', 'sa', 'ti', 'vo', 'be', 'da', 'fi', 'gu', 'ho', 'ja', 'ke', 'lu', 'ma', 'no', 'pi', 're', 'so', 'ta', 'ul', 'ver', 'wen', 'xi', 'yor', 'zan'];
    const seen = new Set<string>();
    this.vocab = [];
    while (this.vocab.length < 30_000) {
      const n = 1 + Math.floor(this.rand() * 4);
      let word = '';
      for (let i = 0; i < n; i++) word += syllables[Math.floor(this.rand() * syllables.length)];
      if (word.length > 2 && !seen.has(word)) {
        seen.add(word);
        this.vocab.push(word);
      }
    }
    this.globalCdf = zipfCdf(this.vocab.length, 1.07);
    // Each topic favours 300 words from the long tail.
    this.topicWords = Array.from({ length: Generator.TOPICS }, () => Array.from({ length: 300 }, () => 200 + Math.floor(this.rand() * (this.vocab.length - 200))));
    this.topicCdf = zipfCdf(300, 1.0);
    this.centroids = Array.from({ length: Generator.TOPICS }, () => this.gaussianVector());
    this.subtopics = Array.from({ length: Generator.TOPICS * Generator.SUBTOPICS }, () => this.gaussianVector());
  }

  int(n: number): number {
    return Math.floor(this.rand() * n);
  }

  gaussian(): number {
    return Math.sqrt(-2 * Math.log(this.rand() + 1e-12)) * Math.cos(2 * Math.PI * this.rand());
  }

  private gaussianVector(): Float32Array {
    const v = new Float32Array(DIM);
    for (let i = 0; i < DIM; i++) v[i] = this.gaussian();
    return v;
  }

  globalWord(): string {
    return this.vocab[sample(this.globalCdf, this.rand())]!;
  }

  topicWord(topic: number): string {
    return this.vocab[this.topicWords[topic]![sample(this.topicCdf, this.rand())]!]!;
  }

  chunkVector(topic: number): Float32Array {
    const a = this.centroids[topic]!;
    const b = this.subtopics[topic * Generator.SUBTOPICS + this.int(Generator.SUBTOPICS)]!;
    const v = new Float32Array(DIM);
    for (let i = 0; i < DIM; i++) v[i] = a[i]! + 0.7 * b[i]! + 0.5 * this.gaussian();
    return normalise(v);
  }

  near(vector: Float32Array): Float32Array {
    const v = new Float32Array(DIM);
    for (let i = 0; i < DIM; i++) v[i] = vector[i]! + 0.04 * this.gaussian();
    return normalise(v);
  }

  chunkText(topic: number): string {
    const n = 60 + this.int(101);
    const words: string[] = [];
    for (let i = 0; i < n; i++) words.push(this.rand() < 0.3 ? this.topicWord(topic) : this.globalWord());
    return words.join(' ');
  }
}

function zipfCdf(n: number, s: number): Float64Array {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) cdf[r] = sum += 1 / Math.pow(r + 1, s);
  for (let r = 0; r < n; r++) cdf[r]! /= sum;
  return cdf;
}

function sample(cdf: Float64Array, u: number): number {
  let lo = 0;
  let hi = cdf.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! < u) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function normalise(v: Float32Array): Float32Array {
  let n = 0;
  for (const x of v) n += x * x;
  n = Math.sqrt(n);
  for (let i = 0; i < v.length; i++) v[i]! /= n;
  return v;
}

const FORMATS: DocumentFormat[] = ['markdown', 'pdf', 'text', 'html', 'docx'];

// --- measurement ---------------------------------------------------------------------------

interface Stats {
  p50: number;
  p95: number;
  mean: number;
  samples: number[];
}

function quantile(sorted: number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function stats(samples: number[]): Stats {
  const sorted = [...samples].sort((a, b) => a - b);
  return { p50: quantile(sorted, 0.5), p95: quantile(sorted, 0.95), mean: samples.reduce((a, b) => a + b, 0) / samples.length, samples };
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await fn();
  return performance.now() - start;
}

interface SizeResult {
  rows: number;
  build: { generateMs: number; writeMs: number; rowsPerSecond: number; refreshMs: number; refresh: RefreshResult };
  vectorRecallAt10: number;
  modes: Record<string, Stats>;
  ratioP50: number;
  ratioP95: number;
  pairedRatioMedian: number;
  replaceOneDocMs: Stats;
  replaceOneDocShrinkMs: Stats;
}

async function runSize(rows: number): Promise<SizeResult> {
  const gen = new Generator(seed + rows);
  const dir = tempDir('hearth-bench-search-');
  const store = await ChunkStore.open(dir.path, { readConsistencySeconds: readConsistency });
  const table = `chunks_bench_${rows}_${DIM}`;
  await store.ensureTable(table, { dimension: DIM, modelId: 'bench-synthetic-384', modelName: 'Synthetic 384' });

  // Generate and write in document batches; a chunk's topic is its document's.
  const docs = Math.ceil(rows / CHUNKS_PER_DOC);
  const chunkTopic: number[] = [];
  const chunkVectors: Float32Array[] = [];
  let generateMs = 0;
  let writeMs = 0;
  for (let firstDoc = 0; firstDoc < docs; firstDoc += WRITE_BATCH_DOCS) {
    const start = performance.now();
    const docIds: string[] = [];
    const batch: ChunkRow[] = [];
    for (let d = firstDoc; d < Math.min(docs, firstDoc + WRITE_BATCH_DOCS); d++) {
      const docId = `doc${d}`;
      docIds.push(docId);
      const topic = gen.int(Generator.TOPICS);
      for (let c = 0; c < CHUNKS_PER_DOC && chunkVectors.length < rows; c++) {
        const vector = gen.chunkVector(topic);
        const text = gen.chunkText(topic);
        chunkTopic.push(topic);
        chunkVectors.push(vector);
        batch.push({
          id: `${docId}#${c}`,
          docId,
          sourceId: 'bench',
          collectionId: `col${d % 4}`,
          path: `/bench/col${d % 4}/topic${topic}/${docId}.md`,
          format: FORMATS[d % FORMATS.length]!,
          title: `Document ${d}`,
          heading: `Topic ${topic} › Part ${c}`,
          ordinal: c,
          pageStart: null,
          pageEnd: null,
          lineStart: c * 40 + 1,
          lineEnd: c * 40 + 40,
          text,
          textHash: `${docId}#${c}`,
          tokenCount: text.split(' ').length,
          vector,
        });
      }
    }
    generateMs += performance.now() - start;
    writeMs += await time(() => store.replaceDocuments(table, docIds.filter((id) => batch.some((r) => r.docId === id)), batch));
  }
  let refresh: RefreshResult | undefined;
  const refreshMs = await time(async () => (refresh = await store.refreshIndexes(table)));
  process.stdout.write(
    `  ${rows} rows: generated in ${(generateMs / 1000).toFixed(1)} s, written in ${(writeMs / 1000).toFixed(1)} s, indexes in ${(refreshMs / 1000).toFixed(1)} s (${JSON.stringify(refresh)})\n`,
  );

  // Queries: two topic words and one common word; the vector near a chunk of the same topic.
  const queries = Array.from({ length: warmup + queryCount }, () => {
    const anchor = gen.int(rows);
    const topic = chunkTopic[anchor]!;
    const text = `${gen.topicWord(topic)} ${gen.topicWord(topic)} ${gen.vocab[20 + gen.int(2000)]}`;
    return { text, vector: gen.near(chunkVectors[anchor]!), collection: `col${gen.int(4)}` };
  });

  // LanceDB's own hybrid query with its RRF reranker, for reference (same k, same candidates).
  const raw = await connect(dir.path);
  const rawTable = await raw.openTable(table);

  type Mode = SearchMode | 'hybrid+filter';
  const modes: Record<Mode, (q: (typeof queries)[number]) => Promise<unknown>> = {
    hybrid: (q) => hybridSearch(store, table, { text: q.text, vector: q.vector, limit, mode: 'hybrid', candidates }),
    bm25: (q) => store.searchText(table, q.text, { limit }),
    vector: (q) => store.searchVector(table, q.vector, { limit }),
    'hybrid+filter': (q) => hybridSearch(store, table, { text: q.text, vector: q.vector, limit, mode: 'hybrid', candidates, filter: { collectionIds: [q.collection] } }),
  };
  const names = Object.keys(modes) as Mode[];
  const samples = Object.fromEntries(names.map((name) => [name, [] as number[]])) as Record<Mode, number[]>;
  for (let i = 0; i < queries.length; i++) {
    for (let j = 0; j < names.length; j++) {
      const name = names[(i + j) % names.length]!;
      const ms = await time(() => modes[name](queries[i]!));
      if (i >= warmup) samples[name].push(ms);
    }
  }

  // Recall@10 of the ANN index against an exact scan, on the first 50 measured queries.
  let hits = 0;
  const recallQueries = queries.slice(warmup, warmup + 50);
  for (const q of recallQueries) {
    const ann = await store.searchVector(table, q.vector, { limit: 10 });
    const exact = (await rawTable.query().nearestTo(q.vector).distanceType('cosine').bypassVectorIndex().select(['id']).limit(10).toArray()) as { id: string }[];
    const truth = new Set(exact.map((r) => r.id));
    hits += ann.filter((h) => truth.has(h.row.id)).length;
  }

  // What re-indexing one edited document costs at this size (one mergeInsert commit each):
  // same chunk ids (upsert only), then one chunk fewer (upsert plus delete, a full-table join).
  const replaceSamples: number[] = [];
  const shrinkSamples: number[] = [];
  for (let i = 0; i < 40; i++) {
    const docId = `doc${gen.int(docs)}`;
    const existing = await store.docChunks(table, docId);
    const vectors = await store.vectorsByTextHash(
      table,
      existing.map((c) => c.textHash),
    );
    const edited = existing.map((c) => ({ ...c, text: `${c.text} edited${i}`, vector: vectors.get(c.textHash)! }));
    if (i % 2 === 0) replaceSamples.push(await time(() => store.replaceDocuments(table, [docId], edited)));
    else shrinkSamples.push(await time(() => store.replaceDocuments(table, [docId], edited.slice(0, -1))));
  }

  rawTable.close();
  raw.close();
  store.close();
  dir.cleanup();

  const modeStats = Object.fromEntries(names.map((name) => [name, stats(samples[name])])) as Record<Mode, Stats>;
  const paired = samples.hybrid.map((h, i) => h / (samples.bm25[i]! + samples.vector[i]!)).sort((a, b) => a - b);
  return {
    rows,
    build: { generateMs, writeMs, rowsPerSecond: rows / (writeMs / 1000), refreshMs, refresh: refresh! },
    vectorRecallAt10: hits / (recallQueries.length * 10),
    modes: modeStats,
    ratioP50: modeStats.hybrid.p50 / (modeStats.bm25.p50 + modeStats.vector.p50),
    ratioP95: modeStats.hybrid.p95 / (modeStats.bm25.p95 + modeStats.vector.p95),
    pairedRatioMedian: quantile(paired, 0.5),
    replaceOneDocMs: stats(replaceSamples),
    replaceOneDocShrinkMs: stats(shrinkSamples),
  };
}

// --- run -----------------------------------------------------------------------------------

const lancedbVersion = (JSON.parse(readFileSync(join(import.meta.dirname ?? '.', '..', 'node_modules', '@lancedb', 'lancedb', 'package.json'), 'utf8')) as { version: string }).version;
const machine = `${cpus()[0]?.model.trim() ?? 'unknown CPU'} (${cpus().length} cores), ${Math.round(totalmem() / 2 ** 30)} GiB, ${process.platform} ${process.arch}, Node ${process.versions.node}, @lancedb/lancedb ${lancedbVersion}`;
console.log(`\nbench:search — ${machine}`);
console.log(`dimension ${DIM}, limit ${limit}, ${candidates} candidates per retriever, RRF k = 60, ${queryCount} queries per mode after ${warmup} warm-up, seed ${seed}`);
console.log(`read consistency: ${readConsistency === null ? 'none' : `${readConsistency} s`}\n`);

const started = performance.now();
const results: SizeResult[] = [];
for (const rows of sizes) results.push(await runSize(rows));
const totalSeconds = (performance.now() - started) / 1000;

const f = (ms: number) => ms.toFixed(2);
console.log(`\n${'rows'.padEnd(9)}${'mode'.padEnd(24)}${'p50 ms'.padStart(10)}${'p95 ms'.padStart(10)}${'mean ms'.padStart(10)}`);
for (const r of results) {
  for (const [name, s] of Object.entries(r.modes)) {
    const label = name === 'bm25' || name === 'vector' ? `${name} (baseline)` : name;
    console.log(`${String(r.rows).padEnd(9)}${label.padEnd(24)}${f(s.p50).padStart(10)}${f(s.p95).padStart(10)}${f(s.mean).padStart(10)}`);
  }
  console.log(
    `${''.padEnd(9)}${'hybrid / (bm25+vector)'.padEnd(24)}${r.ratioP50.toFixed(3).padStart(10)}${r.ratioP95.toFixed(3).padStart(10)}   (paired median ${r.pairedRatioMedian.toFixed(3)})`,
  );
  console.log(
    `${''.padEnd(9)}vector recall@10 ${r.vectorRecallAt10.toFixed(3)} (${r.build.refresh.vectorIndex === 'none' ? 'exact scan' : 'IVF_HNSW_SQ vs exact'}); replace one doc p50 ${f(r.replaceOneDocMs.p50)} ms (${f(r.replaceOneDocShrinkMs.p50)} ms with a chunk fewer); write ${Math.round(r.build.rowsPerSecond)} rows/s; refreshIndexes ${(r.build.refreshMs / 1000).toFixed(1)} s\n`,
  );
}
console.log(`total ${totalSeconds.toFixed(0)} s`);

const date = new Date().toISOString();
const outDir = join(import.meta.dirname ?? '.', 'results');
mkdirSync(outDir, { recursive: true });
const file = join(outDir, `search-${date.replaceAll(':', '-')}.json`);
writeFileSync(
  file,
  `${JSON.stringify({ date, machine, config: { sizes, queryCount, warmup, limit, candidates, seed, dimension: DIM, readConsistency }, totalSeconds, results }, null, 2)}\n`,
);
console.log(`results: ${file}`);
