import type { JobStatus } from '#contract/dto';
import { toErrorData } from '../common/hearthError';
import type { Logger } from '../common/logger';
import type { JobRepository, JobRow } from '../storage/jobRepository';

type JobPatch = Parameters<JobRepository['update']>[1];

/** How often states that could not be written are tried again while some are waiting. */
const RETRY_MS = 5000;

/**
 * The job table, with a memory for what could not be written. A job's state must move on
 * even when SQLite cannot take it (a full disk, a read-only file): a job that cannot record
 * "failed" must still fail, and cancel must still cancel. So a state change whose write fails
 * is kept here, read back in place of the stale row, logged once per job, and written when a
 * later write succeeds or on a timer. The checkpoint is the one thing not kept: a checkpoint
 * that cannot be saved throws, since resuming from one that was never saved would be wrong.
 */
export class JobStateStore {
  private readonly unsaved = new Map<string, JobRow>();
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly repo: JobRepository,
    private readonly logger: Logger,
    private readonly now: () => number = Date.now,
  ) {}

  insert(job: Parameters<JobRepository['insert']>[0]): JobRow {
    const row = this.repo.insert(job);
    this.retry();
    return row;
  }

  get(id: string): JobRow | undefined {
    return this.unsaved.get(id) ?? this.repo.get(id);
  }

  list(): JobRow[] {
    return this.repo.list().map((row) => this.unsaved.get(row.id) ?? row);
  }

  withStatus(...statuses: JobStatus[]): JobRow[] {
    const rows = new Map(this.repo.withStatus(...statuses).map((row) => [row.id, row]));
    for (const [id, row] of this.unsaved) {
      if (statuses.includes(row.status)) rows.set(id, row);
      else rows.delete(id);
    }
    return [...rows.values()].sort((a, b) => a.createdAt - b.createdAt);
  }

  /** Saves the change, or keeps it in memory when it cannot be written; returns the job as it now is. */
  update(id: string, patch: JobPatch): JobRow {
    const kept = this.unsaved.get(id);
    const { checkpoint, ...state } = patch;
    if (checkpoint !== undefined) {
      // Written on its own: a checkpoint that cannot be saved must fail the job.
      const row = this.repo.update(id, { checkpoint });
      if (!kept && Object.keys(state).length === 0) return row;
    }
    const full = kept ? { ...stateOf(kept), ...state } : state;
    try {
      const row = this.repo.update(id, full);
      if (kept) this.unsaved.delete(id);
      this.retry();
      return row;
    } catch (error) {
      const base = kept ?? this.repo.get(id);
      if (!base) throw error;
      if (!kept) {
        const { code, message } = toErrorData(error);
        this.logger.warn(`job ${id}: its state could not be saved (${code}: ${message}); kept in memory and saved when possible`);
      }
      const row: JobRow = { ...base, ...state, updatedAt: this.now() };
      this.unsaved.set(id, row);
      this.schedule();
      return row;
    }
  }

  /** Stops the retry timer; what is still unsaved is tried once more. */
  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.retry();
  }

  /** Writes what is waiting; stops at the first write that still fails. */
  private retry(): void {
    for (const [id, row] of this.unsaved) {
      try {
        this.repo.update(id, stateOf(row));
      } catch {
        this.schedule();
        return;
      }
      this.unsaved.delete(id);
      this.logger.info(`job ${id}: its state is saved now`);
    }
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.retry();
    }, RETRY_MS);
    this.timer.unref?.();
  }
}

function stateOf(row: JobRow): Omit<JobPatch, 'checkpoint'> {
  return { status: row.status, progress: row.progress, detail: row.detail, bytes: row.bytes, error: row.error };
}
