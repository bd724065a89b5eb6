/**
 * eval:retrieval — nDCG@10 and Recall@100 of Hearth's retrieval on a BEIR data set (SciFact's
 * train split in ../shared/eval/scifact-dev by default), per channel and fused, with each
 * shared model as the embedder, against LanceDB's own full-text search over whole documents
 * (title + text, default settings) in the same run.
 *
 * Hearth's side is the product's code: the chunker with the model's tokenizer, the embedder
 * with the model's rules, the chunk store (search_text with title and file name in every
 * chunk), the channel calibration and hybridSearch. Each model's index is built once and
 * cached (default ~/.cache/hearth-eval, or --cache DIR): later runs only search.
 *
 * On a small machine, --queries N --docs M evaluates a subset: the first N queries, and a
 * corpus of their judged documents plus others (a fixed hash order) up to M in all; every
 * system, LanceDB's FTS included, searches that same corpus. Report it as a subset.
 *
 * "bm25Passages" and "hybridPassages" rank passages alone (documentWeight 0: no document
 * evidence, the query as typed), what Hearth did before documentEvidence.ts.
 *
 * --channels fulltext measures the full-text channel alone: each model's tokenizer and chunker
 * build a full-text-only index (no vectors, as the product has before an embedding model
 * arrives; cached apart, built in minutes), and BM25 is compared with LanceDB's FTS. Without
 * embeddings the whole train split fits a small machine.
 *
 *   npm run eval:retrieval -- [--data DIR] [--cache DIR] [--model PATH ...] [--queries N] [--docs M] [--channels all|fulltext]
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg, totalmem } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { connect, Index, MatchQuery } from '@lancedb/lancedb';
import { createConsoleLogger } from '../src-main/core/common/logger';
import { createCore } from '../src-main/core/createCore';
import { calibrateChannels, PRIOR_SIMILARITY, type ChannelCalibration } from '../src-main/core/library/channelCalibration';
import { ChunkStore } from '../src-main/core/search/chunkStore';
import { hybridSearch, type HybridQuery } from '../src-main/core/search/hybridSearch';
import { tempDir } from '../tests/support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../tests/support/testCore';
import { testModelPath } from '../tests/support/testModels';
import { docRanking, loadBeir, mean, ndcgAt, recallAt } from './evalData';
import { buildIndex, subset } from './evalIndex';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: resolve(import.meta.dirname, '..', '..', 'shared', 'eval', 'scifact-dev') },
    cache: { type: 'string', default: join(homedir(), '.cache', 'hearth-eval') },
    model: { type: 'string', multiple: true },
    queries: { type: 'string' },
    docs: { type: 'string' },
    channels: { type: 'string', default: 'all' },
  },
});
if (values.channels !== 'all' && values.channels !== 'fulltext') throw new Error(`--channels must be all or fulltext, got ${values.channels}`);
const fullTextOnly = values.channels === 'fulltext';
/** Bump when the way the cached index is built changes (chunking, rules, schema). */
const INDEX_VERSION = 1;
const TABLE = 'scifact';

const set = subset(loadBeir(values.data), values.queries ? Number(values.queries) : null, values.docs ? Number(values.docs) : null);
const corpusTag = values.docs ? `-docs${set.corpus.length}-q${set.queries.length}` : '';
const modelPaths = values.model ?? [await testModelPath('stories260K'), await testModelPath('tinyRandom')];
mkdirSync(values.cache, { recursive: true });
const loadBefore = loadavg();
const log = (line: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

const data = tempDir('hearth-eval-data-');
const core = createCore(
  { dataDir: data.path, host: 'server', version: 'eval', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, library: { watch: false } },
  { logger: createConsoleLogger('error') },
);

interface ChannelScores {
  ndcg10: number;
  recall100: number;
}
const score = (rankings: string[][]): ChannelScores => ({
  ndcg10: mean(rankings.map((r, i) => ndcgAt(r, set.qrels.get(set.queries[i]!.id)!))),
  recall100: mean(rankings.map((r, i) => recallAt(r, set.qrels.get(set.queries[i]!.id)!))),
});

// --- LanceDB's own full-text search over whole documents (the bar for the BM25 channel) ---
const ftsDir = join(values.cache, `lancedb-fts-docs-v${INDEX_VERSION}${corpusTag}`);
const db = await connect(ftsDir);
if (!(await db.tableNames()).includes('docs')) {
  log('LanceDB FTS: indexing whole documents');
  const table = await db.createTable('docs', set.corpus.map((d) => ({ id: d.id, doc: `${d.title} ${d.text}` })));
  await table.createIndex('doc', { config: Index.fts() });
  table.close();
}
const ftsTable = await db.openTable('docs');
const ftsRankings: string[][] = [];
for (const q of set.queries) {
  const result = await ftsTable.query().fullTextSearch(new MatchQuery(q.text, 'doc')).select(['id', '_score']).limit(100).toArray();
  ftsRankings.push(result.map((r: { id: string }) => r.id));
}
ftsTable.close();
db.close();
const lancedbFts = score(ftsRankings);
log(`LanceDB FTS (whole documents): nDCG@10 ${lancedbFts.ndcg10.toFixed(4)}`);

const results: Record<string, unknown>[] = [];
for (const modelPath of modelPaths) {
  const added = await core.models.add(modelPath);
  const row = core.models.get(added.id);
  const info = await core.embedder.info(row);
  const fileHash = createHash('sha256').update(readFileSync(modelPath)).digest('hex').slice(0, 12);
  // A full-text-only index depends on the tokenizer (the file) and the chunker, not the embedding rules.
  const kind = fullTextOnly ? 'fulltext' : info.rules;
  const dir = join(values.cache, `${basename(modelPath, '.gguf')}-${fileHash}-${kind}-v${INDEX_VERSION}${corpusTag}`);
  const store = await ChunkStore.open(dir, { readConsistencySeconds: null });
  const marker = join(dir, 'complete.json');
  if (!existsSync(marker)) {
    await store.dropTable(TABLE);
    const started = performance.now();
    const chunks = await buildIndex({
      store,
      table: TABLE,
      beir: set,
      model: { id: row.id, name: row.name, dimension: info.dimension, contextSize: info.contextSize },
      countTokens: await core.embedder.tokenCounter(row),
      embedDocuments: fullTextOnly ? null : (texts) => core.embedder.embed(row, texts, { role: 'document' }),
      log,
    });
    writeFileSync(marker, JSON.stringify({ chunks, seconds: (performance.now() - started) / 1000 }));
  }
  const built = JSON.parse(readFileSync(marker, 'utf8')) as { chunks: number; seconds: number };
  const measured = fullTextOnly ? await fullTextChannel(store) : await allChannels(store, row);
  store.close();
  const { scores } = measured;
  const best = Math.max(scores.bm25!.ndcg10, scores.vector?.ndcg10 ?? 0);
  const result = {
    model: basename(modelPath),
    dimension: info.dimension,
    chunks: built.chunks,
    indexSeconds: built.seconds,
    ...measured,
    goals: {
      ...(scores.hybrid ? { hybridAtLeastBestMinus001: scores.hybrid.ndcg10 >= best - 0.01 } : {}),
      bm25OverLancedbFts: scores.bm25!.ndcg10 / lancedbFts.ndcg10,
      queriesWhoseTop10DependsOnLimit: measured.top10Differs,
    },
  };
  results.push(result);
  log(`${row.name}: ${Object.entries(scores).map(([name, s]) => `${name} ${s.ndcg10.toFixed(4)}`).join(', ')}; BM25/LanceDB-FTS ${result.goals.bm25OverLancedbFts.toFixed(3)}`);
}
await core.dispose();
data.cleanup();

const report = {
  date: new Date().toISOString(),
  data: values.data,
  split: values.docs ? 'train, subset (dev numbers)' : 'train (dev numbers)',
  channels: values.channels,
  queries: set.queries.length,
  documents: set.corpus.length,
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, ramGiB: Math.round(totalmem() / 2 ** 30), loadAverage: { before: loadBefore, after: loadavg() } },
  lancedbFts,
  models: results,
};
console.log(JSON.stringify(report, null, 2));
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
const out = join(import.meta.dirname, 'results', `retrieval-${report.date.replace(/:/g, '-')}.json`);
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);
console.log(`written to ${out}`);

interface Measured {
  scores: Record<string, ChannelScores>;
  top10Differs: number;
  calibration?: ChannelCalibration;
  calibrationSeconds?: number;
  /** Search time per query (rows of the final hits included), full-text mode only. */
  msPerQuery?: Record<string, number>;
}

/** Every channel: BM25, vector, hybrid with the calibrated weight and with equal weights. */
async function allChannels(store: ChunkStore, row: ReturnType<typeof core.models.get>): Promise<Measured> {
  const started = performance.now();
  const calibration: ChannelCalibration = await calibrateChannels({
    store,
    key: TABLE,
    embedQueries: (texts) => core.embedder.embed(row, texts, { role: 'query' }),
    dedicated: row.kind === 'embedding',
    fallbackThreshold: PRIOR_SIMILARITY,
  });
  const calibrationSeconds = (performance.now() - started) / 1000;
  log(`${row.name}: vector weight ${calibration.vectorWeight} (BM25 MRR ${calibration.bm25Mrr.toFixed(3)}, vector MRR ${calibration.vectorMrr.toFixed(3)}), bar ${calibration.similarityThreshold}`);

  const queryVectors = await core.embedder.embed(row, set.queries.map((q) => q.text), { role: 'query' });
  // bm25Passages, hybridPassages: passages ranked alone, without their documents' evidence (before it).
  const rankings: Record<string, string[][]> = { bm25: [], bm25Passages: [], vector: [], hybrid: [], hybridPassages: [], hybridEqual: [] };
  let top10Differs = 0;
  for (const [i, q] of set.queries.entries()) {
    const run = async (mode: HybridQuery['mode'], limit: number, vectorWeight?: number, documentWeight?: number) =>
      docRanking(
        (
          await hybridSearch(store, TABLE, {
            text: q.text,
            vector: queryVectors[i]!,
            limit,
            mode,
            ...(vectorWeight === undefined ? {} : { vectorWeight }),
            ...(documentWeight === undefined ? {} : { documentWeight }),
          })
        ).map((h) => h.row.docId),
      );
    rankings.bm25!.push(await run('bm25', 100));
    rankings.bm25Passages!.push(await run('bm25', 100, undefined, 0));
    rankings.hybridPassages!.push(await run('hybrid', 100, calibration.vectorWeight, 0));
    rankings.vector!.push(await run('vector', 100));
    const hybrid = await run('hybrid', 100, calibration.vectorWeight);
    rankings.hybrid!.push(hybrid);
    rankings.hybridEqual!.push(await run('hybrid', 100, 1));
    const top10 = await run('hybrid', 10, calibration.vectorWeight);
    if (top10.join() !== hybrid.slice(0, top10.length).join()) top10Differs++;
  }
  return { scores: scoreAll(rankings), top10Differs, calibration, calibrationSeconds };
}

/** The full-text channel alone (a full-text-only index: no vectors to search). */
async function fullTextChannel(store: ChunkStore): Promise<Measured> {
  const rankings: Record<string, string[][]> = { bm25: [], bm25Passages: [] };
  let top10Differs = 0;
  let bm25Ms = 0;
  let passagesMs = 0;
  for (const q of set.queries) {
    const run = async (limit: number, documentWeight?: number) =>
      docRanking((await hybridSearch(store, TABLE, { text: q.text, vector: null, limit, mode: 'bm25', ...(documentWeight === undefined ? {} : { documentWeight }) })).map((h) => h.row.docId));
    let started = performance.now();
    const bm25 = await run(100);
    bm25Ms += performance.now() - started;
    rankings.bm25!.push(bm25);
    started = performance.now();
    rankings.bm25Passages!.push(await run(100, 0));
    passagesMs += performance.now() - started;
    const top10 = await run(10);
    if (top10.join() !== bm25.slice(0, top10.length).join()) top10Differs++;
  }
  const perQuery = (ms: number) => Number((ms / set.queries.length).toFixed(1));
  return { scores: scoreAll(rankings), top10Differs, msPerQuery: { bm25: perQuery(bm25Ms), bm25Passages: perQuery(passagesMs) } };
}

function scoreAll(rankings: Record<string, string[][]>): Record<string, ChannelScores> {
  return Object.fromEntries(Object.entries(rankings).map(([name, r]) => [name, score(r)]));
}
