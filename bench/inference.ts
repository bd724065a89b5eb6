/**
 * bench:inference — Hearth's chat service against raw node-llama-cpp, same model, same
 * settings, same process, runs interleaved. Greedy decoding (temperature 0) so every side
 * generates the same tokens, and every run starts from an empty context so each evaluates
 * the whole prompt. Prints decode tokens/s and time-to-first-token, and the ratios.
 *
 * The baseline is node-llama-cpp's LlamaChat.generateResponse, the fastest chat path the
 * library offers and the one Hearth builds on, so the ratio is Hearth's own overhead
 * (SQLite writes, events, context budgeting). LlamaChatSession.prompt is shown for
 * reference: it is slower than both. "Hearth over WebSocket" is the same chat service seen
 * from a client of the local server (the browser UI's path): tokens timed where they arrive.
 *
 *   npm run bench:inference -- [--model PATH] [--runs N] [--tokens N] [--threads N] [--gpu auto|off]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { GeneralChatWrapper, LlamaChat, LlamaChatSession } from 'node-llama-cpp';
import WebSocket from 'ws';
import { startServer } from '../src-main/cli/server';
import { createConsoleLogger } from '../src-main/core/common/logger';
import { createCore } from '../src-main/core/createCore';
import { tempDir } from '../tests/support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../tests/support/testCore';
import { testModelPath } from '../tests/support/testModels';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    runs: { type: 'string', default: '30' },
    tokens: { type: 'string', default: '512' },
    threads: { type: 'string', default: '1' },
    gpu: { type: 'string', default: 'auto' },
  },
});
const runs = Number(values.runs);
const maxTokens = Number(values.tokens);
const threads = Number(values.threads);
const gpu = values.gpu === 'off' ? 'off' : 'auto';
const modelPath = values.model ?? (await testModelPath('stories260K'));
const prompt = 'Once upon a time, there was a little girl named Lily. She';
const contextSize = 2048;

interface Sample {
  ttftMs: number;
  tokens: number;
  decodeTokensPerSecond: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

// --- Hearth: the chat service the UI, server and CLI use ------------------------------
const dir = tempDir('hearth-bench-');
const core = createCore(
  { dataDir: dir.path, host: 'server', version: 'bench', gpu, threads, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, vault: { scryptN: 1 << 12 } },
  { logger: createConsoleLogger('error') },
);
// A wallet, unlocked: every Hearth reply gets a signed answer receipt (the setting's default).
await core.vault.create({ passphrase: 'bench passphrase' });
const added = await core.models.add(modelPath);
const loaded = await core.runtime.load(core.models.get(added.id), { contextSize });
core.settings.update({ maxReplyTokens: maxTokens, temperature: 0 });

// --- baseline: node-llama-cpp directly, on the same llama.cpp binding instance --------
const llama = await core.runtime.llama();
const rawModel = await llama.loadModel({ modelPath, gpuLayers: 'auto' });
const rawContext = await rawModel.createContext({ contextSize, sequences: 1, threads });
const rawSequence = rawContext.getSequence();

const rawChat = new LlamaChat({ contextSequence: rawSequence, chatWrapper: new GeneralChatWrapper(), autoDisposeSequence: false });

async function rawRun(): Promise<Sample> {
  rawSequence.clearHistory();
  let tokens = 0;
  let first = 0;
  const start = performance.now();
  let text = '';
  await rawChat.generateResponse([{ type: 'user', text: prompt }, { type: 'model', response: [] }], {
    maxTokens,
    temperature: 0,
    // A chat app needs the text as it streams, so the baseline asks for it too.
    onTextChunk: (chunk) => {
      text += chunk;
    },
    onToken: (t) => {
      if (!first) first = performance.now();
      tokens += t.length;
    },
  });
  const end = performance.now();
  if (!text) throw new Error('the baseline produced no text');
  return { ttftMs: first - start, tokens, decodeTokensPerSecond: (tokens - 1) / ((end - first) / 1000) };
}

async function sessionRun(): Promise<Sample> {
  rawSequence.clearHistory();
  const session = new LlamaChatSession({ contextSequence: rawSequence, chatWrapper: new GeneralChatWrapper(), autoDisposeSequence: false });
  let tokens = 0;
  let first = 0;
  const start = performance.now();
  await session.prompt(prompt, {
    maxTokens,
    temperature: 0,
    onTextChunk: () => undefined,
    onToken: (t) => {
      if (!first) first = performance.now();
      tokens += t.length;
    },
  });
  const end = performance.now();
  session.dispose({ disposeSequence: false });
  return { ttftMs: first - start, tokens, decodeTokensPerSecond: (tokens - 1) / ((end - first) / 1000) };
}

/** Milliseconds each measured Hearth reply spent making its signed receipt: wall time, and CPU time. */
const receiptMs: number[] = [];
const receiptCpuMs: number[] = [];

async function hearthRun(): Promise<Sample> {
  const thread = core.chat.createThread();
  let first = 0;
  let end = 0;
  const off = core.events.on('chat.stream', (e) => {
    if (e.type === 'token' && !first) first = performance.now();
    if (e.type === 'end') end = performance.now();
  });
  const pool = core.runtime.loaded!.pool;
  // Start from empty sequences, like the baseline: both sides evaluate the whole prompt.
  await pool.clearFree();
  const before = pool.usedTokens().output;
  const start = performance.now();
  await core.chat.send(thread.id, prompt);
  await core.chat.idle(thread.id);
  off();
  const tokens = pool.usedTokens().output - before;
  const reply = core.chat.getThread(thread.id).messages.at(-1);
  if (reply?.receipt !== 'signed') throw new Error(`the reply has no signed receipt (${reply?.receipt ?? 'no reply'})`);
  receiptMs.push(core.receipts.lastCost.wallMs);
  receiptCpuMs.push(core.receipts.lastCost.cpuMs);
  return { ttftMs: first - start, tokens, decodeTokensPerSecond: (tokens - 1) / ((end - first) / 1000) };
}

// --- Hearth through the local server, as the browser UI sees it ---------------------
const server = await startServer(core, { port: 0, rendererDir: dir.path });
let socket: WebSocket;
let nextId = 1;
const wsCall = (name: string, input: unknown) =>
  new Promise<unknown>((resolve) => {
    const id = nextId++;
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as { t: string; id?: number; result?: { ok: boolean; value?: unknown } };
      if (message.t === 'result' && message.id === id) {
        socket.off('message', onMessage);
        resolve(message.result?.value);
      }
    };
    socket.on('message', onMessage);
    socket.send(JSON.stringify({ t: 'call', id, name, input }));
  });

async function serverRun(): Promise<Sample> {
  // Connected only for its own runs, so the other columns do not pay for forwarding events.
  socket = new WebSocket(`ws://127.0.0.1:${server.port}/ws?token=${server.token}`);
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  const thread = (await wsCall('threads.create', {})) as { id: string };
  await core.runtime.loaded!.pool.clearFree();
  let first = 0;
  const ended = new Promise<number>((resolve) => {
    const onMessage = (data: WebSocket.RawData) => {
      const message = JSON.parse(data.toString()) as { t: string; name?: string; payload?: { type: string; threadId: string } };
      if (message.t !== 'event' || message.name !== 'chat.stream' || message.payload?.threadId !== thread.id) return;
      if (message.payload.type === 'token' && !first) first = performance.now();
      if (message.payload.type === 'end') {
        socket.off('message', onMessage);
        resolve(performance.now());
      }
    };
    socket.on('message', onMessage);
  });
  const pool = core.runtime.loaded!.pool;
  const before = pool.usedTokens().output;
  const start = performance.now();
  await wsCall('chat.send', { threadId: thread.id, content: prompt });
  const end = await ended;
  const tokens = pool.usedTokens().output - before;
  await new Promise((resolve) => socket.once('close', resolve).close());
  return { ttftMs: first - start, tokens, decodeTokensPerSecond: (tokens - 1) / ((end - first) / 1000) };
}

const raw: Sample[] = [];
const hearth: Sample[] = [];
const session: Sample[] = [];
const overServer: Sample[] = [];
for (let i = 0; i < 2; i++) {
  await rawRun();
  await hearthRun();
  await sessionRun();
  await serverRun();
}
receiptMs.length = 0;
receiptCpuMs.length = 0; // warm-up replies (the first also hashed the model file) are not counted
for (let i = 0; i < runs; i++) {
  // Alternate which side goes first so drift (thermal, caches) hits both equally.
  if (i % 2 === 0) {
    raw.push(await rawRun());
    hearth.push(await hearthRun());
  } else {
    hearth.push(await hearthRun());
    raw.push(await rawRun());
  }
  session.push(await sessionRun());
  overServer.push(await serverRun());
}

// Total tokens over total decode time: the steady rate, less swayed by single noisy runs.
const aggregate = (samples: Sample[]) =>
  samples.reduce((n, s) => n + s.tokens - 1, 0) / samples.reduce((t, s) => t + (s.tokens - 1) / s.decodeTokensPerSecond, 0);

const summary = (samples: Sample[]) => ({
  aggregateDecodeTokensPerSecond: aggregate(samples),
  medianTtftMs: median(samples.map((s) => s.ttftMs)),
  medianDecodeTokensPerSecond: median(samples.map((s) => s.decodeTokensPerSecond)),
  medianTokens: median(samples.map((s) => s.tokens)),
});
const r = summary(raw);
const h = summary(hearth);
const sess = summary(session);
const ws = summary(overServer);
const result = {
  date: new Date().toISOString(),
  machine: `${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, ${process.platform} ${process.arch}, Node ${process.version}`,
  backend: loaded.backend.reason,
  model: modelPath,
  settings: { contextSize, maxTokens, threads, temperature: 0, runs },
  raw: r,
  hearth: h,
  llamaChatSession: sess,
  hearthOverWebSocket: ws,
  // Paired: each Hearth run against the baseline run next to it, so background load that
  // slows one pair does not skew the rest; the median of the pairs is the headline.
  decodeRatio: median(hearth.map((x, i) => x.decodeTokensPerSecond / raw[i]!.decodeTokensPerSecond)),
  ttftOverheadMs: median(hearth.map((x, i) => x.ttftMs - raw[i]!.ttftMs)),
  aggregateDecodeRatio: aggregate(hearth) / aggregate(raw),
  webSocketAggregateDecodeRatio: aggregate(overServer) / aggregate(raw),
  webSocketDecodeRatio: median(overServer.map((x, i) => x.decodeTokensPerSecond / raw[i]!.decodeTokensPerSecond)),
  webSocketTtftOverheadMs: median(overServer.map((x, i) => x.ttftMs - raw[i]!.ttftMs)),
  // Each Hearth and WebSocket reply made a signed receipt; these are the Hearth column's.
  receiptMs: { median: median(receiptMs), max: Math.max(...receiptMs), medianCpu: median(receiptCpuMs), maxCpu: Math.max(...receiptCpuMs) },
  samples: { raw, hearth, overServer, llamaChatSession: session, receiptMs, receiptCpuMs },
};

console.log(`\nbench:inference — ${result.machine}`);
console.log(`backend: ${result.backend}`);
console.log(`model: ${modelPath}; ${runs} runs each, up to ${maxTokens} tokens, greedy, ${threads} thread(s)\n`);
const row = (label: string, f: (x: typeof r) => string) =>
  console.log(`${label.padEnd(25)}${f(r).padStart(16)}${f(h).padStart(20)}${f(ws).padStart(24)}${f(sess).padStart(24)}`);
console.log(
  `${''.padEnd(25)}${'raw LlamaChat'.padStart(16)}${'Hearth ChatService'.padStart(20)}${'Hearth over WebSocket'.padStart(24)}${'(ref) LlamaChatSession'.padStart(24)}`,
);
row('median TTFT (ms)', (x) => x.medianTtftMs.toFixed(2));
row('median decode (tok/s)', (x) => x.medianDecodeTokensPerSecond.toFixed(1));
row('aggregate decode (tok/s)', (x) => x.aggregateDecodeTokensPerSecond.toFixed(1));
row('median tokens generated', (x) => String(x.medianTokens));
console.log(`\ndecode ratio (Hearth / raw, median of ${runs} paired runs): ${result.decodeRatio.toFixed(3)}   (target >= 0.95)`);
console.log(`decode ratio (Hearth / raw, aggregate tokens over aggregate time): ${result.aggregateDecodeRatio.toFixed(3)}`);
console.log(`TTFT overhead (Hearth - raw, median of paired runs): ${result.ttftOverheadMs.toFixed(2)} ms   (target <= 50 ms)`);
console.log(
  `signed answer receipt per reply: median ${result.receiptMs.median.toFixed(2)} ms, max ${result.receiptMs.max.toFixed(2)} ms (CPU time: median ${result.receiptMs.medianCpu.toFixed(2)} ms, max ${result.receiptMs.maxCpu.toFixed(2)} ms)   (target <= 5 ms)`,
);
console.log(
  `over WebSocket: decode ratio ${result.webSocketDecodeRatio.toFixed(3)} (aggregate ${result.webSocketAggregateDecodeRatio.toFixed(3)}), TTFT overhead ${result.webSocketTtftOverheadMs.toFixed(2)} ms`,
);

const outDir = join(import.meta.dirname ?? '.', 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `inference-${result.date.replaceAll(':', '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);

await server.close();
await core.dispose();
dir.cleanup();
rawChat.dispose({ disposeSequence: false });
await rawContext.dispose();
await rawModel.dispose();
