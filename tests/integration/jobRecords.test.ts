import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { Logger } from '../../src-main/core/common/logger';
import { JobManager } from '../../src-main/core/jobs/jobManager';
import { openDatabase, type Db } from '../../src-main/core/storage/database';
import { JobRepository } from '../../src-main/core/storage/jobRepository';
import { COUNTING_KIND, countingJob, testKind } from '../support/countingJob';
import { tempDir } from '../support/tempDir';

/** A logger that keeps its warnings, to check that each bad record is said once. */
function recordingLogger(): Logger & { warnings: string[] } {
  const warnings: string[] = [];
  const ignore = () => undefined;
  return { warnings, debug: ignore, info: ignore, error: ignore, warn: (message) => void warnings.push(message) };
}

/** Writes a job row straight into SQLite, the way a crash, a bad disk or an older Hearth leaves it. */
function writeRow(db: Db, row: { id: string; kind: string; params: string; status: string; checkpoint?: string | null; bytes?: string | null }): void {
  db.prepare(
    `INSERT INTO jobs (id, kind, title, params_json, checkpoint_json, status, bytes_json, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  ).run(row.id, row.kind, `job ${row.id}`, row.params, row.checkpoint ?? null, row.status, row.bytes ?? null, Date.now(), Date.now());
}

describe('job records read back from SQLite are checked against their kind (real SQLite file)', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let logger: ReturnType<typeof recordingLogger>;
  let jobs: JobManager;
  let discarded: string[];

  const steps = (jobId: string) =>
    (db.prepare('SELECT n FROM steps WHERE job_id = ? ORDER BY n').all(jobId) as { n: number }[]).map((r) => r.n);
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  /** The job manager of the next start, with the counting kind registered the way the app registers its kinds. */
  const restart = () => {
    const next = new JobManager(new JobRepository(db, Date.now, logger), logger, () => undefined, 0);
    next.register(COUNTING_KIND, { ...countingJob(db, 1), discard: (_params, jobId) => void discarded.push(jobId) });
    return next;
  };

  beforeEach(() => {
    dir = tempDir();
    db = openDatabase(join(dir.path, 'hearth.db'));
    logger = recordingLogger();
    discarded = [];
    jobs = restart();
  });
  afterEach(async () => {
    await jobs.shutdown();
    db.close();
    dir.cleanup();
  });

  it('a job whose params lost a field fails with JOB_RECORD_INVALID on recover, and the other jobs resume', async () => {
    countingJob(db); // creates the steps table
    writeRow(db, { id: 'job_lost', kind: 'count', params: '{"failAt":2}', status: 'running' });
    writeRow(db, { id: 'job_garbled', kind: 'count', params: '{"to": 3', status: 'queued' });
    writeRow(db, { id: 'job_good', kind: 'count', params: '{"to":6}', status: 'running', checkpoint: '{"next":0}' });

    jobs.recover();

    expect(jobs.get('job_lost')).toMatchObject({ status: 'failed', error: { code: 'JOB_RECORD_INVALID' } });
    expect(jobs.get('job_lost').error?.message).toMatch(/to: .*expected number/);
    expect(jobs.get('job_garbled')).toMatchObject({ status: 'failed', error: { code: 'JOB_RECORD_INVALID' } });
    expect(jobs.get('job_garbled').error?.message).toMatch(/not JSON/);
    expect((await jobs.wait('job_good')).status).toBe('completed');
    expect(steps('job_good')).toEqual(range(6));
    expect(logger.warnings.filter((w) => w.includes('job_lost'))).toHaveLength(1);
    expect(logger.warnings.filter((w) => w.includes('job_garbled'))).toHaveLength(1);
    // The list, which the UI polls, still reads every row.
    expect(jobs.list().map((j) => j.id).sort()).toEqual(['job_garbled', 'job_good', 'job_lost']);
  });

  it('resuming a job with bad params fails it again with the same code; what it kept is deleted', async () => {
    writeRow(db, { id: 'job_lost', kind: 'count', params: '{}', status: 'paused', checkpoint: '{"next":2}' });
    jobs.resume('job_lost');
    expect(await jobs.wait('job_lost')).toMatchObject({ status: 'failed', error: { code: 'JOB_RECORD_INVALID' } });
    expect(discarded).toEqual(['job_lost']);
    jobs.resume('job_lost');
    expect(await jobs.wait('job_lost')).toMatchObject({ status: 'failed', error: { code: 'JOB_RECORD_INVALID' } });
    expect(logger.warnings.filter((w) => w.includes('job_lost'))).toHaveLength(2);
  });

  it('cancelling a paused job whose params cannot be read still deletes what it kept', () => {
    writeRow(db, { id: 'job_paused', kind: 'count', params: '[1,2]', status: 'paused' });
    jobs.cancel('job_paused');
    expect(jobs.get('job_paused').status).toBe('cancelled');
    expect(discarded).toEqual(['job_paused']);
  });

  it('a checkpoint of the wrong shape fails the job, drops what it kept, and resuming starts it over', async () => {
    countingJob(db);
    writeRow(db, { id: 'job_cp', kind: 'count', params: '{"to":5}', status: 'running', checkpoint: '{"nxt":"3"}' });
    jobs.recover();
    const failed = jobs.get('job_cp');
    expect(failed).toMatchObject({ status: 'failed', error: { code: 'JOB_RECORD_INVALID' } });
    expect(failed.error?.message).toMatch(/Resume it to start over/);
    expect(discarded).toEqual(['job_cp']);
    expect((db.prepare('SELECT checkpoint_json AS c FROM jobs WHERE id = ?').get('job_cp') as { c: string | null }).c).toBeNull();

    jobs.resume('job_cp');
    expect((await jobs.wait('job_cp')).status).toBe('completed');
    expect(steps('job_cp')).toEqual(range(5));
  });

  it('a kind that saves no checkpoint fails a job that holds one', async () => {
    const ran: string[] = [];
    jobs.register(testKind('plain'), { params: z.object({ n: z.number() }), title: () => 'Plain', resumable: true, run: async (_p, ctx) => void ran.push(ctx.jobId) });
    writeRow(db, { id: 'job_plain', kind: 'plain', params: '{"n":1}', status: 'queued', checkpoint: '{"anything":true}' });
    jobs.recover();
    expect(jobs.get('job_plain')).toMatchObject({ status: 'failed', error: { code: 'JOB_RECORD_INVALID' } });
    expect(ran).toEqual([]);
  });

  it('unreadable byte counts read as none, with one warning however often the list is read', () => {
    writeRow(db, { id: 'job_bytes', kind: 'count', params: '{"to":1}', status: 'completed', bytes: '{"done":"many"}' });
    writeRow(db, { id: 'job_fine', kind: 'count', params: '{"to":1}', status: 'completed', bytes: '{"done":5,"total":10,"perSecond":null,"etaSeconds":null}' });
    for (let i = 0; i < 3; i++) {
      const list = jobs.list();
      expect(list.find((j) => j.id === 'job_bytes')?.bytes).toBeNull();
      expect(list.find((j) => j.id === 'job_fine')?.bytes).toEqual({ done: 5, total: 10, perSecond: null, etaSeconds: null });
    }
    expect(logger.warnings.filter((w) => w.includes('job_bytes'))).toHaveLength(1);
  });

  it('find() passes over jobs whose params cannot be read instead of throwing in the matcher', () => {
    writeRow(db, { id: 'job_null', kind: 'count', params: 'null', status: 'paused' });
    writeRow(db, { id: 'job_ok', kind: 'count', params: '{"to":9}', status: 'paused' });
    const found = jobs.find<{ to: number }>(COUNTING_KIND, ['paused'], (p) => p.to === 9);
    expect(found?.id).toBe('job_ok');
    expect(jobs.find<{ to: number }>(COUNTING_KIND, ['paused'], (p) => p.to > 100)).toBeNull();
  });

  it('start refuses params that do not match the kind, and stores nothing', () => {
    expect(() => jobs.start(COUNTING_KIND, { to: 'ten' })).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(jobs.list()).toEqual([]);
  });

  it('a checkpoint of the wrong shape is refused when saved: the job fails with JOB_RECORD_INVALID', async () => {
    jobs.register<{ n: number }, { at: number }>(testKind('sloppy'), {
      params: z.object({ n: z.number() }),
      checkpoint: z.object({ at: z.number() }),
      title: () => 'Sloppy',
      resumable: true,
      run: async (_p, ctx) => ctx.saveCheckpoint({ at: 'here' } as unknown as { at: number }),
    });
    const job = jobs.start(testKind('sloppy'), { n: 1 });
    const done = await jobs.wait(job.id);
    expect(done).toMatchObject({ status: 'failed', error: { code: 'JOB_RECORD_INVALID' } });
    expect((db.prepare('SELECT checkpoint_json AS c FROM jobs WHERE id = ?').get(job.id) as { c: string | null }).c).toBeNull();
  });
});
