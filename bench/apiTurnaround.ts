/**
 * bench:api-turnaround — Hearth's own work per streamed token, measured where it costs: between
 * one native decode's end and the next one's start. node-llama-cpp decodes a reply's tokens one
 * after another, and everything done on the main thread once a token is out (its own
 * detokenizing and stop checks, then the caller's callback: Hearth's reply output, the SSE
 * event, the socket write) delays the next decode. Raw node-llama-cpp (the same model, context
 * options and chat wrapper; an empty callback) and Hearth's `POST /v1/chat/completions` with
 * `stream: true` (its HTTP client in a worker thread) run interleaved; per token it reports the
 * median JS time between decodes and the median native decode, and Hearth's difference.
 * Medians of thousands of tokens hold on a shared machine where decode tokens/s swing by 2x.
 *
 * It times the decodes by wrapping node-llama-cpp's internal `LlamaContext._ctx` (the addon
 * context, 3.x) in a Proxy: a diagnostic, not an API; both sides carry the same wrapper.
 *
 *   npm run bench:api-turnaround -- [--model PATH] [--tokens N] [--runs N]
 */
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { LlamaChat, type LlamaContext } from 'node-llama-cpp';
import { startServer } from '../src-main/cli/server';
import { createConsoleLogger } from '../src-main/core/common/logger';
import { createCore } from '../src-main/core/createCore';
import { tempDir } from '../tests/support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../tests/support/testCore';
import { testModelPath } from '../tests/support/testModels';
import { WorkerClient } from './apiClient';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    tokens: { type: 'string', default: '128' },
    runs: { type: 'string', default: '9' },
  },
});
const modelPath = values.model ?? (await testModelPath('stories260K'));
const maxTokens = Number(values.tokens);
const runs = Number(values.runs);
const CONTEXT = 2048;

const dir = tempDir('hearth-bench-turnaround-');
const core = createCore(
  { dataDir: dir.path, host: 'server', version: 'bench', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH },
  { logger: createConsoleLogger('error') },
);
const added = await core.models.add(modelPath);
await core.runtime.load(core.models.get(added.id), { contextSize: CONTEXT });
const server = await startServer(core, { port: 0, rendererDir: '/nonexistent-ui' });
const target = {
  baseUrl: `http://127.0.0.1:${server.port}`,
  headers: { authorization: `Bearer ${core.apiTokens.create({ name: 'bench', scopes: ['chat'] }).secret}` },
  model: added.id,
};
const llama = await core.runtime.llama();
const rawModel = await llama.loadModel({ modelPath, gpuLayers: 0 });
const rawContext = await rawModel.createContext({ contextSize: CONTEXT, sequences: 4, threads: 1, batchSize: 512, flashAttention: false });
const sequence = rawContext.getSequence();
const chat = new LlamaChat({ contextSequence: sequence, chatWrapper: core.runtime.loaded!.chatWrapper, autoDisposeSequence: false });

/** When each native decode of a context started and ended. */
interface DecodeTimes {
  starts: number[];
  ends: number[];
}

function timeDecodes(context: LlamaContext): DecodeTimes {
  const times: DecodeTimes = { starts: [], ends: [] };
  const holder = context as unknown as { _ctx: { decodeBatch(): Promise<void> } };
  const addon = holder._ctx;
  const decodeBatch = async () => {
    times.starts.push(performance.now());
    try {
      await addon.decodeBatch();
    } finally {
      times.ends.push(performance.now());
    }
  };
  holder._ctx = new Proxy(addon, {
    get(object, property) {
      if (property === 'decodeBatch') return decodeBatch;
      const value = Reflect.get(object, property) as unknown;
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(object) : value;
    },
  });
  return times;
}

/** Per generated token: the JS time since the previous decode ended, and the decode itself (the prompt's decode left out). */
function take(times: DecodeTimes): { between: number[]; decode: number[] } {
  const between: number[] = [];
  const decode: number[] = [];
  for (let i = 2; i < times.starts.length; i++) {
    between.push(times.starts[i]! - times.ends[i - 1]!);
    decode.push(times.ends[i]! - times.starts[i]!);
  }
  times.starts.length = 0;
  times.ends.length = 0;
  return { between, decode };
}

const rawTimes = timeDecodes(rawContext);
const hearthTimes = timeDecodes(core.runtime.loaded!.context);
const client = new WorkerClient();
const question = (i: number) => `Story ${i}: once upon a time, there was a little girl named Lily. She`;
const sides = { raw: { between: [] as number[], decode: [] as number[] }, hearth: { between: [] as number[], decode: [] as number[] } };

console.log(`bench:api-turnaround — ${modelPath}, ${runs} runs × ${maxTokens} tokens, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (let run = -1; run < runs; run++) {
  await sequence.clearHistory();
  await chat.generateResponse([{ type: 'user', text: question(run * 2) }, { type: 'model', response: [] }], {
    maxTokens,
    temperature: 0,
    repeatPenalty: false,
    onTextChunk: () => {},
    onToken: () => {},
  });
  const raw = take(rawTimes);
  await core.runtime.loaded!.pool.clearFree();
  await client.streamChat(target, [{ role: 'user', content: question(run * 2 + 1) }], maxTokens);
  const hearth = take(hearthTimes);
  if (run < 0) continue; // warm-up
  sides.raw.between.push(...raw.between);
  sides.raw.decode.push(...raw.decode);
  sides.hearth.between.push(...hearth.between);
  sides.hearth.decode.push(...hearth.decode);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length === 0 ? NaN : s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const us = (ms: number) => `${(ms * 1000).toFixed(0)}`;
console.log('\n| per token, µs (median) | JS between decodes | native decode | tokens |\n|---|---:|---:|---:|');
for (const [name, side] of Object.entries(sides)) console.log(`| ${name} | ${us(median(side.between))} | ${us(median(side.decode))} | ${side.between.length} |`);
console.log(
  `\nHearth − raw per token: JS ${us(median(sides.hearth.between) - median(sides.raw.between))} µs, decode ${us(median(sides.hearth.decode) - median(sides.raw.decode))} µs; load average at the end ${loadavg().map((l) => l.toFixed(2)).join(' ')}`,
);

await client.close();
await server.close();
await rawContext.dispose();
await rawModel.dispose();
await core.dispose();
dir.cleanup();
