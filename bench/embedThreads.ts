/**
 * bench:embed-threads — embedding throughput with 1 and 2 CPU threads (and 2 contexts of 1
 * thread), as the machine is and with a busy sibling process, in the same run: the evidence
 * for the embedding thread default (src-main/core/common/threads.ts, used by embedder.ts).
 *
 * Texts are 150 seeded words each (624 tokens with stories260K, longer than a 384-token
 * chunk). Each round runs every configuration on the
 * same texts, in a rotating order, first as the machine is, then with one `node` busy loop
 * beside it (a browser tab, a build, another app). Reported: the median texts/s of each.
 *
 *   npm run bench:embed-threads -- [--model PATH] [--texts 60] [--rounds 3] [--gpu off]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { getLlama } from 'node-llama-cpp';
import { testModelPath } from '../tests/support/testModels';
import { embedRaw, methodLabel, type RawMethod } from './rawEmbedding';

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    texts: { type: 'string', default: '60' },
    rounds: { type: 'string', default: '3' },
    gpu: { type: 'string', default: 'off' },
  },
});
const modelPath = values.model ?? (await testModelPath('stories260K'));
const textCount = Number(values.texts);
const rounds = Number(values.rounds);

let seed = 11;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const WORDS = 'river stone lantern harvest copper meadow signal orbit winter thread garden engine ledger violet anchor compass forest marble ember canyon'.split(' ');
const texts = Array.from({ length: textCount }, () => Array.from({ length: 150 }, () => WORDS[Math.floor(random() * WORDS.length)]!).join(' '));

const llama = await getLlama({ gpu: values.gpu === 'off' ? false : 'auto', build: 'never' });
const model = await llama.loadModel({ modelPath });
const contextSize = Math.min(model.trainContextSize, 1024);
const methods: RawMethod[] = [
  { contexts: 1, threads: 1 },
  { contexts: 1, threads: 2 },
  { contexts: 2, threads: 1 },
];

function busySibling(): ChildProcess {
  return spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
}

const results = new Map<string, number[]>();
const loads: number[] = [];
await embedRaw(model, texts.slice(0, 5), methods[0]!, contextSize); // warm-up
for (let round = 0; round < rounds; round++) {
  for (const condition of ['as it is', 'busy sibling']) {
    const sibling = condition === 'busy sibling' ? busySibling() : null;
    try {
      loads.push(loadavg()[0]!);
      for (let k = 0; k < methods.length; k++) {
        const method = methods[(round + k) % methods.length]!;
        const { textsPerSecond } = await embedRaw(model, texts, method, contextSize);
        const key = `${condition}|${methodLabel(method)}`;
        results.set(key, [...(results.get(key) ?? []), textsPerSecond]);
        console.error(`round ${round + 1}, ${condition}, ${methodLabel(method)}: ${textsPerSecond.toFixed(1)} texts/s`);
      }
    } finally {
      sibling?.kill('SIGKILL');
    }
  }
}
await model.dispose();
await llama.dispose();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
console.log(`${new Date().toISOString()} · ${cpus()[0]?.model ?? 'CPU'} · ${cpus().length} vCPUs (${llama.cpuMathCores} math cores) · ${modelPath}`);
console.log(`${textCount} texts of 150 words, ${rounds} rounds; 1-min load average during the runs ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)}`);
console.log('');
console.log('| condition | method | median texts/s | all rounds |');
console.log('|---|---|---:|---|');
for (const [key, xs] of results) {
  const [condition, label] = key.split('|');
  console.log(`| ${condition} | ${label} | ${median(xs).toFixed(1)} | ${xs.map((x) => x.toFixed(1)).join(', ')} |`);
}
