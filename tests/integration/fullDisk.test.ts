import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatStreamEvent, JobInfo } from '#contract/dto';
import { HearthError } from '../../src-main/core/common/hearthError';
import type { Logger } from '../../src-main/core/common/logger';
import { createCore, type Core } from '../../src-main/core/createCore';
import { ChunkStore } from '../../src-main/core/search/chunkStore';
import type { ChunkRow } from '../../src-main/core/search/chunkSchema';
import { startHubServer, type HubServer } from '../support/hubServer';
import { waitUntil } from '../support/libraryCore';
import { tempDir } from '../support/tempDir';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';
import { testModelPath } from '../support/testModels';
import { mountTmpfs, type Tmpfs } from '../support/tmpfs';

const FINAL = new Set(['completed', 'failed', 'cancelled', 'paused', 'interrupted']);
const PULLS = 5;

/** A logger that keeps every line, to count how often one failure is logged. */
function recordingLogger(lines: string[]): Logger {
  const at = (level: string) => (message: string) => void lines.push(`${level} ${message}`);
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** The code an attempt failed with, whether it threw or its job ended failed. */
async function codeOf(core: Core, attempt: () => JobInfo | Promise<JobInfo>): Promise<string> {
  try {
    const job = await core.jobs.wait((await attempt()).id);
    return job.status === 'failed' ? (job.error?.code ?? 'none') : job.status;
  } catch (error) {
    return error instanceof HearthError ? error.code : `not a HearthError: ${String(error)}`;
  }
}

describe('a full disk (the data directory on a real 20 MB tmpfs)', () => {
  let disk: Tmpfs;
  let dataDir: string;
  let core: Core;
  let hub: HubServer;
  const lines: string[] = [];
  const events: ChatStreamEvent[] = [];
  // Only the first bytes are sniffed before the download: GGUF, then noise that fills the disk.
  const files = Array.from({ length: PULLS }, () => Buffer.concat([Buffer.from('GGUF'), randomBytes(1 << 20)]));
  const docs = tempDir('hearth-full-docs-');
  const open = () =>
    createCore(
      { dataDir, host: 'server', version: 'test', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH,
        library: { watch: false }, vault: { scryptN: 1 << 12 } },
      { logger: recordingLogger(lines) },
    );
  const stored = <T>(db: BetterSqlite3.Database, sql: string, ...args: unknown[]) => db.prepare(sql).get(...args) as T;

  beforeAll(async () => {
    disk = mountTmpfs(20);
    dataDir = join(disk.path, 'data');
    core = open();
    core.events.on('chat.stream', (event) => events.push(event));
    hub = await startHubServer({}, { plainFiles: Object.fromEntries(files.map((bytes, i) => [`m${i}.gguf`, bytes])) });
  });
  afterAll(async () => {
    try {
      disk?.free();
      await core?.dispose();
      await hub?.close();
      docs.cleanup();
    } finally {
      disk?.unmount();
    }
  });

  it('a reply that finishes on a full disk ends, is shown with a note, logs once and is saved when space returns', async () => {
    const model = await core.models.add(await testModelPath('stories260K'));
    await core.runtime.load(core.models.get(model.id), { contextSize: null });
    core.settings.update({ maxReplyTokens: 40, temperature: 0.7 });
    const thread = core.chat.createThread();
    const { assistantMessageId: id } = await core.chat.send(thread.id, 'Once upon a time');
    disk.fill();
    await core.chat.idle(thread.id);

    const end = events.find((event) => event.type === 'end' && event.message.id === id);
    if (end?.type !== 'end') throw new Error('the reply sent no end event');
    expect(end.saveError?.code).toBe('DISK_FULL');
    expect(end.saveError?.message).toContain(join(dataDir, 'hearth.db'));
    expect(end.message.content.length).toBeGreaterThan(0);
    expect(['complete', 'length']).toContain(end.message.status);
    // Shown from memory to every front end, though the row is not written yet.
    expect(core.chat.getThread(thread.id).messages.at(-1)).toMatchObject({ id, content: end.message.content, status: end.message.status });
    expect(stored<{ status: string }>(core.db, 'SELECT status FROM messages WHERE id = ?', id).status).toBe('streaming');
    expect(lines.filter((line) => line.includes(id)).length).toBeLessThanOrEqual(2);
    expect(lines.filter((line) => line.includes('SqliteError')).length).toBe(0);

    disk.free();
    await waitUntil(() => stored<{ status: string }>(core.db, 'SELECT status FROM messages WHERE id = ?', id).status === end.message.status, 'the reply to be saved', 15_000);
    expect(stored<{ content: string }>(core.db, 'SELECT content FROM messages WHERE id = ?', id).content).toBe(end.message.content);
  });

  it('parallel pulls into a disk that fills all end failed DISK_FULL promptly; cancel works; a new pull is not a stuck job', async () => {
    files.forEach((_, i) => hub.fault(`/files/m${i}.gguf`, { kind: 'slow', bytesPerSecond: 150_000 }));
    const url = (i: number) => `${hub.url}/files/m${i}.gguf`;
    const jobs = await Promise.all(files.map((_, i) => core.downloads.pull({ kind: 'url', url: url(i) })));
    await waitUntil(() => jobs.every((job) => (core.jobs.get(job.id).bytes?.done ?? 0) > 0), 'every download to receive bytes').catch((error: unknown) => {
      throw new Error(`${String(error)}: ${JSON.stringify(jobs.map((job) => core.jobs.get(job.id)))}`);
    });
    const started = Date.now();
    disk.fill();
    const last = jobs.at(-1)!;
    core.jobs.cancel(last.id);
    const ended = await Promise.all(jobs.map((job) => core.jobs.wait(job.id)));
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(ended.at(-1)!.status).toBe('cancelled');
    for (const job of ended.slice(0, -1)) expect(job.status === 'failed' && job.error?.code, `${job.title}: ${job.status} ${job.error?.message}`).toBe('DISK_FULL');
    expect(core.jobs.list().filter((job) => !FINAL.has(job.status))).toEqual([]);

    // Pulling the same file again runs again (and fails for the same reason); it never hands back a stuck job.
    expect(await codeOf(core, () => core.downloads.pull({ kind: 'url', url: url(0) }))).toBe('DISK_FULL');
    disk.free();
    // What could not be written is written once space returns.
    await waitUntil(
      () => jobs.every((job) => FINAL.has(stored<{ status: string }>(core.db, 'SELECT status FROM jobs WHERE id = ?', job.id).status)),
      'the final states to be saved',
      15_000,
    );
    for (const job of jobs) expect(lines.filter((line) => line.includes(`job ${job.id}: its state could not be saved`)).length).toBeLessThanOrEqual(1);
  });

  it('indexing on a full disk reports DISK_FULL, from SQLite and from LanceDB', async () => {
    const folder = join(docs.path, 'notes');
    mkdirSync(folder);
    for (let i = 0; i < 5; i++) writeFileSync(join(folder, `note${i}.txt`), `Note ${i}. ${'The lighthouse keeper counts the ships. '.repeat(50)}`);
    core.models.setDefault('embedding', (await core.models.list())[0]!.id);
    const collection = core.library.ensureCollection('Notes');
    disk.fill();
    expect(await codeOf(core, () => core.library.addSource(collection.id, folder).job)).toBe('DISK_FULL');
    disk.free();

    // LanceDB itself: a table made while there was room, written once there is none.
    const store = await ChunkStore.open(join(dataDir, 'lance-probe'));
    try {
      await store.ensureTable('probe', { modelId: 'm', modelName: 'm', dimension: 8 });
      disk.fill();
      const rows: ChunkRow[] = Array.from({ length: 2000 }, (_, i) => ({
        id: `c${i}`, docId: 'd', sourceId: 's', collectionId: 'k', path: '/x', format: 'text', title: null, heading: '', ordinal: i,
        pageStart: null, pageEnd: null, lineStart: null, lineEnd: null, text: `word ${i} `.repeat(200), textHash: `h${i}`, tokenCount: 400,
        vector: new Float32Array(8).fill(i),
      }));
      const error = await store.replaceDocuments('probe', ['d'], rows).then(() => null, (e: unknown) => e);
      expect(error).toBeInstanceOf(HearthError);
      expect((error as HearthError).code).toBe('DISK_FULL');
      expect((error as HearthError).message).toContain(join(dataDir, 'lance-probe'));
    } finally {
      disk.free();
      store.close();
    }
  });

  it('vault.snapshot on a full disk is DISK_FULL', async () => {
    await core.vault.create({ passphrase: 'a long passphrase' });
    disk.fill();
    expect(await codeOf(core, () => core.vault.startSnapshot({}))).toBe('DISK_FULL');
    const direct = await core.vault.snapshot({ includeModels: false, includeDocuments: false }).then(() => null, (e: unknown) => e);
    expect((direct as HearthError).code).toBe('DISK_FULL');
    disk.free();
  });

  it('nothing is corrupt: once space is freed the core starts again and its databases check out', async () => {
    await core.dispose();
    core = open();
    for (const file of ['hearth.db', join('vault', 'vault.db')]) {
      const db = new BetterSqlite3(join(dataDir, file), { readonly: true });
      expect(db.pragma('integrity_check', { simple: true }), file).toBe('ok');
      db.close();
    }
    expect(core.chat.listThreads().length).toBe(1);
    expect(core.jobs.list().filter((job) => !FINAL.has(job.status))).toEqual([]);
  });
});
