/**
 * bench:api — Hearth's local API (`POST /v1/chat/completions`, streaming) against raw
 * node-llama-cpp on the same model, same threads, same process, runs interleaved; and, when a
 * llama-server binary is given, against llama.cpp's own server on the same model and threads.
 * Greedy decoding. Measures:
 *
 * 1. one stream: time to first token, decode tokens/s from the first to the last content, and
 *    the end (last content to the reply's close) apart (Hearth / raw ratios);
 * 2. aggregate tokens/s with 1, 2 and 4 concurrent streams;
 * 3. returning to an earlier conversation: after four conversations of `--history` tokens each,
 *    the first one asks again; time to first token warm (Hearth keeps the last 4 conversations
 *    evaluated) and cold (every sequence cleared first: what a switch cost before).
 *
 *   npm run bench:api -- [--model PATH] [--threads N] [--tokens N] [--runs N] [--history N]
 *                        [--llama-server PATH] [--reps N]
 *                        [--sections single,concurrent,returning] [--client worker|inline]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import { LlamaChat, type ChatHistoryItem, type ChatWrapper } from 'node-llama-cpp';
import { startServer } from '../src-main/cli/server';
import { createConsoleLogger } from '../src-main/core/common/logger';
import { createCore } from '../src-main/core/createCore';
import type { LeaseReport } from '../src-main/core/inference/sequencePool';
import { tempDir } from '../tests/support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../tests/support/testCore';
import { testModelPath } from '../tests/support/testModels';
import { type ChatMessage, type LlamaServer, startLlamaServer, type StreamSample, type StreamTarget, streamChat as streamChatInline, WorkerClient } from './apiClient';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    threads: { type: 'string', default: '1' },
    tokens: { type: 'string', default: '64' },
    runs: { type: 'string', default: '5' },
    history: { type: 'string', default: '600' },
    context: { type: 'string', default: '2048' },
    'llama-server': { type: 'string' },
    /** Repeats of each concurrency level (the median is reported). */
    reps: { type: 'string', default: '3' },
    /** Which measurements to run (a long model makes the whole bench slow). */
    sections: { type: 'string', default: 'single,concurrent,returning' },
    /** Where the HTTP client runs: a worker thread (like another app: its parsing is off the serving thread) or inline on the main thread. */
    client: { type: 'string', default: 'worker' },
  },
});
if (values.client !== 'worker' && values.client !== 'inline') throw new Error(`--client is worker or inline, not ${values.client}`);
const workerClient = values.client === 'worker' ? new WorkerClient() : null;
const streamChat = (target: StreamTarget, messages: ChatMessage[], maxTokens: number): Promise<StreamSample> =>
  workerClient ? workerClient.streamChat(target, messages, maxTokens) : streamChatInline(target, messages, maxTokens);
const threads = Number(values.threads);
const maxTokens = Number(values.tokens);
const runs = Number(values.runs);
const historyTokens = Number(values.history);
const contextSize = Number(values.context);
const reps = Number(values.reps);
const sections = new Set(values.sections.split(','));
const modelPath = values.model ?? (await testModelPath('stories260K'));
const SLOTS = 4;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const load = () => loadavg().map((l) => l.toFixed(2)).join(' ');

// --- Hearth: the real core behind the real local server, an API token with the chat scope ---
const dir = tempDir('hearth-bench-api-');
const core = createCore(
  { dataDir: dir.path, host: 'server', version: 'bench', gpu: 'off', threads, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH },
  { logger: createConsoleLogger('error') },
);
const added = await core.models.add(modelPath);
const loaded = await core.runtime.load(core.models.get(added.id), { contextSize });
const server = await startServer(core, { port: 0, rendererDir: '/nonexistent-ui' });
const hearth: StreamTarget = {
  baseUrl: `http://127.0.0.1:${server.port}`,
  headers: { authorization: `Bearer ${core.apiTokens.create({ name: 'bench', scopes: ['chat'] }).secret}` },
  model: added.id,
};

// --- raw node-llama-cpp on the same Llama instance: the same chat wrapper, its own context ---
const llama = await core.runtime.llama();
const rawModel = await llama.loadModel({ modelPath, gpuLayers: 0 });
const rawContext = await rawModel.createContext({ contextSize, sequences: SLOTS, threads, batchSize: 512, flashAttention: false });
const chatWrapper: ChatWrapper = core.runtime.loaded!.chatWrapper;
const rawChats = Array.from({ length: SLOTS }, () => {
  const sequence = rawContext.getSequence();
  return { sequence, chat: new LlamaChat({ contextSequence: sequence, chatWrapper, autoDisposeSequence: false }) };
});

function historyOf(messages: ChatMessage[]): ChatHistoryItem[] {
  const items: ChatHistoryItem[] = messages.map((m) =>
    m.role === 'system' ? { type: 'system', text: m.content } : m.role === 'user' ? { type: 'user', text: m.content } : { type: 'model', response: [m.content] },
  );
  return [...items, { type: 'model', response: [] }];
}

async function rawStream(slot: number, messages: ChatMessage[], tokens = maxTokens): Promise<StreamSample> {
  const { chat } = rawChats[slot]!;
  const start = performance.now();
  let first = 0;
  let last = 0;
  let count = 0;
  let text = '';
  await chat.generateResponse(historyOf(messages), {
    maxTokens: tokens,
    temperature: 0,
    repeatPenalty: false,
    onTextChunk: (chunk) => {
      last = performance.now();
      if (!first) first = last;
      text += chunk;
    },
    onToken: (t) => {
      count += t.length;
    },
  });
  const done = performance.now();
  // The sequence holds the prompt and the reply (its last token not yet evaluated).
  const promptTokens = rawChats[slot]!.sequence.nextTokenIndex - (count - 1);
  return {
    ttftMs: first - start,
    tokens: count,
    decodeTokensPerSecond: count > 1 && last > first ? (count - 1) / ((last - first) / 1000) : 0,
    endMs: last ? done - last : 0,
    totalMs: done - start,
    text,
    evaluatedPromptTokens: promptTokens,
  };
}

const clearRaw = () => Promise.all(rawChats.map(({ sequence }) => sequence.clearHistory()));
const clearHearth = () => core.runtime.loaded!.pool.clearFree();

let llamaServer: LlamaServer | null = null;
if (values['llama-server']) {
  llamaServer = await startLlamaServer(values['llama-server'], { model: modelPath, threads, contextPerSlot: contextSize, slots: SLOTS });
}

/** Distinct prompts, so no side reuses another run's cache. */
const question = (i: number) => [{ role: 'user', content: `Story ${i}: once upon a time, there was a little girl named Lily. She` } as ChatMessage];

console.log(`bench:api — ${modelPath}`);
console.log(`${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, threads ${threads}, context ${contextSize}/sequence, ${loaded.warm.sequences} sequences, client ${values.client}, load average ${load()}`);

// 1. One stream, interleaved.
const single = { raw: [] as StreamSample[], hearth: [] as StreamSample[], server: [] as StreamSample[] };
await rawStream(0, question(-1));
await streamChat(hearth, question(-2), maxTokens);
for (let run = 0; run < (sections.has('single') ? runs : 0); run++) {
  await clearRaw();
  single.raw.push(await rawStream(0, question(run * 3)));
  await clearHearth();
  const sample = await streamChat(hearth, question(run * 3 + 1), maxTokens);
  single.hearth.push({ ...sample, evaluatedPromptTokens: core.runtime.loaded!.pool.recent().at(-1)?.evaluatedTokens ?? null });
  if (llamaServer) single.server.push(await streamChat(llamaServer.target, question(run * 3 + 2), maxTokens));
}
const row = (name: string, xs: StreamSample[]) =>
  xs.length
    ? `| ${name} | ${fmt(median(xs.map((x) => x.ttftMs)))} | ${fmt(median(xs.map((x) => x.decodeTokensPerSecond)))} | ${fmt(median(xs.map((x) => x.endMs)))} | ${median(xs.map((x) => x.tokens))} | ${median(xs.map((x) => x.evaluatedPromptTokens ?? NaN))} |`
    : null;
if (sections.has('single')) {
  console.log('\n### One stream (median of', runs, 'runs)\n');
  console.log('| | TTFT ms | decode tok/s | end ms | tokens | prompt tokens evaluated |\n|---|---:|---:|---:|---:|---:|');
  for (const line of [row('raw node-llama-cpp', single.raw), row('Hearth /v1/chat/completions', single.hearth), row('llama-server', single.server)]) if (line) console.log(line);
}
const rawTps = median(single.raw.map((x) => x.decodeTokensPerSecond));
const hearthTps = median(single.hearth.map((x) => x.decodeTokensPerSecond));
// Paired: each Hearth run against the raw run beside it, so a burst of load skews one pair.
const pairedRatio = median(single.hearth.map((h, i) => h.decodeTokensPerSecond / single.raw[i]!.decodeTokensPerSecond));
const pairedTtftOverhead = median(single.hearth.map((h, i) => h.ttftMs - single.raw[i]!.ttftMs));
if (sections.has('single')) console.log(
  `\nHearth / raw decode ratio ${fmt(pairedRatio, 3)} (median of ${runs} pairs; of medians ${fmt(hearthTps / rawTps, 3)}); TTFT overhead ${fmt(pairedTtftOverhead)} ms (median of pairs)`,
);

// 2. Concurrent streams: aggregate tokens/s.
interface Aggregate {
  /** Every stream's tokens over the wall time from the requests to the last token: prompts included. */
  total: number;
  /** The streams' decode tokens/s (after each one's first token) added up: decoding side by side. */
  decode: number;
}
async function aggregate(n: number, one: (i: number) => Promise<StreamSample>): Promise<Aggregate> {
  const start = performance.now();
  const samples = await Promise.all(Array.from({ length: n }, (_, i) => one(i)));
  return {
    total: samples.reduce((sum, s) => sum + s.tokens, 0) / ((performance.now() - start) / 1000),
    decode: samples.reduce((sum, s) => sum + s.decodeTokensPerSecond, 0),
  };
}
const both = (xs: Aggregate[]) => `${fmt(median(xs.map((x) => x.total)))} / ${fmt(median(xs.map((x) => x.decode)))}`;
const concurrent: { streams: number; raw: Aggregate[]; hearth: Aggregate[]; server: Aggregate[] }[] = [];
if (sections.has('concurrent')) {
  console.log('\n### Concurrent streams: aggregate tokens/s, prompt included / sum of the streams\' decode rates\n');
  console.log(`(median of ${reps} repeats)\n`);
  console.log('| streams | raw node-llama-cpp | Hearth API | llama-server |\n|---:|---:|---:|---:|');
}
for (const n of sections.has('concurrent') ? [1, 2, 4] : []) {
  const level = { streams: n, raw: [] as Aggregate[], hearth: [] as Aggregate[], server: [] as Aggregate[] };
  for (let rep = 0; rep < reps; rep++) {
    const id = (side: number, i: number) => side * 100_000 + rep * 100 + n * 10 + i;
    await clearRaw();
    level.raw.push(await aggregate(n, (i) => rawStream(i, question(id(1, i)))));
    await clearHearth();
    level.hearth.push(await aggregate(n, (i) => streamChat(hearth, question(id(2, i)), maxTokens)));
    if (llamaServer) level.server.push(await aggregate(n, (i) => streamChat(llamaServer!.target, question(id(3, i)), maxTokens)));
  }
  concurrent.push(level);
  console.log(`| ${n} | ${both(level.raw)} | ${both(level.hearth)} | ${llamaServer ? both(level.server) : '–'} |`);
}

// 3. Returning to an earlier conversation.
const filler = 'Lily and Tom went to the park with a red ball. They played near the big tree until the sun went down, and then they walked home. ';
function conversation(i: number): ChatMessage[] {
  const words = Math.max(1, Math.round(historyTokens / 30));
  return [{ role: 'user', content: `Conversation ${i}. ${filler.repeat(words)}What happened next?` }];
}
async function returning(target: StreamTarget, clear: (() => Promise<unknown>) | null): Promise<{ first: StreamSample; back: StreamSample }> {
  const conversations = [0, 1, 2, 3].map((i) => conversation(i + Math.floor(Math.random() * 1e6)));
  const firsts: StreamSample[] = [];
  for (const messages of conversations) firsts.push(await streamChat(target, messages, 16));
  const back: ChatMessage[] = [...conversations[0]!, { role: 'assistant', content: firsts[0]!.text }, { role: 'user', content: 'And then?' }];
  if (clear) await clear();
  return { first: firsts[0]!, back: await streamChat(target, back, 16) };
}
let warm: { first: StreamSample; back: StreamSample } | null = null;
let cold: { first: StreamSample; back: StreamSample } | null = null;
let warmLease: LeaseReport | undefined;
let coldLease: LeaseReport | undefined;
if (sections.has('returning')) {
  console.log(`\n### Returning to the first of 4 conversations (~${historyTokens} tokens each), TTFT ms\n`);
  console.log('| | first turn | return (warm) | return after clearing every sequence (cold) | warm / cold |\n|---|---:|---:|---:|---:|');
  warm = await returning(hearth, null);
  warmLease = core.runtime.loaded!.pool.recent().at(-1);
  cold = await returning(hearth, clearHearth);
  coldLease = core.runtime.loaded!.pool.recent().at(-1);
  console.log(`| Hearth API | ${fmt(warm.first.ttftMs)} | ${fmt(warm.back.ttftMs)} | ${fmt(cold.back.ttftMs)} | ${fmt(warm.back.ttftMs / cold.back.ttftMs, 3)} |`);
  if (warmLease && coldLease) {
    console.log(
      `(Hearth's leases: warm return ${warmLease.cachedTokens} prompt tokens cached, ${warmLease.evaluatedTokens} evaluated; cold ${coldLease.cachedTokens} cached, ${coldLease.evaluatedTokens} evaluated)`,
    );
  }
}
let serverWarm: { first: StreamSample; back: StreamSample } | null = null;
if (llamaServer && sections.has('returning')) {
  serverWarm = await returning(llamaServer.target, null);
  console.log(`| llama-server (-np ${SLOTS}) | ${fmt(serverWarm.first.ttftMs)} | ${fmt(serverWarm.back.ttftMs)} (${serverWarm.back.evaluatedPromptTokens ?? '?'} prompt tokens evaluated) | | |`);
}
console.log(`\nload average at the end: ${load()}`);

const date = new Date().toISOString();
const outDir = join(import.meta.dirname ?? '.', 'results');
mkdirSync(outDir, { recursive: true });
const summary = (xs: StreamSample[]) => xs.map(({ text: _text, ...rest }) => rest);
writeFileSync(
  join(outDir, `api-${basename(modelPath, '.gguf')}-${date.replaceAll(':', '-')}.json`),
  `${JSON.stringify(
    {
      date,
      model: modelPath,
      threads,
      contextSize,
      maxTokens,
      runs,
      historyTokens,
      single: { raw: summary(single.raw), hearth: summary(single.hearth), server: summary(single.server), pairedRatio, pairedTtftOverhead },
      concurrent,
      returning: {
        hearthWarmTtftMs: warm?.back.ttftMs ?? null,
        hearthColdTtftMs: cold?.back.ttftMs ?? null,
        warmLease,
        coldLease,
        serverWarmTtftMs: serverWarm?.back.ttftMs ?? null,
        serverWarmEvaluated: serverWarm?.back.evaluatedPromptTokens ?? null,
      },
      loadAverageEnd: loadavg(),
    },
    null,
    2,
  )}\n`,
);

await workerClient?.close();
await llamaServer?.stop();
await server.close();
await rawContext.dispose();
await rawModel.dispose();
await core.dispose();
dir.cleanup();
