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
 *   npm run eval:retrieval -- [--data DIR] [--cache DIR] [--model PATH ...] [--queries N] [--docs M]
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
import { chunkDocument } from '../src-main/core/library/chunker';
import { DEFAULT_LIBRARY_OPTIONS } from '../src-main/core/library/libraryOptions';
import { ChunkStore, type ChunkRow } from '../src-main/core/search/chunkStore';
import { hybridSearch, type HybridQuery } from '../src-main/core/search/hybridSearch';
import { tempDir } from '../tests/support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../tests/support/testCore';
import { testModelPath } from '../tests/support/testModels';
import { docRanking, loadBeir, mean, ndcgAt, recallAt, type BeirSet } from './evalData';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: resolve(import.meta.dirname, '..', '..', 'shared', 'eval', 'scifact-dev') },
    cache: { type: 'string', default: join(homedir(), '.cache', 'hearth-eval') },
    model: { type: 'string', multiple: true },
    queries: { type: 'string' },
    docs: { type: 'string' },
  },
});
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
  const dir = join(values.cache, `${basename(modelPath, '.gguf')}-${fileHash}-${info.rules}-v${INDEX_VERSION}${corpusTag}`);
  const store = await ChunkStore.open(dir, { readConsistencySeconds: null });
  const marker = join(dir, 'complete.json');
  if (!existsSync(marker)) {
    await store.dropTable(TABLE);
    const started = performance.now();
    const chunks = await buildIndex(store, set, row, info);
    writeFileSync(marker, JSON.stringify({ chunks, seconds: (performance.now() - started) / 1000 }));
  }
  const built = JSON.parse(readFileSync(marker, 'utf8')) as { chunks: number; seconds: number };

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
  const rankings: Record<string, string[][]> = { bm25: [], vector: [], hybrid: [], hybridEqual: [] };
  let top10Differs = 0;
  for (const [i, q] of set.queries.entries()) {
    const run = async (mode: HybridQuery['mode'], limit: number, vectorWeight?: number) =>
      docRanking(
        (await hybridSearch(store, TABLE, { text: q.text, vector: queryVectors[i]!, limit, mode, ...(vectorWeight === undefined ? {} : { vectorWeight }) })).map(
          (h) => h.row.docId,
        ),
      );
    rankings.bm25!.push(await run('bm25', 100));
    rankings.vector!.push(await run('vector', 100));
    const hybrid = await run('hybrid', 100, calibration.vectorWeight);
    rankings.hybrid!.push(hybrid);
    rankings.hybridEqual!.push(await run('hybrid', 100, 1));
    const top10 = await run('hybrid', 10, calibration.vectorWeight);
    if (top10.join() !== hybrid.slice(0, top10.length).join()) top10Differs++;
  }
  store.close();
  const scores = Object.fromEntries(Object.entries(rankings).map(([name, r]) => [name, score(r)])) as Record<string, ChannelScores>;
  const best = Math.max(scores.bm25!.ndcg10, scores.vector!.ndcg10);
  const result = {
    model: basename(modelPath),
    dimension: info.dimension,
    chunks: built.chunks,
    indexSeconds: built.seconds,
    calibration,
    calibrationSeconds,
    scores,
    goals: {
      hybridAtLeastBestMinus001: scores.hybrid!.ndcg10 >= best - 0.01,
      bm25OverLancedbFts: scores.bm25!.ndcg10 / lancedbFts.ndcg10,
      queriesWhoseTop10DependsOnLimit: top10Differs,
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

/** The first `queries` queries and a corpus of their judged documents topped up to `docs` (all when null). */
function subset(full: BeirSet, queries: number | null, docs: number | null): BeirSet {
  const chosen = queries === null ? full.queries : full.queries.slice(0, queries);
  if (docs === null) return { ...full, queries: chosen };
  const judged = new Set(chosen.flatMap((q) => [...full.qrels.get(q.id)!]));
  const hash = (id: string) => createHash('sha1').update(id).digest('hex');
  const others = full.corpus.filter((d) => !judged.has(d.id)).sort((a, b) => (hash(a.id) < hash(b.id) ? -1 : 1));
  const keep = new Set([...judged, ...others.slice(0, Math.max(0, docs - judged.size)).map((d) => d.id)]);
  return { ...full, queries: chosen, corpus: full.corpus.filter((d) => keep.has(d.id)) };
}

/** Chunks and embeds the corpus the way an indexing job does, as .txt files named by id. */
async function buildIndex(store: ChunkStore, beir: BeirSet, row: ReturnType<typeof core.models.get>, info: Awaited<ReturnType<typeof core.embedder.info>>): Promise<number> {
  await store.ensureTable(TABLE, { dimension: info.dimension, modelId: row.id, modelName: row.name });
  const countTokens = await core.embedder.tokenCounter(row);
  const maxTokens = Math.max(32, Math.min(DEFAULT_LIBRARY_OPTIONS.chunkTokens, info.contextSize - 64));
  const options = { maxTokens, overlapTokens: Math.min(DEFAULT_LIBRARY_OPTIONS.overlapTokens, Math.floor(maxTokens / 4)), countTokens };
  let total = 0;
  const BATCH = 250;
  for (let start = 0; start < beir.corpus.length; start += BATCH) {
    const docs = beir.corpus.slice(start, start + BATCH);
    const planned = docs.flatMap((doc) =>
      chunkDocument({ format: 'text', title: doc.title, blocks: [{ kind: 'paragraph', text: doc.text }], warnings: [] }, options).map((chunk) => ({ doc, chunk })),
    );
    const vectors = await core.embedder.embed(row, planned.map(({ doc, chunk }) => `${doc.title}\n\n${chunk.text}`), { role: 'document' });
    const rows: ChunkRow[] = planned.map(({ doc, chunk }, i) => ({
      id: `${doc.id}:${chunk.ordinal}`,
      docId: doc.id,
      sourceId: 'scifact',
      collectionId: 'scifact',
      path: `/eval/scifact/${doc.id}.txt`,
      format: 'text',
      title: doc.title,
      heading: chunk.headingPath.join(' › '),
      ordinal: chunk.ordinal,
      pageStart: null,
      pageEnd: null,
      lineStart: null,
      lineEnd: null,
      text: chunk.text,
      textHash: createHash('sha256').update(`${doc.title}\n\n${chunk.text}`).digest('hex'),
      tokenCount: chunk.tokenCount,
      vector: vectors[i]!,
    }));
    await store.replaceDocuments(TABLE, docs.map((d) => d.id), rows);
    total += rows.length;
    log(`${row.name}: ${start + docs.length}/${beir.corpus.length} documents, ${total} chunks`);
  }
  await store.refreshIndexes(TABLE);
  return total;
}
