import { closeSync, fsync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../storage/privateDataDir';
import { syncDirectory } from './carFile';
import { LocalBlockStore } from './localBlockStore';
import type { Block } from './types';

const fsyncFd = promisify(fsync);

/** Flushes in flight at once: they join the same journal commit instead of queueing for one each. */
const FLUSH_PARALLEL = 16;

/**
 * The sealed blocks a restore keeps for the new directory's vault, written into its staging
 * folder in the local block store's layout (`<cid's last two characters>/<cid>`), so the store
 * there reads them as its own once the folder moves into place.
 *
 * A local block store flushes every block before its rename, because its folder is live. Here
 * nothing reads the folder before the restore is done, so a block is written and renamed into
 * place at once, and flush() makes the blocks written since the last flush durable together, in
 * parallel (the journal commits them in a few batches instead of one commit per block). The
 * restore calls flush() before it saves progress that depends on the blocks and before the
 * folder moves into place, so neither a saved resume point nor the restored vault names a block
 * that a power cut could take back. A block this run did not write is never trusted: one left
 * by an earlier, interrupted run (maybe unflushed when the machine went down) is written again.
 */
export class RestoredBlocks {
  /** The store over the same folder: sizes for the record, and what the vault reads later. */
  readonly store: LocalBlockStore;
  private readonly written = new Set<string>();
  private readonly madeDirs = new Set<string>();
  private readonly unflushedFiles: string[] = [];
  private readonly unflushedDirs = new Set<string>();

  constructor(private readonly dir: string) {
    this.store = new LocalBlockStore(dir);
  }

  async put(block: Block): Promise<void> {
    const cid = block.cid.toString();
    if (this.written.has(cid)) return;
    const fanOut = join(this.dir, cid.slice(-2));
    if (!this.madeDirs.has(fanOut)) {
      // Folders 0700 and files 0600, as the local block store makes them.
      if ((await mkdir(fanOut, { recursive: true, mode: PRIVATE_DIR_MODE })) !== undefined) this.unflushedDirs.add(this.dir);
      this.madeDirs.add(fanOut);
    }
    const path = join(fanOut, cid);
    const temp = `${path}.tmp`;
    // Written in place: a write into the page cache of a local file takes microseconds, less
    // than a round trip through the thread pool; the flushes, which wait on the disk, do not.
    const fd = openSync(temp, 'w', PRIVATE_FILE_MODE);
    try {
      for (let done = 0; done < block.bytes.length; ) done += writeSync(fd, block.bytes, done, block.bytes.length - done);
    } catch (error) {
      closeSync(fd);
      rmSync(temp, { force: true });
      throw error;
    }
    closeSync(fd);
    renameSync(temp, path);
    this.written.add(cid);
    this.unflushedFiles.push(path);
    this.unflushedDirs.add(fanOut);
  }

  /** Makes every block written so far durable: the files, then the folders they were renamed into. */
  async flush(): Promise<void> {
    const files = this.unflushedFiles.splice(0);
    await inParallel(files, async (path) => {
      const fd = openSync(path, 'r');
      try {
        await fsyncFd(fd);
      } finally {
        closeSync(fd);
      }
    });
    const dirs = [...this.unflushedDirs];
    this.unflushedDirs.clear();
    await inParallel(dirs, syncDirectory);
  }
}

async function inParallel<T>(items: readonly T[], run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await run(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(FLUSH_PARALLEL, items.length) }, worker));
}
