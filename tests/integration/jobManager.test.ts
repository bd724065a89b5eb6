import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { JobInfo } from '#contract/dto';
import { createConsoleLogger } from '../../src-main/core/common/logger';
import { JobManager } from '../../src-main/core/jobs/jobManager';
import { openDatabase, type Db } from '../../src-main/core/storage/database';
import { JobRepository } from '../../src-main/core/storage/jobRepository';
import { COUNTING_KIND, countingJob, testKind } from '../support/countingJob';
import { tempDir } from '../support/tempDir';

const logger = createConsoleLogger('silent');
const ONESHOT_KIND = testKind('oneshot');

describe('job manager (real SQLite file)', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let updates: JobInfo[];
  let jobs: JobManager;

  const steps = (jobId: string) =>
    (db.prepare('SELECT n FROM steps WHERE job_id = ? ORDER BY n').all(jobId) as { n: number }[]).map((r) => r.n);
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);

  beforeEach(() => {
    dir = tempDir();
    db = openDatabase(join(dir.path, 'hearth.db'));
    updates = [];
    jobs = new JobManager(new JobRepository(db), logger, (job) => updates.push(job), 0);
    jobs.register(COUNTING_KIND, countingJob(db, 5));
  });
  afterEach(async () => {
    await jobs.shutdown();
    db.close();
    dir.cleanup();
  });

  it('returns an id at once, reports progress, and completes', async () => {
    const job = jobs.start(COUNTING_KIND, { to: 10 });
    expect(job.status).toBe('queued');
    const done = await jobs.wait(job.id);
    expect(done.status).toBe('completed');
    expect(done.progress).toBe(1);
    expect(steps(job.id)).toEqual(range(10));
    const progress = updates.filter((u) => u.id === job.id && u.status === 'running').map((u) => u.progress);
    expect(progress.length).toBeGreaterThan(3);
    expect(progress).toEqual([...progress].sort((a, b) => (a ?? 0) - (b ?? 0)));
    expect(jobs.list()[0]).toMatchObject({ id: job.id, status: 'completed', detail: '10 of 10' });
  });

  it('cancel ends the job as cancelled, not failed', async () => {
    const job = jobs.start(COUNTING_KIND, { to: 1000 });
    await sleep(30);
    jobs.cancel(job.id);
    const done = await jobs.wait(job.id);
    expect(done.status).toBe('cancelled');
    expect(done.error).toBeNull();
    expect(steps(job.id).length).toBeLessThan(1000);
  });

  it('pause keeps the checkpoint and resume continues with no step repeated or missed', async () => {
    const job = jobs.start(COUNTING_KIND, { to: 40 });
    await sleep(50);
    jobs.pause(job.id);
    expect((await jobs.wait(job.id)).status).toBe('paused');
    const before = steps(job.id).length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(40);
    jobs.resume(job.id);
    expect((await jobs.wait(job.id)).status).toBe('completed');
    expect(steps(job.id)).toEqual(range(40));
  });

  it('a failing job ends as failed with an error code and message', async () => {
    const job = jobs.start(COUNTING_KIND, { to: 10, failAt: 3 });
    const done = await jobs.wait(job.id);
    expect(done.status).toBe('failed');
    expect(done.error).toEqual({ code: 'INTERNAL', message: 'failed at 3' });
  });

  it('a failed job resumed the moment its wait resolves keeps its new run under control (cancel stops it)', async () => {
    const FLAKY_KIND = testKind('flaky');
    let runs = 0;
    let abortedRun = false;
    jobs.register<Record<string, never>, never>(FLAKY_KIND, {
      params: z.object({}).strict(),
      title: () => 'Fails once, then runs until stopped',
      resumable: true,
      async run(_params, context) {
        runs++;
        if (runs === 1) throw new Error('first attempt fails');
        while (!context.signal.aborted) await sleep(5);
        abortedRun = true;
        context.signal.throwIfAborted();
      },
    });
    const job = jobs.start(FLAKY_KIND, {});
    expect((await jobs.wait(job.id)).status).toBe('failed');
    jobs.resume(job.id); // in the same turn as the failed run's own clean-up
    await sleep(30);
    jobs.cancel(job.id);
    expect((await jobs.wait(job.id)).status).toBe('cancelled');
    expect(runs).toBe(2);
    expect(abortedRun).toBe(true);
  });

  it('unknown kinds and ids get clear codes', () => {
    expect(() => jobs.start(testKind('nope'), {})).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
    expect(() => jobs.cancel('job_missing')).toThrow(expect.objectContaining({ code: 'JOB_NOT_FOUND' }));
  });

  it('a quit leaves resumable jobs queued, and the next start finishes them', async () => {
    const job = jobs.start(COUNTING_KIND, { to: 30 });
    await sleep(40);
    await jobs.shutdown();
    expect(jobs.get(job.id).status).toBe('queued');
    const next = new JobManager(new JobRepository(db), logger, () => undefined, 0);
    next.register(COUNTING_KIND, countingJob(db, 5));
    next.recover();
    expect((await next.wait(job.id)).status).toBe('completed');
    expect(steps(job.id)).toEqual(range(30));
  });

  it('after kill -9, a restart resumes resumable jobs from their checkpoint and marks others interrupted', async () => {
    const dbPath = join(dir.path, 'hearth.db');
    const child = spawn(process.execPath, ['--import', 'tsx', join(__dirname, '..', 'support', 'jobChild.ts'), dbPath, '200'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const jobId = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString().trim())));
    // Let it make some progress, then kill it without any chance to clean up.
    for (let i = 0; i < 200 && steps(jobId).length < 5; i++) await sleep(20);
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const done = steps(jobId).length;
    expect(done).toBeGreaterThanOrEqual(5);
    expect(done).toBeLessThan(200);

    // A non-resumable job that was running when the process died.
    const repo = new JobRepository(db);
    repo.insert({ id: 'job_other', kind: ONESHOT_KIND, title: 'One shot', params: {} });
    repo.update('job_other', { status: 'running' });

    const next = new JobManager(repo, logger, () => undefined, 0);
    next.register(COUNTING_KIND, countingJob(db, 1));
    next.register(ONESHOT_KIND, { params: z.object({}), title: () => 'One shot', resumable: false, run: async () => undefined });
    next.recover();
    expect(next.get('job_other')).toMatchObject({ status: 'interrupted', error: { code: 'CANCELLED' } });
    expect((await next.wait(jobId)).status).toBe('completed');
    expect(steps(jobId)).toEqual(range(200));
    await next.shutdown();
  });
});
