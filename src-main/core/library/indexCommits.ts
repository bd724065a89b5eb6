import type { Processed } from './indexDocument';

/**
 * Finished documents on their way to the index: each is committed (chunks, then its SQLite row)
 * within `maxDelayMs` of finishing, or at once when the waiting batch holds `maxChunks`, so the
 * file list and search see finished files during a run and a crash loses at most those seconds.
 * Writes run one at a time, in order; a failed background write fails the next add or flush.
 */
export class CommitQueue {
  private batch: Processed[] = [];
  private chunks = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private failure: { error: unknown } | null = null;

  constructor(
    private readonly write: (batch: Processed[]) => Promise<void>,
    private readonly maxChunks: number,
    private readonly maxDelayMs = 2000,
  ) {}

  async add(item: Processed): Promise<void> {
    this.throwIfFailed();
    this.batch.push(item);
    this.chunks += item.rows.length;
    if (this.chunks >= this.maxChunks) await this.flush();
    else this.timer ??= setTimeout(() => void this.flush().catch(() => undefined), this.maxDelayMs);
  }

  /** Commits what waits and resolves once every write so far is done. */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.batch;
    this.batch = [];
    this.chunks = 0;
    if (batch.length > 0) {
      this.writing = this.writing.then(() => this.write(batch)).catch((error: unknown) => {
        this.failure ??= { error };
      });
    }
    await this.writing;
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }
}
