/**
 * bench:threads — prompt and decode tokens/s of raw node-llama-cpp with 1, 2, ... CPU threads, with the
 * machine as it is and with a busy-loop child process per CPU added (other programs busy),
 * runs interleaved. llama.cpp's threads spin at a barrier after each product, so with more
 * threads than free cores each token waits for a descheduled thread: this measures the cliff
 * Hearth's default thread count avoids (see defaultThreads in src-main/core/common/threads.ts).
 *
 *   npm run bench:threads -- [--model PATH] [--tokens N] [--runs N] [--threads 1,2]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { getLlama, LlamaLogLevel } from 'node-llama-cpp';
import { testModelPath } from '../tests/support/testModels';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    tokens: { type: 'string', default: '24' },
    runs: { type: 'string', default: '3' },
    threads: { type: 'string', default: '1,2' },
    /** Prompt length in tokens for the prompt (prefill) speed. */
    prompt: { type: 'string', default: '64' },
  },
});
const modelPath = values.model ?? (await testModelPath('tinyRandom'));
const tokens = Number(values.tokens);
const runs = Number(values.runs);
const threadCounts = values.threads.split(',').map(Number);
const cpus = availableParallelism();

const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
const story = 'Once upon a time, there was a little girl named Lily. She liked to play in the park with her red ball. ';
const prompt = model.tokenize(story.repeat(40)).slice(0, Number(values.prompt));

/** Prompt tokens/s (evaluating the prompt, to the first token) and decode tokens/s after it, greedy. */
async function rates(threads: number): Promise<{ prompt: number; decode: number }> {
  const context = await model.createContext({ contextSize: 512, sequences: 1, threads, batchSize: 512 });
  try {
    const sequence = context.getSequence();
    let count = 0;
    let first = 0;
    const start = performance.now();
    for await (const _token of sequence.evaluate(prompt, { temperature: 0 })) {
      if (count === 0) first = performance.now();
      if (++count >= tokens) break;
    }
    return { prompt: prompt.length / ((first - start) / 1000), decode: (count - 1) / ((performance.now() - first) / 1000) };
  } finally {
    await context.dispose();
  }
}

function busyChildren(n: number): ChildProcess[] {
  return Array.from({ length: n }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const results = new Map<string, number[]>();
const record = (key: string, value: number) => results.set(key, [...(results.get(key) ?? []), value]);

console.log(`model ${modelPath}, ${prompt.length} prompt tokens, ${tokens} tokens, ${runs} runs, ${cpus} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (let run = 0; run < runs; run++) {
  for (const busy of [0, cpus]) {
    const children = busyChildren(busy);
    try {
      if (busy) await new Promise((resolve) => setTimeout(resolve, 300));
      for (const threads of threadCounts) {
        const rate = await rates(threads);
        record(`decode|${threads}|${busy}`, rate.decode);
        record(`prompt|${threads}|${busy}`, rate.prompt);
      }
    } finally {
      for (const child of children) child.kill('SIGKILL');
    }
  }
}

console.log(`\n| threads | as it is: prompt tok/s | as it is: decode tok/s | + ${cpus} busy loops: prompt tok/s | + ${cpus} busy loops: decode tok/s |`);
console.log('|---:|---:|---:|---:|---:|');
for (const threads of threadCounts) {
  const cell = (kind: string, busy: number) => median(results.get(`${kind}|${threads}|${busy}`)!).toFixed(2);
  console.log(`| ${threads} | ${cell('prompt', 0)} | ${cell('decode', 0)} | ${cell('prompt', cpus)} | ${cell('decode', cpus)} |`);
}
console.log(`\nload average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; cpuMathCores ${llama.cpuMathCores}`);
await model.dispose();
await llama.dispose();
