import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { JobKind as KindName } from '#contract/vocabulary';
import type { JobKind } from '../../src-main/core/jobs/jobManager';
import type { Db } from '../../src-main/core/storage/database';

/** The job manager runs whatever kind it is given: its tests give it kinds the product does not have. */
export const testKind = (name: string): KindName => name as KindName;
export const COUNTING_KIND = testKind('count');

/**
 * A real job for testing the job manager: counts to `to`, recording each step in a SQLite
 * table and its checkpoint together, the way real jobs must, so a resumed run neither
 * repeats nor skips a step.
 */
export function countingJob(db: Db, stepMs = 10, resumable = true): JobKind<{ to: number; failAt?: number }, { next: number }> {
  db.exec('CREATE TABLE IF NOT EXISTS steps (job_id TEXT, n INTEGER, PRIMARY KEY (job_id, n))');
  return {
    params: z.object({ to: z.number().int().nonnegative(), failAt: z.number().int().optional() }),
    checkpoint: z.object({ next: z.number().int().nonnegative() }),
    title: ({ to }) => `Count to ${to}`,
    resumable,
    async run({ to, failAt }, context) {
      for (let n = context.checkpoint?.next ?? 0; n < to; n++) {
        context.signal.throwIfAborted();
        if (n === failAt) throw new Error(`failed at ${n}`);
        await sleep(stepMs);
        db.transaction(() => {
          db.prepare('INSERT INTO steps (job_id, n) VALUES (?, ?)').run(context.jobId, n);
          context.saveCheckpoint({ next: n + 1 });
        })();
        context.onProgress((n + 1) / to, `${n + 1} of ${to}`);
      }
    },
  };
}
