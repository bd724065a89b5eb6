import { z } from 'zod';
import type { JobBytes, JobInfo, JobKind, JobStatus } from '#contract/dto';
import { isErrorCode, type ErrorData } from '#contract/errors';
import { createConsoleLogger, type Logger } from '../common/logger';
import type { Db } from './database';
import { StoredJsonReader } from './storedJson';

/**
 * A job as stored. Its params and checkpoint stay JSON text here: only the job's kind knows
 * their shape, so the JobManager checks them against the kind's schemas when a run reads them.
 */
export interface JobRow extends JobInfo {
  paramsJson: string;
  /** null when no checkpoint was saved. */
  checkpointJson: string | null;
}

interface RawJob {
  id: string;
  /** Written by JobManager.start, which takes only the contract's kinds. */
  kind: JobKind;
  title: string;
  params_json: string;
  checkpoint_json: string | null;
  status: JobStatus;
  progress: number | null;
  detail: string | null;
  error_code: string | null;
  error_message: string | null;
  bytes_json: string | null;
  created_at: number;
  updated_at: number;
}

const count = z.number().nonnegative().nullable();
const jobBytesSchema = z.object({ done: z.number().nonnegative(), total: count, perSecond: count, etaSeconds: count }) satisfies z.ZodType<JobBytes>;

export class JobRepository {
  private readonly stored: StoredJsonReader;

  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
    logger: Logger = createConsoleLogger('warn'),
  ) {
    this.stored = new StoredJsonReader(logger);
  }

  private fromRaw(r: RawJob): JobRow {
    return {
      id: r.id,
      kind: r.kind,
      title: r.title,
      status: r.status,
      progress: r.progress,
      detail: r.detail,
      // Fallback: unreadable byte counts read as none (they only describe progress); the next progress report rewrites them.
      bytes: r.bytes_json === null ? null : this.stored.read(jobBytesSchema, r.bytes_json, `The byte counts of job ${r.id}`, null, 'showing none'),
      // A code this version does not know (written by a newer one) reads as INTERNAL.
      error: r.error_code ? { code: isErrorCode(r.error_code) ? r.error_code : 'INTERNAL', message: r.error_message ?? '' } : null,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      paramsJson: r.params_json,
      checkpointJson: r.checkpoint_json,
    };
  }

  insert(job: { id: string; kind: JobKind; title: string; params: unknown }): JobRow {
    const now = this.now();
    this.db
      .prepare(
        `INSERT INTO jobs (id, kind, title, params_json, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, 'queued', ?, ?)`,
      )
      .run(job.id, job.kind, job.title, JSON.stringify(job.params ?? null), now, now);
    return this.get(job.id)!;
  }

  get(id: string): JobRow | undefined {
    const row = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as RawJob | undefined;
    return row && this.fromRaw(row);
  }

  list(limit = 200): JobRow[] {
    return (this.db.prepare('SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?').all(limit) as RawJob[]).map((r) =>
      this.fromRaw(r),
    );
  }

  withStatus(...statuses: JobStatus[]): JobRow[] {
    const marks = statuses.map(() => '?').join(', ');
    return (
      this.db.prepare(`SELECT * FROM jobs WHERE status IN (${marks}) ORDER BY created_at, rowid`).all(...statuses) as RawJob[]
    ).map((r) => this.fromRaw(r));
  }

  /** checkpoint: a value to save, or null to drop the saved one; left out, it is kept. */
  update(
    id: string,
    patch: {
      status?: JobStatus;
      progress?: number | null;
      detail?: string | null;
      bytes?: JobBytes | null;
      error?: ErrorData | null;
      checkpoint?: unknown;
    },
  ): JobRow {
    const current = this.get(id);
    if (!current) throw new Error(`job ${id} vanished`);
    const { checkpoint, ...rest } = patch;
    const next = { ...current, ...rest };
    const checkpointJson =
      checkpoint === undefined ? current.checkpointJson : checkpoint === null ? null : JSON.stringify(checkpoint);
    this.db
      .prepare(
        `UPDATE jobs SET status = ?, progress = ?, detail = ?, bytes_json = ?, error_code = ?, error_message = ?,
           checkpoint_json = ?, updated_at = ? WHERE id = ?`,
      )
      .run(
        next.status,
        next.progress,
        next.detail,
        next.bytes === null ? null : JSON.stringify(next.bytes),
        next.error?.code ?? null,
        next.error?.message ?? null,
        checkpointJson,
        this.now(),
        id,
      );
    return this.get(id)!;
  }
}
