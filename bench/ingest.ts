/**
 * bench:ingest — Hearth's indexing pipeline against raw embedding throughput of the same
 * model, in the same process and run.
 *
 * Pipeline: a generated folder of Markdown and text files is added to a collection and
 * indexed by the real job (scan, sha256, parse in the sandboxed worker, chunk with the model's
 * tokenizer, embed, LanceDB mergeInsert, SQLite). Reported as files/s and chunks/s.
 * Baseline: the very chunk texts the pipeline embedded, fed straight to node-llama-cpp's
 * embedding contexts on the same llama.cpp binding, in each way it allows (one context at
 * --threads, one at every math core, one context per core at once: rawEmbedding.ts), and the
 * fastest is the baseline. node-llama-cpp 3.21.1 cannot batch several texts in one evaluation
 * (one sequence per embedding context; the addon reads sequence 0's embedding only). The ratio
 * pipeline chunks/s ÷ best raw texts/s is the share of the reachable embedding speed the
 * pipeline keeps: 1.0 would mean parsing, chunking and storing cost nothing next to embedding
 * done the fastest way. Passages with identical text share one vector, so it is also reported
 * over the texts the pipeline actually embedded.
 * A second pipeline run over the unchanged folder shows what a rescan costs (it embeds nothing).
 *
 *   npm run bench:ingest -- [--model PATH] [--files N] [--threads N] [--embedding-contexts N] [--gpu auto|off]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createConsoleLogger } from '../src-main/core/common/logger';
import { createCore } from '../src-main/core/createCore';
import { indexKey } from '../src-main/core/library/documentLibrary';
import { ChunkStore } from '../src-main/core/search/chunkStore';
import { tempDir } from '../tests/support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../tests/support/testCore';
import { testModelPath } from '../tests/support/testModels';
import { embedRaw, rawMethods, type RawResult } from './rawEmbedding';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    files: { type: 'string', default: '300' },
    threads: { type: 'string' },
    'embedding-contexts': { type: 'string' },
    gpu: { type: 'string', default: 'auto' },
  },
});
const fileCount = Number(values.files);
// The pipeline runs as Hearth does by default (embeddingParallelism.ts) unless told otherwise;
// the raw "one context" method runs at --threads, else at one thread.
const threads = values.threads === undefined ? undefined : Number(values.threads);
const embeddingContexts = values['embedding-contexts'] === undefined ? undefined : Number(values['embedding-contexts']);
const gpu = values.gpu === 'off' ? 'off' : 'auto';
const modelPath = values.model ?? (await testModelPath('stories260K'));

// A seeded generator, so every run indexes the same words.
let seed = 42;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const WORDS = (
  'river stone lantern harvest copper meadow signal orbit winter thread garden engine ledger violet anchor ' +
  'compass forest marble ember canyon harbor pillar quartz saddle timber velvet willow zenith beacon cobalt'
).split(' ');
const sentence = () => {
  const words = Array.from({ length: 8 + Math.floor(random() * 10) }, () => WORDS[Math.floor(random() * WORDS.length)]!);
  return `${words.join(' ').replace(/^./, (c) => c.toUpperCase())}.`;
};
const paragraph = () => Array.from({ length: 3 + Math.floor(random() * 4) }, sentence).join(' ');

const docs = tempDir('hearth-bench-ingest-docs-');
let bytes = 0;
for (let i = 0; i < fileCount; i++) {
  const dir = join(docs.path, `folder-${i % 10}`);
  mkdirSync(dir, { recursive: true });
  const body =
    i % 3 === 0
      ? Array.from({ length: 6 }, paragraph).join('\n\n')
      : `# Note ${i}\n\n${paragraph()}\n\n## Details\n\n${paragraph()}\n\n- ${sentence()}\n- ${sentence()}\n\n## More\n\n${paragraph()}\n`;
  writeFileSync(join(dir, `note-${i}.${i % 3 === 0 ? 'txt' : 'md'}`), body);
  bytes += Buffer.byteLength(body);
}

const data = tempDir('hearth-bench-ingest-data-');
const core = createCore(
  { dataDir: data.path, host: 'server', version: 'bench', gpu, threads, embeddingContexts, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, library: { watch: false } },
  { logger: createConsoleLogger('error') },
);
const model = await core.models.add(modelPath);
core.models.setDefault('embedding', model.id);
// Load the model before timing, as the baseline's model is loaded before its timing.
const info = await core.embedder.info(core.models.get(model.id));

const collection = core.library.createCollection('Bench');
let started = performance.now();
// Where the pipeline's time goes: when the first and the last text were embedded (sampled).
const marks = { first: 0, last: 0 };
const sampler = setInterval(() => {
  const n = core.embedder.stats.embeddedTexts;
  if (n > 0 && marks.first === 0) marks.first = performance.now();
  if (n > 0) marks.last = performance.now();
}, 5);
const { job } = core.library.addSource(collection.id, docs.path);
const done = await core.jobs.wait(job.id);
clearInterval(sampler);
const pipelineSeconds = (performance.now() - started) / 1000;
const phases = {
  beforeFirstEmbedding: (marks.first - started) / 1000,
  embedding: (marks.last - marks.first) / 1000,
  afterLastEmbedding: (performance.now() - started) / 1000 - (marks.last - started) / 1000,
};
if (done.status !== 'completed') throw new Error(`indexing ${done.status}: ${done.error?.message}`);
// The channel calibration that follows a run embeds pseudo-queries in the background; a hybrid
// search waits for it, so it overlaps neither the rescan nor the raw baseline below.
await core.library.search({ query: 'river lantern', mode: 'hybrid' });
const documents = core.library.documents({});
const chunks = documents.reduce((n, d) => n + d.chunkCount, 0);
const embedded = core.embedder.stats.embeddedTexts;
const layout = core.embedder.layout();
const pipelineLayout = layout ? `${layout.contexts} context${layout.contexts === 1 ? '' : 's'} × ${layout.threads} thread${layout.threads === 1 ? '' : 's'}` : 'none';

started = performance.now();
const rescan = await core.jobs.wait(core.library.requestIndex('all').id);
const rescanSeconds = (performance.now() - started) / 1000;
const embeddedOnRescan = core.embedder.stats.embeddedTexts - embedded;
if (rescan.status !== 'completed') throw new Error(`rescan ${rescan.status}`);

// The texts the pipeline embedded (title and heading path + chunk), read back from the index.
const store = await ChunkStore.open(join(data.path, 'index'));
const key = indexKey(model.id, info.dimension, info.rules);
const rows = (await Promise.all(documents.map((d) => store.docChunks(key, d.id)))).flat();
const texts = rows.map((r) => [r.title, r.heading].filter(Boolean).join(' › ')).map((context, i) => (context ? `${context}\n\n${rows[i]!.text}` : rows[i]!.text));
store.close();

// Baseline: the best raw throughput node-llama-cpp reaches on the same texts, same binding and
// model: one embedding context at --threads and at every math core, and one context per core
// working at once (rawEmbedding.ts says why batching across sequences is not possible in 3.21.1).
const llama = await core.runtime.llama();
const rawModel = await llama.loadModel({ modelPath, gpuLayers: 'auto' });
const raws: RawResult[] = [];
for (const method of rawMethods(threads ?? 1, llama.cpuMathCores)) raws.push(await embedRaw(rawModel, texts, method, info.contextSize));
await rawModel.dispose();
const best = raws.reduce((a, b) => (b.textsPerSecond > a.textsPerSecond ? b : a));
const rawSeconds = best.seconds;

const result = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, ramGiB: Math.round(totalmem() / 2 ** 30), backend: (await core.runtime.backendInfo()).reason },
  model: { path: modelPath, dimension: info.dimension },
  corpus: { files: documents.length, megabytes: bytes / 1e6, chunks },
  pipeline: {
    seconds: pipelineSeconds,
    filesPerSecond: documents.length / pipelineSeconds,
    chunksPerSecond: chunks / pipelineSeconds,
    megabytesPerSecond: bytes / 1e6 / pipelineSeconds,
    textsEmbedded: embedded,
    embedding: pipelineLayout,
    phases,
  },
  rawEmbedding: { best: best.label, seconds: rawSeconds, textsPerSecond: best.textsPerSecond, methods: raws },
  ratio: {
    pipelineChunksPerSecondOverRawTextsPerSecond: chunks / pipelineSeconds / (texts.length / rawSeconds),
    // Passages with the same text share one vector (indexDocument reuses it by text hash), so
    // chunks/s can exceed what embedding allows; this one compares texts actually embedded.
    pipelineEmbeddedTextsPerSecondOverRawTextsPerSecond: embedded / pipelineSeconds / (texts.length / rawSeconds),
  },
  rescanUnchanged: { seconds: rescanSeconds, textsEmbedded: embeddedOnRescan },
};

await core.dispose();
docs.cleanup();
data.cleanup();

const fmt = (n: number, digits = 1) => n.toFixed(digits);
console.log(`bench:ingest on ${result.machine.cpu} (${result.machine.cores} cores), ${result.machine.backend}`);
console.log(`corpus: ${result.corpus.files} files, ${fmt(result.corpus.megabytes, 2)} MB, ${chunks} chunks; model ${modelPath} (${info.dimension} dims)`);
console.log(`pipeline (${pipelineLayout}): ${fmt(result.pipeline.filesPerSecond)} files/s, ${fmt(result.pipeline.chunksPerSecond)} chunks/s (${fmt(pipelineSeconds, 2)} s)`);
console.log(
  `  ${fmt(phases.beforeFirstEmbedding, 2)} s scan, parse and first commit before the first vector; ${fmt(phases.embedding, 2)} s from the first vector to the last (${fmt(embedded / Math.max(phases.embedding, 1e-9))} texts/s); ${fmt(phases.afterLastEmbedding, 2)} s after`,
);
for (const raw of raws) console.log(`raw embedding, ${raw.label}: ${fmt(raw.textsPerSecond)} texts/s (${fmt(raw.seconds, 2)} s for the same ${texts.length} texts)`);
console.log(`best raw: ${best.label}`);
console.log(`ratio pipeline/best raw: ${fmt(result.ratio.pipelineChunksPerSecondOverRawTextsPerSecond, 3)} in chunks/s`);
console.log(
  `ratio pipeline/best raw in texts embedded: ${fmt(result.ratio.pipelineEmbeddedTextsPerSecondOverRawTextsPerSecond, 3)} (${embedded} of ${chunks} chunk texts embedded: identical passages share one vector)`,
);
console.log(`rescan of the unchanged folder: ${fmt(rescanSeconds, 2)} s, ${embeddedOnRescan} texts embedded`);
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
const out = join(import.meta.dirname, 'results', `ingest-${result.date.replace(/:/g, '-')}.json`);
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`written to ${out}`);
