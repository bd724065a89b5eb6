import type { Db } from './database';

/** What a file was when it was hashed: the hash holds while its size and mtime are these. */
export interface FileStamp {
  sizeBytes: number;
  mtimeMs: number;
}

/** Files' sha256 (model files), kept so a large file is read through once, not on every use. */
export class FileHashRepository {
  constructor(
    private readonly db: Db,
    private readonly now: () => number = Date.now,
  ) {}

  /** The sha256 recorded for this path, if the file is still as it was when hashed. */
  get(path: string, stamp: FileStamp): string | null {
    const row = this.db.prepare('SELECT sha256 FROM file_hashes WHERE path = ? AND size_bytes = ? AND mtime_ms = ?').get(path, stamp.sizeBytes, Math.trunc(stamp.mtimeMs)) as
      | { sha256: string }
      | undefined;
    return row?.sha256 ?? null;
  }

  put(path: string, stamp: FileStamp, sha256: string): void {
    this.db
      .prepare(
        `INSERT INTO file_hashes (path, size_bytes, mtime_ms, sha256, hashed_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(path) DO UPDATE SET size_bytes = excluded.size_bytes, mtime_ms = excluded.mtime_ms,
           sha256 = excluded.sha256, hashed_at = excluded.hashed_at`,
      )
      .run(path, stamp.sizeBytes, Math.trunc(stamp.mtimeMs), sha256, this.now());
  }
}
