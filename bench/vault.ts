/**
 * bench:vault — Hearth's vault against restic and BorgBackup on the same data, in the same run.
 *
 * Data: a data directory like a heavy user's (tests/support/vaultData: chat messages with their
 * full-text index, a copied model) plus files of random bytes standing in for model weights
 * (--models, MiB each; default the issue's 512 and 50). Every tool runs as real child processes
 * (the built `hearth` CLI, `restic`, `borg`), measured with GNU time:
 *   first backup: Hearth `vault snapshot --models` + `vault publish` to a folder; restic
 *     `backup`; borg `create --compression lz4` (each into its own repository folder)
 *   second backup after a change of about 1 % (rows added to the database, a few regions of
 *     every weights file rewritten)
 *   restore of the latest backup into an empty folder
 * Reported per step: CPU seconds (user + sys), wall seconds, max RSS, bytes the backup added
 * to its repository, and Hearth ÷ the best of restic and borg. restic and borg are skipped
 * (and said so) when not installed: `apt-get install restic borgbackup`.
 *
 * --runs N repeats the whole sequence N times on fresh data and repositories (the tools' order
 * rotating, so none always goes first) and reports each cell's median; the ratios are the
 * medians' ratios, and each run's own ratios are printed too.
 *
 *   npm run build && npm run bench:vault -- [--models 512,50] [--threads 40] [--change 0.01] [--runs 3]
 */
import BetterSqlite3 from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, createReadStream, mkdirSync, openSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { createTestCore } from '../tests/support/testCore';
import { tempDir } from '../tests/support/tempDir';
import { readTreeFiles, seedUserData } from '../tests/support/vaultData';
import { borgTool, combine, hearthTool, installed, resticTool, treeBytes, type BackupTool, type Measured, type Step } from './vaultTools';

const { values } = parseArgs({
  options: { models: { type: 'string', default: '512,50' }, threads: { type: 'string', default: '40' }, change: { type: 'string', default: '0.01' }, runs: { type: 'string', default: '1' } },
});
const modelMib = values.models.split(',').filter(Boolean).map(Number);
const threads = Number(values.threads);
const changeFraction = Number(values.change);
const runs = Number(values.runs);
if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs takes a whole number of runs, at least 1');
const hearthBin = join(import.meta.dirname, '..', 'bin', 'hearth.mjs');

type Row = Omit<Measured, 'stdout'> & { addedMegabytes?: number; parts?: Omit<Measured, 'stdout'>[] };
type Results = Record<string, Partial<Record<Step, Row>>>;

/** One whole sequence on fresh data and fresh repositories; `rotate` shifts the tools' order. */
async function runOnce(rotate: number): Promise<{ results: Results; toolNames: string[]; files: number; bytes: number }> {
  const scratch = tempDir('hearth-bench-vault-');
  const test = createTestCore();
  const { core, dataDir } = test;
  await seedUserData(core, { threads });
  mkdirSync(join(dataDir, 'models'), { recursive: true });
  const weights = modelMib.map((mib, i) => {
    const path = join(dataDir, 'models', `bench-weights-${i}.bin`);
    const fd = openSync(path, 'w');
    const piece = 16 * 1024 * 1024;
    for (let written = 0; written < mib * 1024 * 1024; written += piece) writeSync(fd, randomBytes(Math.min(piece, mib * 1024 * 1024 - written)));
    closeSync(fd);
    return path;
  });
  const { phrase } = await core.vault.create({ passphrase: 'bench passphrase' });
  const phraseFile = join(scratch.path, 'phrase.txt');
  writeFileSync(phraseFile, `${phrase}\n`, { mode: 0o600 });
  const usb = join(scratch.path, 'hearth-usb');
  mkdirSync(usb);
  const target = await core.vault.addTarget({ kind: 'folder', path: usb });
  await core.dispose();

  const dataFiles = readTreeFiles(dataDir).filter((f) => !relative(dataDir, f).startsWith('vault'));
  const dataBytes = dataFiles.reduce((sum, f) => sum + statSync(f).size, 0);
  const tools: BackupTool[] = [hearthTool({ hearth: hearthBin, dataDir, usb, targetId: target.id, phraseFile })];
  for (const [name, make] of [['restic', resticTool], ['borg', borgTool]] as const) {
    if (installed(name)) tools.push(make({ dataDir, repo: join(scratch.path, `${name}-repo`) }));
  }
  const order = tools.map((_, i) => tools[(i + rotate) % tools.length]!);
  const results: Results = {};
  for (const tool of order) {
    await tool.init();
    results[tool.name] = {};
  }
  const backup = async (step: 'firstBackup' | 'secondBackup') => {
    for (const tool of order) {
      const before = treeBytes(tool.repo);
      const parts = await tool.backup(step);
      results[tool.name]![step] = { ...combine(parts), addedMegabytes: (treeBytes(tool.repo) - before) / 1e6, ...(parts.length > 1 ? { parts: parts.map(strip) } : {}) };
      console.log(`${step} ${tool.name}: ${describe(results[tool.name]![step]!)}`);
    }
  };

  await backup('firstBackup');
  changeData(dataDir, weights);
  await backup('secondBackup');
  const expected = await digests(dataDir, weights);
  for (const tool of order) {
    const into = join(scratch.path, `restore-${tool.name}`);
    results[tool.name]!.restore = combine(await tool.restore(into));
    console.log(`restore ${tool.name}: ${describe(results[tool.name]!.restore!)}`);
    await checkRestored(tool.name, into, expected);
  }
  await test.cleanup();
  scratch.cleanup();
  return { results, toolNames: tools.map((t) => t.name), files: dataFiles.length, bytes: dataBytes };
}

const skipped = ['restic', 'borg'].filter((name) => !installed(name));
if (skipped.length > 0) console.log(`not installed, so no baseline: ${skipped.join(', ')} (apt-get install restic borgbackup)`);
const all: Results[] = [];
let toolNames: string[] = [];
let dataShape = { files: 0, megabytes: 0 };
for (let run = 0; run < runs; run++) {
  const once = await runOnce(run);
  toolNames = once.toolNames;
  dataShape = { files: once.files, megabytes: once.bytes / 1e6 };
  if (run === 0) console.log(`bench:vault: ${once.files} files, ${(once.bytes / 1e6).toFixed(1)} MB (models ${modelMib.join(' + ')} MiB); tools: ${toolNames.join(', ')}; ${runs} run(s)`);
  all.push(once.results);
}
const tools = toolNames.map((name) => ({ name }));
const metrics = ['cpuSeconds', 'wallSeconds', 'maxRssMegabytes', 'userSeconds', 'sysSeconds', 'addedMegabytes'] as const;
const results: Results = {};
for (const name of toolNames) {
  results[name] = {};
  for (const step of ['firstBackup', 'secondBackup', 'restore'] as const) {
    const rows = all.map((r) => r[name]![step]!);
    const row = {} as Row;
    for (const key of metrics) {
      const values = rows.map((r) => r[key]).filter((v): v is number => v !== undefined);
      if (values.length > 0) row[key] = median(values);
    }
    results[name]![step] = row;
  }
}
const steps: Step[] = ['firstBackup', 'secondBackup', 'restore'];
const baselines = tools.filter((t) => t.name !== 'hearth').map((t) => t.name);
const ratios: Record<string, Record<string, number>> = {};
if (baselines.length > 0) {
  for (const step of steps) {
    const hearth = results.hearth![step]!;
    const best = (key: 'cpuSeconds' | 'wallSeconds' | 'maxRssMegabytes') => Math.min(...baselines.map((b) => results[b]![step]![key]));
    ratios[step] = { cpu: hearth.cpuSeconds / best('cpuSeconds'), wall: hearth.wallSeconds / best('wallSeconds'), maxRss: hearth.maxRssMegabytes / best('maxRssMegabytes') };
  }
}

const perRun = baselines.length === 0 ? [] : all.map((r) => Object.fromEntries(steps.map((step) => {
  const best = (key: 'cpuSeconds' | 'wallSeconds') => Math.min(...baselines.map((b) => r[b]![step]![key]));
  return [step, { cpu: r.hearth![step]!.cpuSeconds / best('cpuSeconds'), wall: r.hearth![step]!.wallSeconds / best('wallSeconds') }];
})));
const result = {
  date: new Date().toISOString(),
  machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, ramGiB: Math.round(totalmem() / 2 ** 30), node: process.version },
  data: { ...dataShape, modelMib, threads, changeFraction },
  runs,
  results,
  ratiosHearthOverBest: ratios,
  perRun: { results: all, ratiosHearthOverBest: perRun },
};
console.log('');
console.log(`| ${['', ...tools.map((t) => t.name), ...(baselines.length > 0 ? ['Hearth ÷ best'] : [])].join(' | ')} |`);
console.log(`|${' --- |'.repeat(tools.length + 1 + (baselines.length > 0 ? 1 : 0))}`);
for (const step of steps) {
  for (const [label, key, digits] of [['CPU s', 'cpuSeconds', 2], ['wall s', 'wallSeconds', 2], ['max RSS MB', 'maxRssMegabytes', 0]] as const) {
    const ratioKey = key === 'cpuSeconds' ? 'cpu' : key === 'wallSeconds' ? 'wall' : 'maxRss';
    const cells = tools.map((t) => results[t.name]![step]![key].toFixed(digits));
    const ratio = ratios[step]?.[ratioKey];
    console.log(`| ${step} ${label} | ${cells.join(' | ')}${ratio === undefined ? '' : ` | ${ratio.toFixed(2)}`} |`);
  }
  if (step !== 'restore') console.log(`| ${step} MB added | ${tools.map((t) => results[t.name]![step]!.addedMegabytes!.toFixed(1)).join(' | ')}${baselines.length > 0 ? ' | ' : ''} |`);
}
if (runs > 1) {
  console.log(`\nmedians of ${runs} runs; each run's Hearth ÷ best (CPU / wall):`);
  for (const step of steps) console.log(`  ${step}: ${perRun.map((r) => `${r[step]!.cpu.toFixed(2)} / ${r[step]!.wall.toFixed(2)}`).join(', ')}`);
}
mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
const out = join(import.meta.dirname, 'results', `vault-${result.date.replace(/:/g, '-')}.json`);
writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
console.log(`\nwritten to ${out}`);

function strip(m: Measured): Omit<Measured, 'stdout'> {
  const { stdout: _stdout, ...rest } = m;
  return rest;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function describe(row: Row): string {
  const added = row.addedMegabytes === undefined ? '' : `, ${row.addedMegabytes.toFixed(1)} MB added`;
  return `${row.cpuSeconds.toFixed(2)} s CPU, ${row.wallSeconds.toFixed(2)} s wall, ${row.maxRssMegabytes.toFixed(0)} MB max RSS${added}`;
}


/** About `changeFraction` of the data: rows added to the database, regions of each weights file rewritten. */
function changeData(dataDir: string, weights: string[]): void {
  const db = new BetterSqlite3(join(dataDir, 'hearth.db'));
  try {
    const threadIds = (db.prepare('SELECT id FROM threads').all() as { id: string }[]).map((r) => r.id);
    const insert = db.prepare(
      `INSERT INTO messages (id, thread_id, seq, role, content, status, model_name, created_at) VALUES (?, ?, ?, 'user', ?, 'complete', 'stories260K', ?)`,
    );
    const rows = Math.max(1, Math.round((threads * 200 * changeFraction)));
    db.transaction(() => {
      for (let i = 0; i < rows; i++) insert.run(`bench_${i}`, threadIds[i % threadIds.length], 100_000 + i, randomBytes(1100).toString('base64'), Date.now());
    })();
  } finally {
    db.close();
  }
  for (const [i, path] of weights.entries()) {
    const size = modelMib[i]! * 1024 * 1024;
    const regions = 4;
    const length = Math.max(1, Math.floor((size * changeFraction) / regions));
    const fd = openSync(path, 'r+');
    for (let r = 0; r < regions; r++) writeSync(fd, randomBytes(length), 0, length, Math.floor(((r + 0.5) * size) / regions));
    closeSync(fd);
  }
}

async function digests(root: string, files: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const file of files) out.set(relative(root, file), await sha256File(file));
  return out;
}

/** The restored weights must equal the source: a fast tool that restores the wrong bytes does not count. */
async function checkRestored(tool: string, into: string, expected: Map<string, string>): Promise<void> {
  const restored = readTreeFiles(into);
  for (const [path, digest] of expected) {
    const match = restored.find((f) => f.endsWith(`/${path}`));
    if (!match || (await sha256File(match)) !== digest) throw new Error(`${tool} did not restore ${path} as it was backed up`);
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const piece of createReadStream(path)) hash.update(piece as Buffer);
  return hash.digest('hex');
}
