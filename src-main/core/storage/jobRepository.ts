import type { JobBytes, JobInfo, JobStatus } from '#contract/dto';
import type { Db } from './database';

export interface JobRow extends JobInfo {
  params: unknown;
  checkpoint: unknown;
}

interface RawJob {
  id: string;
  kind: string;
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

const fromRaw = (r: RawJob): JobRow => ({
  id: r.id,
  kind: r.kind,
  title: r.title,
  status: r.status,
  progress: r.progress,
  detail: r.detail,
  bytes: r.bytes_json === null ? null : (JSON.parse(r.bytes_json) as JobBytes),
  error: r.error_code ? { code: r.error_code, message: r.error_message ?? '' } : null,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  params: JSON.parse(r.params_json) as unknown,
  checkpoint: r.checkpoint_json === null ? null : (JSON.parse(r.checkpoint_json) as unknown),
});

export class JobRepository {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  insert(job: { id: string; kind: string; title: string; params: unknown }): JobRow {
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
    return row && fromRaw(row);
  }

  list(limit = 200): JobRow[] {
    return (this.db.prepare('SELECT * FROM jobs ORDER BY created_at DESC, rowid DESC LIMIT ?').all(limit) as RawJob[]).map(
      fromRaw,
    );
  }

  withStatus(...statuses: JobStatus[]): JobRow[] {
    const marks = statuses.map(() => '?').join(', ');
    return (
      this.db.prepare(`SELECT * FROM jobs WHERE status IN (${marks}) ORDER BY created_at, rowid`).all(...statuses) as RawJob[]
    ).map(fromRaw);
  }

  update(
    id: string,
    patch: {
      status?: JobStatus;
      progress?: number | null;
      detail?: string | null;
      bytes?: JobBytes | null;
      error?: { code: string; message: string } | null;
      checkpoint?: unknown;
    },
  ): JobRow {
    const current = this.get(id);
    if (!current) throw new Error(`job ${id} vanished`);
    const next = { ...current, ...patch };
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
        next.checkpoint === null || next.checkpoint === undefined ? null : JSON.stringify(next.checkpoint),
        this.now(),
        id,
      );
    return this.get(id)!;
  }
}
