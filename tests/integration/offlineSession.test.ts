import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatStreamEvent, Collection, HubModelSummary, JobInfo, ModelInfo, NetworkLedgerView, SearchHit, SendResult, Thread, VaultCreated, VaultSnapshot, VaultTarget } from '#contract/dto';
import { startHubServer, type HubServer } from '../support/hubServer';
import { assertBuilt, SERVE_URL_LINE } from '../support/server';
import { assertStraceWorks, leavingCalls, traceSockets, type SocketCall } from '../support/socketTrace';
import { tempDir } from '../support/tempDir';
import { testModelPath } from '../support/testModels';
import { WireClient } from '../support/wireClient';

const root = join(__dirname, '..', '..');
const hearth = join(root, 'bin', 'hearth.mjs');
const PASSPHRASE = 'offline session passphrase';

/** A short program that connects to `host` (80) and exits once it answered, failed or 1 s passed. */
const connectTo = (host: string) =>
  `const s = require('node:net').connect({ host: '${host}', port: 80 }); const end = () => { s.destroy(); process.exit(0); };` +
  ` s.on('connect', end); s.on('error', end); setTimeout(end, 1000);`;

function runTraced(log: string, program: string): Promise<SocketCall[]> {
  return traceSockets(log, process.execPath, ['-e', program]).calls();
}

/**
 * Hearth's promise that nothing leaves the machine unless asked, checked where it cannot be
 * argued with: the kernel's socket calls. A whole offline session through `hearth serve` (load a
 * model, chat, index a folder, search, snapshot to a folder target, restore it elsewhere) runs
 * under strace, and the test fails if any socket of the server's process tree, native code and
 * child processes included, addresses anything but 127.0.0.1 or ::1.
 */
describe('an offline session sends nothing off this machine (socket-level, strace)', () => {
  const dir = tempDir('hearth-offline-');

  beforeAll(() => {
    assertBuilt();
    assertStraceWorks();
  });

  let hub: HubServer | null = null;

  afterAll(async () => {
    await hub?.close();
    dir.cleanup();
  });

  it('the check sees a connect to another machine, and lets one to this machine pass', async () => {
    // 10.255.255.1 is a private address no test machine serves: the connect fails, times out
    // or (behind an intercepting proxy) succeeds; the check sees the attempt either way.
    const away = await runTraced(join(dir.path, 'away.log'), connectTo('10.255.255.1'));
    expect(leavingCalls(away).map((c) => `${c.call} ${c.address}:${c.port}`)).toContain('connect 10.255.255.1:80');
    // From a child process too: the trace follows the whole tree (the parser's worker, say).
    const spawner = `require('node:child_process').spawnSync(process.execPath, ['-e', ${JSON.stringify(connectTo('10.255.255.2'))}]);`;
    const nested = await runTraced(join(dir.path, 'nested.log'), spawner);
    expect(leavingCalls(nested).map((c) => c.address)).toContain('10.255.255.2');
    // IPv6, and a UDP datagram with no connect (as a DNS query goes out): caught the same way.
    const v6 = await runTraced(join(dir.path, 'v6.log'), connectTo('2001:db8::1'));
    expect(leavingCalls(v6).map((c) => c.address)).toContain('2001:db8::1');
    const udp = await runTraced(
      join(dir.path, 'udp.log'),
      `const s = require('node:dgram').createSocket('udp4'); s.send('x', 53, '10.255.255.3', () => s.close());`,
    );
    expect(leavingCalls(udp).map((c) => `${c.address}:${c.port}`)).toContain('10.255.255.3:53');
    const home = await runTraced(join(dir.path, 'home.log'), connectTo('127.0.0.1'));
    expect(home.some((c) => c.call === 'connect' && c.address === '127.0.0.1' && c.port === 80)).toBe(true);
    expect(leavingCalls(home)).toEqual([]);
    const home6 = await runTraced(join(dir.path, 'home6.log'), connectTo('::1'));
    expect(home6.some((c) => c.call === 'connect' && c.address === '::1')).toBe(true);
    expect(leavingCalls(home6)).toEqual([]);
  });

  it('start, load a model, chat, index a folder, search, snapshot to a folder, restore: only loopback sockets', async () => {
    const dataDir = join(dir.path, 'data');
    const docs = join(dir.path, 'docs');
    mkdirSync(docs, { recursive: true });
    mkdirSync(join(dir.path, 'backup'));
    writeFileSync(join(docs, 'lighthouse.md'), '# The lighthouse\n\nThe keeper of the lighthouse counted ships every night and wrote them down.\n');
    writeFileSync(join(docs, 'garden.txt'), 'The garden behind the house grew tomatoes, beans and a very old apple tree.\n');
    const modelsDir = dirname(await testModelPath('stories260K'));
    // A hub mirror on this machine: the session searches it, so the trace must show the server's
    // own connect to 127.0.0.1 (proof that it sees the server's sockets), and nothing else.
    hub = await startHubServer({ 'local/mirror-GGUF': { files: { 'mirror-F32.gguf': await testModelPath('stories260K') } } });
    const hubPort = new URL(hub.url).port;
    const env = { ...process.env, HEARTH_LOG: 'warn' };
    const traced = traceSockets(
      join(dir.path, 'session.log'),
      process.execPath,
      [hearth, 'serve', '--port', '0', '--data-dir', dataDir, '--models-dir', modelsDir, '--gpu', 'off', '--threads', '1'],
      { cwd: root, env },
    );
    let stdout = '';
    let stderr = '';
    traced.strace.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    traced.strace.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    let client: WireClient | null = null;
    try {
      const url = await waitFor(() => [...stdout.matchAll(SERVE_URL_LINE)][0]?.[1], 60_000, () => `hearth serve printed no URL. stderr:\n${stderr}`);
      client = await openSession(url);
      const c = client;
      await c.value('settings.update', { hubEndpoint: hub.url });
      expect((await c.value<HubModelSummary[]>('hub.search', { query: 'mirror' })).map((r) => r.repo)).toEqual(['local/mirror-GGUF']);

      // Load a model and chat.
      const models = await c.value<ModelInfo[]>('models.list');
      const stories = models.find((m) => m.path.endsWith('stories260K.gguf'));
      expect(stories).toBeDefined();
      await c.value('models.setDefault', { modelId: stories!.id, purpose: 'chat' });
      await c.value('models.setDefault', { modelId: stories!.id, purpose: 'embedding' });
      await c.value('settings.update', { maxReplyTokens: 24 });
      await c.value('runtime.load', { modelId: stories!.id });
      const thread = await c.value<Thread>('threads.create', { title: 'offline' });
      const sent = await c.value<SendResult>('chat.send', { threadId: thread.id, content: 'Once upon a time' });
      const end = await c.until(() => c.eventsNamed<ChatStreamEvent>('chat.stream').find((e) => e.type === 'end' && e.message.id === sent.assistantMessageId), 60_000);
      expect(end.type === 'end' && end.message.content.length).toBeGreaterThan(0);

      // Index a folder and search it.
      const collection = await c.value<Collection>('collections.create', { name: 'Offline docs' });
      const added = await c.value<{ job: JobInfo | null }>('sources.add', { collectionId: collection.id, path: docs });
      expect(added.job).not.toBeNull();
      expect((await jobEnd(c, added.job!.id)).status).toBe('completed');
      const hits = await c.value<SearchHit[]>('search.query', { query: 'lighthouse keeper', mode: 'bm25' });
      expect(hits[0]?.path).toBe(join(docs, 'lighthouse.md'));

      // Snapshot to a folder target, then restore it into another data directory.
      const wallet = await c.value<VaultCreated>('vault.create', { passphrase: PASSPHRASE });
      const target = await c.value<VaultTarget>('vault.addTarget', { kind: 'folder', path: join(dir.path, 'backup') });
      const snapshotJob = await c.value<JobInfo>('vault.snapshot', { includeDocuments: true });
      await completed(c, snapshotJob.id);
      const [snapshot] = await c.value<VaultSnapshot[]>('vault.snapshots');
      const publishJob = await c.value<JobInfo>('vault.publish', { cid: snapshot!.cid, targetId: target.id });
      await completed(c, publishJob.id);
      const restored = join(dir.path, 'restored');
      const restoreJob = await c.value<JobInfo>('vault.restore', { phrase: wallet.phrase, cid: snapshot!.cid, from: { kind: 'target', targetId: target.id }, dataDir: restored });
      await completed(c, restoreJob.id);
      expect(existsSync(join(restored, 'hearth.db'))).toBe(true);

      // The ledger agrees: the search went to this machine, and nothing else went anywhere.
      const ledger = await c.value<NetworkLedgerView>('network.ledger', {});
      expect(ledger.remote).toEqual({ requests: 0, bytesOut: 0, bytesIn: 0 });
      expect(ledger.requests.map((r) => [r.host, r.purpose, r.local])).toEqual([[`127.0.0.1:${hubPort}`, 'hub-api', true]]);
    } finally {
      await client?.close();
      // SIGTERM to hearth serve itself (strace's child); strace exits when its tree has.
      if (traced.strace.exitCode === null) process.kill(traced.pid(), 'SIGTERM');
    }
    const calls = await traced.calls();
    expect(stderr).not.toMatch(/ERROR/);
    expect(calls.some((call) => call.call === 'connect' && call.address === '127.0.0.1' && String(call.port) === hubPort)).toBe(true);
    // The check itself: every address any socket of the session's process tree reached for.
    expect(leavingCalls(calls).map((c) => c.line)).toEqual([]);

    // And the CLI says the same from the ledger: nothing has left this machine.
    const text = spawnSync(process.execPath, [hearth, 'network', '--data-dir', dataDir], { cwd: root, encoding: 'utf8', env });
    expect(text.status).toBe(0);
    expect(text.stdout).toContain('Nothing has left this machine');
    const json = spawnSync(process.execPath, [hearth, 'network', '--json', '--remote', '--data-dir', dataDir], { cwd: root, encoding: 'utf8', env });
    expect(JSON.parse(json.stdout)).toMatchObject({ remote: { requests: 0 }, requests: [] });
  });
});

/** Exchanges the one-time URL for a session cookie and opens the contract's WebSocket with it. */
async function openSession(url: string): Promise<WireClient> {
  const response = await fetch(url, { redirect: 'manual' });
  const cookie = response.headers.get('set-cookie')?.split(';')[0];
  const home = response.headers.get('location');
  if (!cookie || !home) throw new Error(`the one-time URL gave no session (HTTP ${response.status})`);
  const origin = new URL(url).origin;
  return WireClient.open(`${origin.replace('http:', 'ws:')}${home}ws`, { cookie, origin });
}

/** Waits for the job to end and fails with its error unless it completed. */
async function completed(client: WireClient, jobId: string): Promise<void> {
  const job = await jobEnd(client, jobId);
  if (job.status !== 'completed') throw new Error(`${job.kind} ended ${job.status}: ${job.error?.code} ${job.error?.message}`);
}

async function jobEnd(client: WireClient, jobId: string): Promise<JobInfo> {
  return client.until(
    () => client.eventsNamed<JobInfo>('jobs.update').find((j) => j.id === jobId && !['queued', 'running', 'paused'].includes(j.status)),
    120_000,
  );
}

async function waitFor<T>(check: () => T | undefined, timeoutMs: number, message: () => string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(message());
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
