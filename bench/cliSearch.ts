/**
 * bench:cli-search — how long `hearth search` takes from the command line, start-up included:
 * what a user (or a script calling the CLI) waits for each query.
 *
 * Two libraries are indexed once with the built CLI from a seeded folder of Markdown files:
 * one full text only (no embedding model), one embedded with a small model (stories260K by
 * default). Then each round runs, as fresh processes, `hearth search QUERY --json` in BM25
 * mode and in the default hybrid mode (which embeds the query: node-llama-cpp, the model),
 * in a rotating order so load drift hits every case alike. Reported per case: the median and
 * the fastest wall time, and the median CPU time (user + sys of the process and the children
 * it waits for, from /proc/self/stat), which a shared machine's load disturbs much less.
 * With --baseline DIR, the same searches run with DIR/bin/hearth.mjs too (an older build),
 * over the same data, interleaved.
 *
 *   npm run build && npm run bench:cli-search -- [--runs 15] [--files 40] [--model PATH] [--baseline DIR]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { tempDir } from '../tests/support/tempDir';
import { testModelPath } from '../tests/support/testModels';

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '15' },
    files: { type: 'string', default: '40' },
    model: { type: 'string' },
    baseline: { type: 'string' },
  },
});
const runs = Number(values.runs);
const fileCount = Number(values.files);
const modelPath = values.model ?? (await testModelPath('stories260K'));
const root = resolve(import.meta.dirname, '..');
const clis: { name: string; bin: string }[] = [{ name: 'this build', bin: join(root, 'bin', 'hearth.mjs') }];
if (values.baseline) clis.push({ name: 'baseline', bin: join(resolve(values.baseline), 'bin', 'hearth.mjs') });
for (const cli of clis) {
  const built = join(cli.bin, '..', '..', 'out', 'main', 'cli.js');
  if (!existsSync(built)) throw new Error(`${built} is missing: run npm run build there first`);
}

// A seeded generator, so every run indexes the same words.
let seed = 7;
const random = () => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31);
const WORDS = (
  'river stone lantern harvest copper meadow signal orbit winter thread garden engine ledger violet anchor ' +
  'compass forest marble ember canyon harbor pillar quartz saddle timber velvet willow zenith beacon cobalt'
).split(' ');
const sentence = () => Array.from({ length: 8 + Math.floor(random() * 10) }, () => WORDS[Math.floor(random() * WORDS.length)]!).join(' ') + '.';
const paragraph = () => Array.from({ length: 3 + Math.floor(random() * 4) }, sentence).join(' ');

const docs = tempDir('hearth-bench-cli-search-docs-');
for (let i = 0; i < fileCount; i++) {
  mkdirSync(docs.path, { recursive: true });
  writeFileSync(join(docs.path, `note-${i}.md`), `# Note ${i}\n\n${paragraph()}\n\n## Details\n\n${paragraph()}\n\n${paragraph()}\n`);
}

/** CPU seconds (user + sys) of the children this process has waited for, from /proc (Linux). */
function childCpuSeconds(): number | null {
  try {
    const fields = readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    // After "pid (comm) ": state is field 3, so cutime (16) and cstime (17) are at 13 and 14.
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return null;
  }
}

function hearth(bin: string, args: string[]): { wall: number; cpu: number | null; stdout: string } {
  const cpuBefore = childCpuSeconds();
  const started = performance.now();
  const run = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, HEARTH_LOG: 'error' } });
  const wall = (performance.now() - started) / 1000;
  const cpuAfter = childCpuSeconds();
  if (run.status !== 0) throw new Error(`hearth ${args.join(' ')} failed (${run.status}): ${run.stderr}`);
  return { wall, cpu: cpuBefore === null || cpuAfter === null ? null : cpuAfter - cpuBefore, stdout: run.stdout };
}

const setupCli = clis[0]!.bin;
const fullText = tempDir('hearth-bench-cli-search-ft-');
const embedded = tempDir('hearth-bench-cli-search-vec-');
hearth(setupCli, ['index', docs.path, '--data-dir', fullText.path]);
const added = JSON.parse(hearth(setupCli, ['models', 'add', modelPath, '--json', '--data-dir', embedded.path]).stdout) as { id: string };
hearth(setupCli, ['models', 'default', added.id, '--for', 'embedding', '--data-dir', embedded.path]);
const indexed = hearth(setupCli, ['index', docs.path, '--data-dir', embedded.path]);

interface Case {
  name: string;
  cli: { name: string; bin: string };
  args: string[];
  walls: number[];
  cpus: number[];
}
const query = 'copper lantern harbor';
const cases: Case[] = clis.flatMap((cli) => [
  { name: 'BM25 (--mode bm25)', cli, args: ['search', query, '--json', '--mode', 'bm25', '--data-dir', embedded.path], walls: [], cpus: [] },
  { name: 'hybrid, full-text-only library', cli, args: ['search', query, '--json', '--data-dir', fullText.path], walls: [], cpus: [] },
  { name: 'hybrid (query embedded)', cli, args: ['search', query, '--json', '--data-dir', embedded.path], walls: [], cpus: [] },
]);

// Each case once untimed (disk cache), then the timed rounds in a rotating order.
for (const c of cases) {
  const hits = JSON.parse(hearth(c.cli.bin, c.args).stdout) as { vectorRank: number | null }[];
  if (hits.length === 0) throw new Error(`${c.name}: no hits`);
  if (c.name.startsWith('hybrid (') && !hits.some((h) => h.vectorRank !== null)) throw new Error(`${c.name}: no vector ranks, so no vectors were used`);
}
const loadBefore = loadavg();
for (let round = 0; round < runs; round++) {
  for (let k = 0; k < cases.length; k++) {
    const c = cases[(round + k) % cases.length]!;
    const { wall, cpu } = hearth(c.cli.bin, c.args);
    c.walls.push(wall);
    if (cpu !== null) c.cpus.push(cpu);
  }
}
const loadAfter = loadavg();

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const f = (x: number) => x.toFixed(2);
console.log(`${new Date().toISOString()} · ${cpus()[0]?.model ?? 'CPU'} · ${cpus().length} cores · ${(totalmem() / 2 ** 30).toFixed(0)} GiB · Node ${process.version}`);
console.log(`load average (1/5/15 min) before ${loadBefore.map(f).join(' ')}, after ${loadAfter.map(f).join(' ')}`);
console.log(`${fileCount} files; ${indexed.stdout.trim().split('\n').pop()}; query "${query}"; ${runs} rounds`);
console.log('');
console.log('| CLI | search | median wall s | fastest wall s | median CPU s (user+sys) |');
console.log('|---|---|---:|---:|---:|');
for (const c of cases) console.log(`| ${c.cli.name} | ${c.name} | ${f(median(c.walls))} | ${f(Math.min(...c.walls))} | ${c.cpus.length ? f(median(c.cpus)) : 'n/a'} |`);

docs.cleanup();
fullText.cleanup();
embedded.cleanup();
