import type { z } from 'zod';
import type { JobBytes, JobInfo, JobKind as KindName, JobStatus } from '#contract/dto';
import { IntervalGate } from '../common/async';
import { HearthError, isAbortError, toErrorData } from '../common/hearthError';
import { newId } from '../common/ids';
import type { Logger } from '../common/logger';
import type { JobRepository, JobRow } from '../storage/jobRepository';
import { JobStateStore } from './jobStateStore';
import { decodeJson, describeIssues, type Decoded } from '../storage/storedJson';

export interface JobContext<C> {
  readonly jobId: string;
  readonly signal: AbortSignal;
  /** The last checkpoint saved by an earlier run of this job, or null on a first run. */
  readonly checkpoint: C | null;
  /** progress is 0..1 or null when unknown. Cheap to call often: writes are throttled. */
  onProgress(progress: number | null, detail?: string, bytes?: JobBytes | null): void;
  /** Persists how far the job got, so a resumed run can continue from there. */
  saveCheckpoint(checkpoint: C): void;
}

export interface JobKind<P, C = unknown> {
  /**
   * The shape of the params. They are checked on start, and again each time a run reads them
   * back from SQLite (after a crash, a quit or an upgrade): a record that does not match fails
   * its job with JOB_RECORD_INVALID instead of failing later on a missing field.
   */
  params: z.ZodType<P>;
  /** The shape of a checkpoint, checked when saved and when read back; kinds that save none leave it out. */
  checkpoint?: z.ZodType<C>;
  title(params: P): string;
  /** Resumable jobs are restarted after a crash or quit; others are marked interrupted. */
  resumable: boolean;
  run(params: P, context: JobContext<C>): Promise<void>;
  /**
   * Called once a job ends cancelled, whether it was running or not (a paused download is
   * cancelled without running), to delete what it kept for a resume. Synchronous, so the
   * leftovers are gone when cancel() or wait() returns. Also called when a job's record cannot
   * be read back (see JobManager.failUnreadable); params is null when they are what is unreadable.
   */
  discard?(params: P | null, jobId: string): void;
}

type StopReason = 'cancel' | 'pause' | 'shutdown';

const toInfo = ({ paramsJson: _p, checkpointJson: _c, ...info }: JobRow): JobInfo => info;

/** A job's params and checkpoint as read back, checked against its kind's schemas. */
type JobRecord = { ok: true; params: unknown; checkpoint: unknown } | { ok: false; part: 'params' | 'checkpoint'; problem: string };

/**
 * Runs long work as jobs: an id at once, progress and the final status on one event stream,
 * cancel and pause through an AbortSignal, state in SQLite so a restart can resume.
 */
export class JobManager {
  private readonly kinds = new Map<KindName, JobKind<unknown, unknown>>();
  private readonly running = new Map<string, { controller: AbortController; done: Promise<void> }>();
  private readonly stopReasons = new Map<string, StopReason>();
  private readonly waiters = new Map<string, ((job: JobInfo) => void)[]>();
  /** The job table; a state it cannot write (a full disk) is kept in memory, so jobs still end. */
  private readonly store: JobStateStore;

  constructor(
    repo: JobRepository,
    private readonly logger: Logger,
    private readonly onUpdate: (job: JobInfo) => void,
    private readonly progressIntervalMs = 100,
  ) {
    this.store = new JobStateStore(repo, logger);
  }

  register<P, C>(kind: KindName, definition: JobKind<P, C>): void {
    this.kinds.set(kind, definition as JobKind<unknown, unknown>);
  }

  /**
   * Call once at start-up, after every kind is registered: jobs that were running or queued
   * when the process ended resume if their kind can, and are marked interrupted otherwise.
   */
  recover(): void {
    for (const row of this.store.withStatus('running', 'queued')) {
      const kind = this.kinds.get(row.kind);
      if (kind?.resumable) {
        this.logger.info(`resuming job ${row.id} (${row.kind})`);
        this.launch(row.id);
      } else {
        this.publish(
          this.store.update(row.id, {
            status: 'interrupted',
            error: { code: 'CANCELLED', message: 'Interrupted when Hearth stopped; start it again.' },
          }),
        );
      }
    }
  }

  start<P>(kind: KindName, params: P): JobInfo {
    const definition = this.kinds.get(kind);
    if (!definition) throw new HearthError('BAD_INPUT', `Unknown job kind "${kind}"`);
    const checked = definition.params.safeParse(params);
    if (!checked.success) throw new HearthError('BAD_INPUT', `Bad parameters for a "${kind}" job: ${describeIssues(checked.error)}`);
    const row = this.store.insert({ id: newId('job'), kind, title: definition.title(checked.data), params: checked.data });
    this.publish(row);
    this.launch(row.id);
    return toInfo(row);
  }

  /**
   * The newest job of a kind, in one of the statuses, whose params match: to join work already
   * under way. Jobs whose params cannot be read back never match.
   */
  find<P>(kind: KindName, statuses: readonly JobStatus[], match: (params: P) => boolean): JobInfo | null {
    const schema = this.kinds.get(kind)?.params;
    if (!schema) return null;
    const rows = this.store.withStatus(...statuses).filter((row) => {
      if (row.kind !== kind) return false;
      const params = decodeJson(schema, row.paramsJson);
      return params.ok && match(params.value as P);
    });
    const newest = rows.at(-1);
    return newest ? toInfo(newest) : null;
  }

  list(): JobInfo[] {
    return this.store.list().map(toInfo);
  }

  get(id: string): JobInfo {
    const row = this.store.get(id);
    if (!row) throw new HearthError('JOB_NOT_FOUND', `No job with id ${id}`);
    return toInfo(row);
  }

  cancel(id: string): void {
    const row = this.store.get(id);
    if (!row) throw new HearthError('JOB_NOT_FOUND', `No job with id ${id}`);
    if (this.running.has(id)) return this.stop(id, 'cancel');
    // A job marked running that runs nowhere in this process (its end could not be recorded) is cancelled too.
    if (row.status === 'paused' || row.status === 'queued' || row.status === 'interrupted' || row.status === 'running') {
      this.discard(row);
      this.finish(id, this.store.update(id, { status: 'cancelled' }));
    }
  }

  pause(id: string): void {
    if (!this.store.get(id)) throw new HearthError('JOB_NOT_FOUND', `No job with id ${id}`);
    if (this.running.has(id)) this.stop(id, 'pause');
  }

  resume(id: string): void {
    const row = this.store.get(id);
    if (!row) throw new HearthError('JOB_NOT_FOUND', `No job with id ${id}`);
    if (row.status === 'paused' || row.status === 'interrupted' || row.status === 'failed') this.launch(id);
  }

  /** Resolves with the job's final state (completed, failed, cancelled, paused or interrupted). */
  wait(id: string): Promise<JobInfo> {
    const row = this.store.get(id);
    if (!row) return Promise.reject(new HearthError('JOB_NOT_FOUND', `No job with id ${id}`));
    if (!this.running.has(id) && row.status !== 'queued' && row.status !== 'running') return Promise.resolve(toInfo(row));
    return new Promise((resolve) => this.waiters.set(id, [...(this.waiters.get(id) ?? []), resolve]));
  }

  /** Stops running jobs for a quit: resumable ones stay queued so the next start resumes them. */
  async shutdown(): Promise<void> {
    const runs = [...this.running.entries()];
    for (const [id] of runs) this.stop(id, 'shutdown');
    await Promise.all(runs.map(([, run]) => run.done));
    this.store.dispose();
  }

  private stop(id: string, reason: StopReason): void {
    this.stopReasons.set(id, reason);
    this.running.get(id)?.controller.abort(new HearthError('CANCELLED', `Job ${reason}`));
  }

  private launch(id: string): void {
    const row = this.store.get(id);
    const kind = row && this.kinds.get(row.kind);
    if (!row || !kind || this.running.has(id)) return;
    const record = this.readRecord(row, kind);
    if (!record.ok) return this.failUnreadable(row, record);
    const controller = new AbortController();
    const writes = new IntervalGate(this.progressIntervalMs);
    let pending: { progress: number | null; detail: string | null; bytes?: JobBytes | null } | null = null;
    const flushProgress = () => {
      if (!pending || !this.running.has(id)) return;
      writes.pass();
      this.publish(this.store.update(id, pending));
      pending = null;
    };
    const context: JobContext<unknown> = {
      jobId: id,
      signal: controller.signal,
      checkpoint: record.checkpoint,
      onProgress: (progress, detail, bytes) => {
        // bytes undefined keeps the last figures; null clears them (a step that moves no bytes).
        pending = { progress, detail: detail ?? null, ...(bytes !== undefined ? { bytes } : {}) };
        if (writes.ready()) flushProgress();
      },
      saveCheckpoint: (checkpoint) => {
        const checked = kind.checkpoint?.safeParse(checkpoint);
        if (!checked?.success) {
          const problem = checked ? describeIssues(checked.error) : 'its kind declares no checkpoint schema';
          throw new HearthError('JOB_RECORD_INVALID', `Job ${id} (${row.kind}) tried to save a checkpoint it could not read back: ${problem}`);
        }
        this.store.update(id, { checkpoint: checked.data });
      },
    };
    this.stopReasons.delete(id); // a stop asked of an earlier run is not this run's
    this.publish(this.store.update(id, { status: 'running', error: null }));
    const done = (async () => {
      try {
        await kind.run(record.params, context);
        flushProgress();
        this.finish(id, this.store.update(id, { status: 'completed', progress: 1 }));
      } catch (error) {
        flushProgress();
        const reason = this.stopReasons.get(id);
        if (reason && (isAbortError(error) || controller.signal.aborted)) {
          const status = reason === 'cancel' ? 'cancelled' : reason === 'pause' ? 'paused' : kind.resumable ? 'queued' : 'interrupted';
          if (status === 'cancelled') this.discard(row, record.params);
          this.finish(id, this.store.update(id, { status }));
        } else {
          this.logger.warn(`job ${id} (${row.kind}) failed`, error);
          this.finish(id, this.store.update(id, { status: 'failed', error: toErrorData(error) }));
        }
      }
    })();
    const run = { controller, done };
    this.running.set(id, run);
    void done.finally(() => {
      // finish() already let waiters go, and one of them may have launched the job again:
      // only this run's own entry is removed, never its successor's.
      if (this.running.get(id) !== run) return;
      this.running.delete(id);
      this.stopReasons.delete(id);
    });
  }

  /** params: the job's params once checked; left out, they are read back from the row (null when unreadable). */
  private discard(row: JobRow, params?: unknown): void {
    const kind = this.kinds.get(row.kind);
    if (!kind?.discard) return;
    let value = params;
    if (value === undefined) {
      const decoded = decodeJson(kind.params, row.paramsJson);
      value = decoded.ok ? decoded.value : null;
    }
    try {
      kind.discard(value, row.id);
    } catch (error) {
      this.logger.warn(`job ${row.id} (${row.kind}): could not delete what it kept`, error);
    }
  }

  /** Reads the params and checkpoint back from the row, checked against the kind's schemas. */
  private readRecord(row: JobRow, kind: JobKind<unknown, unknown>): JobRecord {
    const params = decodeJson(kind.params, row.paramsJson);
    if (!params.ok) return { ok: false, part: 'params', problem: params.problem };
    if (row.checkpointJson === null) return { ok: true, params: params.value, checkpoint: null };
    const checkpoint: Decoded<unknown> = kind.checkpoint
      ? decodeJson(kind.checkpoint, row.checkpointJson)
      : { ok: false, problem: 'a checkpoint is stored, but this kind of job saves none' };
    return checkpoint.ok ? { ok: true, params: params.value, checkpoint: checkpoint.value } : { ok: false, part: 'checkpoint', problem: checkpoint.problem };
  }

  /**
   * A record that cannot be read back fails its job with JOB_RECORD_INVALID and a log line;
   * the other jobs and the app go on. What the job kept for a resume is deleted and its
   * checkpoint dropped: with a bad checkpoint, resuming starts the job over; with bad params it
   * can never run again (resuming fails the same way), and starting the work again makes a new job.
   */
  private failUnreadable(row: JobRow, bad: Extract<JobRecord, { ok: false }>): void {
    this.logger.warn(`job ${row.id} (${row.kind}): its ${bad.part} cannot be read back (${bad.problem}); marking it failed`);
    this.discard(row);
    this.store.update(row.id, { checkpoint: null });
    const message =
      bad.part === 'checkpoint'
        ? `"${row.title}" could not continue: the progress it saved cannot be read (${bad.problem}). Resume it to start over.`
        : `"${row.title}" cannot run: its parameters were stored in a shape this version of Hearth cannot read (${bad.problem}). Start it again.`;
    this.finish(row.id, this.store.update(row.id, { status: 'failed', error: { code: 'JOB_RECORD_INVALID', message } }));
  }

  private finish(id: string, row: JobRow): void {
    const info = toInfo(row);
    this.onUpdate(info);
    this.running.delete(id);
    for (const resolve of this.waiters.get(id) ?? []) resolve(info);
    this.waiters.delete(id);
  }

  private publish(row: JobRow): void {
    this.onUpdate(toInfo(row));
  }
}
