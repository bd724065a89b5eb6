/**
 * bench:threads — decode tokens/s of raw node-llama-cpp with 1, 2, ... CPU threads, with the
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
  },
});
const modelPath = values.model ?? (await testModelPath('tinyRandom'));
const tokens = Number(values.tokens);
const runs = Number(values.runs);
const threadCounts = values.threads.split(',').map(Number);
const cpus = availableParallelism();

const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
const prompt = model.tokenize('Once upon a time, there was a little girl named Lily. She');

/** Decode tokens/s of one greedy generation of `tokens` tokens after the prompt. */
async function decodeRate(threads: number): Promise<number> {
  const context = await model.createContext({ contextSize: 512, sequences: 1, threads, batchSize: 512 });
  try {
    const sequence = context.getSequence();
    let count = 0;
    let first = 0;
    for await (const _token of sequence.evaluate(prompt, { temperature: 0 })) {
      if (count === 0) first = performance.now();
      if (++count >= tokens) break;
    }
    return (count - 1) / ((performance.now() - first) / 1000);
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

console.log(`model ${modelPath}, ${tokens} tokens, ${runs} runs, ${cpus} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
for (let run = 0; run < runs; run++) {
  for (const busy of [0, cpus]) {
    const children = busyChildren(busy);
    try {
      if (busy) await new Promise((resolve) => setTimeout(resolve, 300));
      for (const threads of threadCounts) record(`${threads}|${busy}`, await decodeRate(threads));
    } finally {
      for (const child of children) child.kill('SIGKILL');
    }
  }
}

console.log(`\n| threads | machine as it is: decode tok/s | + ${cpus} busy-loop processes: decode tok/s |`);
console.log('|---:|---:|---:|');
for (const threads of threadCounts) {
  const idle = median(results.get(`${threads}|0`)!);
  const loaded = median(results.get(`${threads}|${cpus}`)!);
  console.log(`| ${threads} | ${idle.toFixed(2)} | ${loaded.toFixed(2)} |`);
}
console.log(`\nload average after: ${loadavg().map((l) => l.toFixed(2)).join(' ')}; cpuMathCores ${llama.cpuMathCores}`);
await model.dispose();
await llama.dispose();
