import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageSources } from '#contract/dto';
import type { Logger } from '../../src-main/core/common/logger';
import { createCore, type Core } from '../../src-main/core/createCore';
import { DEFAULT_SETTINGS } from '../../src-main/core/storage/settingsRepository';
import { ThreadRepository } from '../../src-main/core/storage/threadRepository';
import { DEFAULT_SCHEDULE } from '../../src-main/core/vault/vaultRepository';
import { startHubServer, type HubServer } from '../support/hubServer';
import { CATALOG_PATH, PARSE_WORKER_PATH } from '../support/testCore';
import { tempDir } from '../support/tempDir';
import { testModelPath } from '../support/testModels';

function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const ignore = () => undefined;
  return { warnings, debug: ignore, info: ignore, error: ignore, warn: (message) => void warnings.push(message) };
}

const SOURCES: MessageSources = {
  collectionIds: ['col_1'],
  citations: [
    {
      n: 1,
      chunkId: 'chk_1',
      docId: 'doc_1',
      path: '/notes/a.md',
      title: 'A',
      heading: ['Intro'],
      location: { pageStart: null, pageEnd: null, lineStart: 1, lineEnd: 4 },
      text: 'the passage',
      wholeDocument: false,
    },
  ],
  budget: { used: 12, total: 400 },
  note: null,
};

/**
 * Rows damaged on disk (a crash mid-write, a bad sector, a hand edit, a row written by another
 * version), written with SQL into the real databases between two starts of the real core:
 * each gives its coded error or its documented fallback, and everything else keeps working.
 */
describe('a restart over corrupted rows (real core, real SQLite, real downloads on 127.0.0.1)', () => {
  let dir: ReturnType<typeof tempDir>;
  let hub: HubServer;
  let core: Core;
  let logger: ReturnType<typeof recordingLogger>;
  let threadId: string;
  let messageIds: string[];
  const shaOf = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
  const open = (log: Logger) =>
    createCore(
      { dataDir: dir.path, host: 'server', version: 'test', gpu: 'off', threads: 1, catalogPath: CATALOG_PATH, parseWorkerPath: PARSE_WORKER_PATH, library: { watch: false }, vault: { scryptN: 1 << 12 } },
      { logger: log },
    );
  const downloadParams = (file: string, sha256: string, drop?: string) => {
    const params: Record<string, unknown> = { source: { kind: 'url', url: `${hub.url}/files/${file}` }, url: `${hub.url}/files/${file}`, fileName: file, sha256, sizeBytes: null };
    if (drop) delete params[drop];
    return JSON.stringify(params);
  };

  beforeAll(async () => {
    const tiny = await testModelPath('tinyRandom');
    const stories = await testModelPath('stories260K');
    hub = await startHubServer({}, { plainFiles: { 'tiny.gguf': tiny, 'stories.gguf': stories } });
    dir = tempDir();

    // First start: ordinary data, written by the app.
    const first = open(recordingLogger());
    first.settings.update({ contextSize: 4096, temperature: 0.3, maxReplyTokens: 77 });
    first.vault.setSchedule({ keep: 3, intervalHours: 24 });
    await first.vault.create({ passphrase: 'a long passphrase' });
    expect((await first.jobs.wait(first.vault.startSnapshot({}).id)).status).toBe('completed');
    const threads = new ThreadRepository(first.db);
    const thread = threads.create('Damaged', '');
    threadId = thread.id;
    threads.update(thread.id, { context: { used: 10, total: 2048, droppedMessageIds: [] } });
    const question = threads.appendMessage(thread.id, { role: 'user', content: 'What is in my notes?', status: 'complete' });
    const reply = threads.appendMessage(thread.id, { role: 'assistant', content: 'Your notes say [1].', status: 'complete' });
    const later = threads.appendMessage(thread.id, { role: 'assistant', content: 'Again [1].', status: 'complete' });
    threads.setMessageSources(reply.id, SOURCES);
    threads.setMessageSources(later.id, SOURCES);
    messageIds = [question.id, reply.id, later.id];
    await first.dispose();

    // Between the starts: damage, written straight into the files.
    const db = new BetterSqlite3(join(dir.path, 'hearth.db'));
    const setting = db.prepare('UPDATE settings SET value = ? WHERE key = ?');
    setting.run('0.3,', 'temperature'); // not JSON
    setting.run('"lots"', 'maxReplyTokens'); // JSON of the wrong type
    db.prepare(`INSERT INTO settings (key, value) VALUES ('library.activeIndex', '{"key":7}')`).run();
    db.prepare('UPDATE threads SET context_json = ? WHERE id = ?').run('{"used":"ten"}', threadId);
    db.prepare('UPDATE messages SET sources_json = ? WHERE id = ?').run('{"citations":[{"n":1}]}', reply.id);
    const job = db.prepare(
      `INSERT INTO jobs (id, kind, title, params_json, checkpoint_json, status, created_at, updated_at) VALUES (?, 'model.download', ?, ?, ?, ?, ?, ?)`,
    );
    // A download whose params lost their url (say, written by a version that named it otherwise).
    job.run('job_lost', 'Download lost.gguf', downloadParams('tiny.gguf', shaOf(tiny), 'url'), null, 'running', 1, 1);
    // A download with good params, left queued by the crash.
    job.run('job_good', 'Download tiny.gguf', downloadParams('tiny.gguf', shaOf(tiny)), null, 'queued', 2, 2);
    // A download whose checkpoint is of the wrong shape.
    job.run('job_checkpoint', 'Download stories.gguf', downloadParams('stories.gguf', shaOf(stories)), '{"etag":5}', 'running', 3, 3);
    db.close();
    const vaultDb = new BetterSqlite3(join(dir.path, 'vault', 'vault.db'));
    vaultDb.prepare(`UPDATE state SET value = '{"keep":"all"}' WHERE key = 'schedule'`).run();
    vaultDb.prepare(`UPDATE state SET value = '{"address":"0xabc"}' WHERE key = 'dataKey'`).run();
    vaultDb.close();

    logger = recordingLogger();
    core = open(logger);
  }, 60_000);

  afterAll(async () => {
    await core?.dispose();
    await hub?.close();
    dir?.cleanup();
  });

  it('a download whose params lost a field fails with JOB_RECORD_INVALID, and the others run', async () => {
    expect(core.jobs.get('job_lost')).toMatchObject({ status: 'failed', error: { code: 'JOB_RECORD_INVALID' } });
    expect(core.jobs.get('job_lost').error?.message).toMatch(/url: .*expected string/);
    expect(logger.warnings.filter((w) => w.includes('job_lost'))).toHaveLength(1);

    expect(await core.jobs.wait('job_good')).toMatchObject({ status: 'completed', error: null });
    expect((await core.models.list()).map((m) => basename(m.path))).toContain('tiny.gguf');
  });

  it('a download whose checkpoint is unreadable fails, and resuming downloads it from the start', async () => {
    expect(core.jobs.get('job_checkpoint')).toMatchObject({ status: 'failed', error: { code: 'JOB_RECORD_INVALID' } });
    core.jobs.resume('job_checkpoint');
    expect(await core.jobs.wait('job_checkpoint')).toMatchObject({ status: 'completed', error: null });
    expect((await core.models.list()).map((m) => basename(m.path))).toContain('stories.gguf');
  });

  it('pulling the file of a job with unreadable params again starts a new job that completes', async () => {
    const job = await core.downloads.pull({ kind: 'url', url: `${hub.url}/files/tiny.gguf` });
    expect(job.id).not.toBe('job_lost');
    expect((await core.jobs.wait(job.id)).status).toBe('completed');
  });

  it('corrupt settings read as their defaults, good ones are kept, and saving repairs them', () => {
    expect(core.settings.get()).toEqual({ ...DEFAULT_SETTINGS, contextSize: 4096 });
    expect(logger.warnings.filter((w) => w.includes('"temperature"'))).toHaveLength(1);
    expect(logger.warnings.filter((w) => w.includes('"maxReplyTokens"'))).toHaveLength(1);
    expect(core.settings.update({ temperature: 0.5 })).toMatchObject({ temperature: 0.5, maxReplyTokens: DEFAULT_SETTINGS.maxReplyTokens });
  });

  it('a chat with unreadable context figures and sources loads, with the rest of its messages intact', () => {
    const thread = core.chat.getThread(threadId);
    expect(thread.context).toBeNull();
    expect(thread.messages.map((m) => m.id)).toEqual(messageIds);
    expect(thread.messages.map((m) => m.content)).toEqual(['What is in my notes?', 'Your notes say [1].', 'Again [1].']);
    expect(thread.messages[1]!.sources).toBeNull();
    expect(thread.messages[2]!.sources).toEqual(SOURCES);
    expect(logger.warnings.filter((w) => w.includes(messageIds[1]!))).toHaveLength(1);
  });

  it('an unreadable active index reads as none: the status and search still answer', async () => {
    const status = await core.library.status();
    expect(status.active).toBeNull();
    expect(await core.library.search({ query: 'notes' })).toEqual([]);
    expect(logger.warnings.some((w) => w.includes('library.activeIndex'))).toBe(true);
  });

  it("an unreadable vault data key stops snapshots with CORRUPT_FILE instead of sealing under a new key", async () => {
    await core.vault.unlock({ passphrase: 'a long passphrase' });
    const done = await core.jobs.wait(core.vault.startSnapshot({}).id);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'CORRUPT_FILE' } });
    expect(done.error?.message).toMatch(/data key .*wrapped/);
    expect(core.vault.snapshots()).toHaveLength(1);
  });

  it("an unreadable vault schedule reads as the default until it is saved again", async () => {
    expect((await core.vault.status()).schedule).toEqual(DEFAULT_SCHEDULE);
    expect(core.vault.setSchedule({ keep: 4 })).toEqual({ ...DEFAULT_SCHEDULE, keep: 4 });
    expect((await core.vault.status()).schedule.keep).toBe(4);
  });
});
