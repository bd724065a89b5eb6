import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FileHashRepository, FileStamp } from '../storage/fileHashRepository';

/** sha256 of a file, read in 1 MiB chunks (lower-case hex). */
export async function sha256File(path: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024, signal })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

async function stampOf(path: string): Promise<FileStamp> {
  const info = await stat(path);
  return { sizeBytes: info.size, mtimeMs: info.mtimeMs };
}

/**
 * Model files' sha256, computed once per file and kept in SQLite (valid while the file's size and
 * mtime are unchanged). A download whose published sha256 was verified records it, so it is never
 * read through again. Concurrent asks for one file share one read.
 */
export class ModelFileHashes {
  private readonly running = new Map<string, Promise<{ sha256: string; sizeBytes: number }>>();

  constructor(private readonly repo: FileHashRepository) {}

  /** The file's sha256 and size, from the cache when the file has not changed, else read now. */
  async hash(path: string): Promise<{ sha256: string; sizeBytes: number }> {
    const stamp = await stampOf(path);
    const cached = this.repo.get(path, stamp);
    if (cached) return { sha256: cached, sizeBytes: stamp.sizeBytes };
    let running = this.running.get(path);
    if (!running) {
      running = (async () => {
        const sha256 = await sha256File(path);
        const after = await stampOf(path);
        // Changed while it was read: the hash belongs to no version of the file, so it is not kept.
        if (after.sizeBytes === stamp.sizeBytes && after.mtimeMs === stamp.mtimeMs) this.repo.put(path, stamp, sha256);
        return { sha256, sizeBytes: stamp.sizeBytes };
      })().finally(() => this.running.delete(path));
      this.running.set(path, running);
    }
    return running;
  }

  /** Records a sha256 already verified (a download checked against its published hash). */
  async record(path: string, sha256: string): Promise<void> {
    this.repo.put(path, await stampOf(path), sha256.toLowerCase());
  }
}
