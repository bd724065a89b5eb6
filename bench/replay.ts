/**
 * bench:replay — how long verifying a reply by replay takes, against generating that reply.
 *
 * One process records a reply the way the chat generates it (LlamaChat on a shared context,
 * seeded sampling, `--tokens` tokens long), then replays it with Hearth's ReplayEngine:
 *
 * - loading the model: the model loaded from its file, a fresh context, the replay and the
 *   comparison: what verifying a reply costs once the CPU backend runs;
 * - model already loaded: what verifying a second reply of the same model costs;
 * - backend start, shown apart: a new CPU Llama instance. node-llama-cpp first tests its
 *   prebuilt binary in a child process (on Linux), once per process.
 *
 * The baseline is the generation of the same reply on the chat path, in the same run. The
 * target (issue: "verify-with-replay of a 256-token reply on stories260K runs in under a
 * second") is on the median of "loading the model".
 *
 *   npm run bench:replay -- [--model PATH] [--runs N] [--tokens N] [--threads N]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createConsoleLogger } from '../src-main/core/common/logger';
import type { GenerationSampling } from '../src-main/core/inference/generationSampling';
import { ReplayEngine, type ReplayRequest } from '../src-main/core/inference/replayEngine';
import { ChatPathRecorder, type RecordedReply } from '../tests/support/recordedReplies';
import { testModelPath } from '../tests/support/testModels';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    runs: { type: 'string', default: '10' },
    tokens: { type: 'string', default: '256' },
    threads: { type: 'string', default: '1' },
  },
});
const runs = Number(values.runs);
const tokens = Number(values.tokens);
const threads = Number(values.threads);
const modelPath = values.model ?? (await testModelPath('stories260K'));
const contextSize = 2048;
const logger = createConsoleLogger('error');

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

// --- record a reply of the wanted length, timing its generation (the baseline) ---------
const recorder = await ChatPathRecorder.open(modelPath, { contextSize, threads });
const history = [
  { type: 'system', text: 'You tell long stories.' } as const,
  { type: 'user', text: 'Tell me a long story about a girl named Lily and her dog.' } as const,
];
let reply: RecordedReply | null = null;
let sampling: GenerationSampling | null = null;
const generateMs: number[] = [];
for (let seed = 1; seed <= 200 && !reply; seed++) {
  const candidate: GenerationSampling = {
    temperature: 0.8,
    topK: 40,
    topP: 0.95,
    minP: 0,
    seed,
    maxTokens: tokens,
    repeatPenalty: null,
  };
  const recorded = await recorder.reply(history, candidate);
  if (recorded.outputTokens.length === tokens) {
    reply = recorded;
    sampling = candidate;
  }
}
if (!reply || !sampling) throw new Error(`no seed up to 200 gave a ${tokens}-token reply`);
for (let i = 0; i < runs; i++) {
  const start = performance.now();
  const again = await recorder.reply(history, sampling);
  generateMs.push(performance.now() - start);
  if (again.outputTokens.length !== tokens) throw new Error('the chat path did not repeat its own reply');
}
await recorder.close();

const request: ReplayRequest = {
  modelPath,
  inputTokens: reply.inputTokens,
  recorded: reply.output,
  contextSize,
  sampling,
  recordedBuild: null,
};

// --- backend start: a new CPU Llama instance (node-llama-cpp first tests its prebuilt ----
// binary in a child process on Linux): paid once per process, by the first replay.
const startMs: number[] = [];
for (let i = 0; i < Math.min(runs, 3); i++) {
  const start = performance.now();
  const fresh = new ReplayEngine({ logger, threads });
  await fresh.build();
  startMs.push(performance.now() - start);
  await fresh.dispose();
}

// --- replay with the model loaded from its file each time, and with it kept loaded -------
const engine = new ReplayEngine({ logger, threads });
const build = await engine.build();
const coldMs: number[] = [];
const warmMs: number[] = [];
for (let i = 0; i < runs; i++) {
  await engine.unloadModel();
  for (const samples of [coldMs, warmMs]) {
    const start = performance.now();
    const report = await engine.replay(request);
    samples.push(performance.now() - start);
    if (report.outcome !== 'identical') throw new Error(`replay ${i}: ${report.message}`);
  }
}
await engine.dispose();

const result = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model, cores: cpus().length, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  build,
  model: modelPath,
  threads,
  inputTokens: reply.inputTokens.length,
  outputTokens: tokens,
  runs,
  medianMs: { generate: median(generateMs), backendStart: median(startMs), replayLoadingModel: median(coldMs), replayModelLoaded: median(warmMs) },
  samplesMs: { generate: generateMs, backendStart: startMs, replayLoadingModel: coldMs, replayModelLoaded: warmMs },
};

const row = (label: string, xs: number[]) => console.log(`${label.padEnd(34)} ${median(xs).toFixed(1).padStart(9)} ms   (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`);
console.log(`\n${result.machine.cpu}, ${result.machine.cores} cores; ${build.backend}, ${build.llamaCpp}, node-llama-cpp ${build.nodeLlamaCpp}`);
console.log(`${modelPath}: ${result.inputTokens} input tokens, ${tokens} output tokens, ${threads} thread(s), ${runs} runs\n`);
row('generate on the chat path (baseline)', generateMs);
row('replay, loading the model', coldMs);
row('replay, model already loaded', warmMs);
row('(once per process) backend start', startMs);
console.log(`\nreplay loading the model / generation: ${(median(coldMs) / median(generateMs)).toFixed(2)}   (target: replay loading the model < 1000 ms)`);

const outDir = join(import.meta.dirname ?? '.', 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, `replay-${result.date.replaceAll(':', '-')}.json`), `${JSON.stringify(result, null, 2)}\n`);
