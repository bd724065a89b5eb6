/**
 * bench:flood — what one client's flood does to another client of `hearth serve`.
 *
 * A real server (core over a fresh data directory, no model) runs in its own process; a probe
 * client makes cheap calls one after another (app.info, settings.get, jobs.list) and records
 * their latency, first alone (the baseline, same run), then while a flooder process attacks:
 *
 * - pipelined: keeps 10,000 calls in flight (20,000 at the start) for the whole phase;
 * - non-reader: never reads its socket and sends 10,000 catalog.list calls (~20 KB answers);
 * - deep: five 1.8 MB frames of nested arrays;
 * - all three at once.
 *
 * Reported per phase: the probe's p50/p99 and their ratio to the alone baseline, its mean and
 * worst call (a stall shows there, not in percentiles of thousands of calls), the server's
 * peak RSS (from /proc) and what the flooder saw. Flooders and the probe are separate
 * processes, so their own JSON work does not count against the server.
 *
 *   npm run bench:flood -- [--seconds 4] [--out bench/results/flood.json]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import type { CallName } from '#contract/api';
import type { WireMessage } from '#contract/client';

const here = fileURLToPath(import.meta.url);
const { values } = parseArgs({
  options: {
    seconds: { type: 'string', default: '4' },
    out: { type: 'string', default: join(dirname(here), 'results', 'flood.json') },
    serve: { type: 'boolean', default: false },
    flood: { type: 'string' },
    url: { type: 'string' },
  },
});
const seconds = Number(values.seconds);
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

function open(url: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}
const frame = (id: number, name: string) => JSON.stringify({ t: 'call', id, name, input: {} });

/** `--serve`: the server process. Prints its address, runs until stdin closes. */
async function serve(): Promise<void> {
  const [{ startServer }, { createTestCore }] = await Promise.all([import('../src-main/cli/server'), import('../tests/support/testCore')]);
  const { core, cleanup } = createTestCore();
  const server = await startServer(core, { port: 0, rendererDir: dirname(here) });
  process.stdout.write(`${JSON.stringify({ url: `ws://127.0.0.1:${server.port}/ws?token=${server.token}` })}\n`);
  process.stdin.resume();
  await new Promise((done) => process.stdin.once('end', done));
  await server.close();
  await cleanup();
  process.exit(0);
}

/** `--flood KIND`: one attacking client; prints what it saw when its time is up. */
async function flood(kind: string, url: string): Promise<void> {
  const deadline = performance.now() + seconds * 1000;
  const report: Record<string, number> = {};
  const jobs: Promise<void>[] = [];
  if (kind === 'pipelined' || kind === 'all') {
    jobs.push((async () => {
      const ws = await open(url);
      let sent = 0;
      let answered = 0;
      ws.on('message', () => answered++);
      const send = (n: number) => {
        for (let i = 0; i < n; i++) ws.send(frame(++sent, 'app.info'));
      };
      send(20_000);
      while (performance.now() < deadline) {
        if (sent - answered < 10_000) send(5_000);
        await sleep(5);
      }
      report.pipelinedSent = sent;
      report.pipelinedAnswered = answered;
      ws.terminate();
    })());
  }
  if (kind === 'nonreader' || kind === 'all') {
    jobs.push((async () => {
      const ws = await open(url);
      ws.pause();
      for (let id = 1; id <= 10_000; id++) ws.send(frame(id, 'catalog.list'));
      let closedByServer = 0;
      ws.once('close', () => (closedByServer = 1));
      while (performance.now() < deadline) await sleep(50);
      report.nonreaderClosedByServer = closedByServer;
      ws.terminate();
    })());
  }
  if (kind === 'deep' || kind === 'all') {
    jobs.push((async () => {
      const ws = await open(url);
      const depth = 900_000;
      const text = `{"t":"call","id":1,"name":"app.info","input":${'['.repeat(depth)}${']'.repeat(depth)}}`;
      const started = performance.now();
      let answered = 0;
      const all = new Promise<void>((done) => ws.on('message', () => ++answered === 5 && done()));
      for (let i = 0; i < 5; i++) ws.send(text);
      await Promise.race([all, sleep(seconds * 1000 + 30_000)]);
      report.deepAnsweredMs = performance.now() - started;
      report.deepAnswered = answered;
      ws.terminate();
    })());
  }
  await Promise.all(jobs);
  process.stdout.write(`${JSON.stringify(report)}\n`);
  process.exit(0);
}

function child(args: string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', here, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
}
function firstLine(proc: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const end = out.indexOf('\n');
      if (end >= 0) resolve(out.slice(0, end));
    });
    proc.once('exit', (code) => reject(new Error(`child exited (${code}) before printing`)));
  });
}
function rssMiB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;

/** The probe: cheap calls one after another for the phase, with a per-call timeout of the whole phase. */
async function probe(ws: WebSocket, ms: number): Promise<number[]> {
  const names: CallName[] = ['app.info', 'settings.get', 'jobs.list'];
  const times: number[] = [];
  const deadline = performance.now() + ms;
  let id = 0;
  while (performance.now() < deadline) {
    const mine = ++id;
    const started = performance.now();
    await new Promise<void>((done) => {
      const onMessage = (data: WebSocket.RawData) => {
        const message = JSON.parse(String(data)) as WireMessage;
        if (message.t === 'result' && message.id === mine) {
          ws.off('message', onMessage);
          done();
        }
      };
      ws.on('message', onMessage);
      ws.send(frame(mine, names[mine % names.length]!));
    });
    times.push(performance.now() - started);
  }
  return times;
}

async function main(): Promise<void> {
  const server = child(['--serve']);
  const { url } = JSON.parse(await firstLine(server)) as { url: string };
  const pid = server.pid!;
  const probeWs = await open(url);
  await probe(probeWs, 500); // warm-up
  const phases: Record<string, unknown>[] = [];
  let alone = { p50: Number.NaN, p99: Number.NaN };
  for (const kind of ['alone', 'pipelined', 'nonreader', 'deep', 'all']) {
    const flooder = kind === 'alone' ? null : child(['--flood', kind, '--url', url, '--seconds', String(seconds)]);
    const flooderReport = flooder ? firstLine(flooder) : Promise.resolve('{}');
    let peak = rssMiB(pid);
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 100);
    if (flooder) await sleep(300); // let the flood start
    const times = (await probe(probeWs, seconds * 1000)).sort((a, b) => a - b);
    const seen = JSON.parse(await flooderReport) as Record<string, number>;
    clearInterval(sampler);
    const p50 = percentile(times, 50);
    const p99 = percentile(times, 99);
    if (kind === 'alone') alone = { p50, p99 };
    const mean = times.reduce((sum, t) => sum + t, 0) / times.length;
    const max = times.at(-1) ?? Number.NaN;
    const row = { phase: kind, calls: times.length, p50Ms: p50, p99Ms: p99, meanMs: mean, maxMs: max, p50Ratio: p50 / alone.p50, p99Ratio: p99 / alone.p99, serverPeakRssMiB: peak, ...seen };
    phases.push(row);
    console.log(
      `${kind.padEnd(10)} probe calls ${String(times.length).padStart(6)}  p50 ${p50.toFixed(2).padStart(8)} ms (x${(p50 / alone.p50).toFixed(1)})  p99 ${p99.toFixed(2).padStart(8)} ms (x${(p99 / alone.p99).toFixed(1)})  mean ${mean.toFixed(2)} ms  max ${max.toFixed(0)} ms  server peak RSS ${peak.toFixed(0)} MiB  ${JSON.stringify(seen)}`,
    );
    await sleep(500);
  }
  probeWs.terminate();
  server.stdin!.end();
  mkdirSync(dirname(values.out!), { recursive: true });
  const machine = { cpu: cpus()[0]?.model, cores: cpus().length, memGiB: totalmem() / 2 ** 30, node: process.version, date: new Date().toISOString() };
  writeFileSync(values.out!, JSON.stringify({ machine, seconds, phases }, null, 2));
  console.log(`results: ${values.out}`);
}

if (values.serve) await serve();
else if (values.flood) await flood(values.flood, values.url!);
else await main();
