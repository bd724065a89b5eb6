import { randomUUID } from 'node:crypto';
import { closeSync, fstatSync, fsync, mkdirSync, openSync, readFileSync, readSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { readdir, rm, stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { join } from 'node:path';
import type { CID } from 'multiformats/cid';
import { isDiskFull } from '../common/fsErrors';
import { HearthError } from '../common/hearthError';
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from '../storage/privateDataDir';
import { syncDirectory } from './carFile';
import type { Block, BlockFetcher } from './types';

const fsyncFd = promisify(fsync);

/** Folder flushes in flight at once (they wait on the disk, not the CPU). */
const SYNC_PARALLEL = 16;

/**
 * The sealed blocks of this machine's snapshots, one file per block named by its CID (under a
 * two-character fan-out folder). Blocks are immutable, so a write that finds the file there
 * is done; writes go through a temp file that is flushed to the disk (fsync) before it is
 * renamed into place, so a block's name never stands for half a block, even after a power
 * cut. The renames become durable when sync() flushes the folders they happened in: callers
 * sync() before they record anything that names the blocks.
 */
export class LocalBlockStore implements BlockFetcher {
  readonly description: string;
  /** Fan-out folders this store has made or seen, so each put does not mkdir again. */
  private readonly madeDirs = new Set<string>();
  /** Folders with renames (or new fan-out folders) not yet flushed. */
  private readonly unsynced = new Set<string>();

  constructor(private readonly dir: string) {
    this.description = `the local block store ${dir}`;
  }

  private pathOf(cid: string): string {
    return join(this.dir, cid.slice(-2), cid);
  }

  /** Whether the blocks folder is there at all (it can be deleted under a running app). */
  async present(): Promise<boolean> {
    return stat(this.dir).then(
      (info) => info.isDirectory(),
      () => false,
    );
  }

  /**
   * Throws INTEGRITY_ERROR when any of the blocks is not here (one stat each), so a publish of a
   * snapshot whose blocks were deleted under the app says so before packing anything.
   */
  async requireAll(cids: Iterable<string>, what: string): Promise<void> {
    let lost = 0;
    for (const cid of cids) if (!(await this.has(cid))) lost++;
    if (lost > 0) {
      throw new HearthError(
        'INTEGRITY_ERROR',
        `${what} cannot be published: ${lost} of its blocks are missing from ${this.description}; take a new snapshot and publish that.`,
      );
    }
  }

  async has(cid: CID | string): Promise<boolean> {
    return this.hasSync(cid.toString());
  }

  /** One stat of a local file (microseconds): made in place rather than through the thread pool. */
  private hasSync(cid: string): boolean {
    return this.sizeSync(cid) !== null;
  }

  private sizeSync(cid: string): number | null {
    try {
      return statSync(this.pathOf(cid), { throwIfNoEntry: false })?.size ?? null;
    } catch {
      return null;
    }
  }

  /**
   * Stores the block; false when it was already there. `fresh`: the block was just sealed under
   * a random nonce, so no block of that CID can exist yet and the look-up is skipped.
   *
   * The small calls (open, write into the page cache, close, rename) are made synchronously:
   * each takes microseconds, while a round trip through the thread pool costs more than the
   * call itself, thousands of times per snapshot. Only the flush (fsync), which waits on the
   * disk, goes to the thread pool, so the next blocks are sealed while it waits.
   *
   * Everything before the flush runs within the call: `block.bytes` are written out before put
   * returns its promise, so a caller may seal the next block into the same buffer at once.
   */
  async put(block: Block, fresh = false): Promise<boolean> {
    const cid = block.cid.toString();
    const path = this.pathOf(cid);
    if (!fresh && this.hasSync(cid)) return false;
    const fanOut = join(this.dir, cid.slice(-2));
    if (!this.madeDirs.has(fanOut)) this.makeFanOut(fanOut);
    const temp = `${path}.${randomUUID()}.tmp`;
    let fd: number;
    try {
      fd = openSync(temp, 'wx', PRIVATE_FILE_MODE);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // The folder was deleted under the running app since this store made it.
      this.makeFanOut(fanOut);
      fd = openSync(temp, 'wx', PRIVATE_FILE_MODE);
    }
    try {
      for (let done = 0; done < block.bytes.length; ) done += writeSync(fd, block.bytes, done, block.bytes.length - done);
      await fsyncFd(fd);
    } catch (error) {
      closeSync(fd);
      rmSync(temp, { force: true });
      if (isDiskFull(error)) {
        throw new HearthError('DISK_FULL', `The disk holding ${this.dir} is full; free some space and take the snapshot again.`, { cause: error });
      }
      throw error;
    }
    closeSync(fd);
    renameSync(temp, path);
    this.unsynced.add(fanOut);
    return true;
  }

  /** Synchronous like the other small calls of put (at most 256 folders per store). */
  private makeFanOut(fanOut: string): void {
    // A new fan-out folder is an entry in the store's folder: that needs flushing too.
    // Folders 0700 and files 0600 from the start: the data directory's privacy pass after the job then has nothing to chmod.
    if (mkdirSync(fanOut, { recursive: true, mode: PRIVATE_DIR_MODE }) !== undefined) this.unsynced.add(this.dir);
    this.madeDirs.add(fanOut);
  }

  /** Makes every put so far durable: flushes the folders the blocks were renamed into. */
  async sync(): Promise<void> {
    const dirs = [...this.unsynced];
    this.unsynced.clear();
    for (let i = 0; i < dirs.length; i += SYNC_PARALLEL) await Promise.all(dirs.slice(i, i + SYNC_PARALLEL).map(syncDirectory));
  }

  /** A block is at most a few MiB of a local file, read in place (see put). */
  async get(cid: CID): Promise<Uint8Array> {
    try {
      return readFileSync(this.pathOf(cid.toString()));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new HearthError('NOT_FOUND', `Block ${cid} is missing from ${this.description}; take a new snapshot.`);
      }
      throw error;
    }
  }

  /**
   * The block read into `scratch` when it fits (a view of it, valid until scratch is reused),
   * else into a new buffer: a publish reads thousands of blocks in a row without allocating one
   * buffer per block.
   */
  read(cid: CID, scratch: Uint8Array): Uint8Array {
    let fd: number;
    try {
      fd = openSync(this.pathOf(cid.toString()), 'r');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new HearthError('NOT_FOUND', `Block ${cid} is missing from ${this.description}; take a new snapshot.`);
      }
      throw error;
    }
    try {
      const size = fstatSync(fd).size;
      const into = size <= scratch.length ? scratch.subarray(0, size) : new Uint8Array(size);
      let done = 0;
      while (done < size) {
        const n = readSync(fd, into, done, size - done, done);
        if (n === 0) break;
        done += n;
      }
      return into.subarray(0, done);
    } finally {
      closeSync(fd);
    }
  }

  /** The stored block's size in bytes, or null when it is not here. */
  async size(cid: string): Promise<number | null> {
    return this.sizeSync(cid);
  }

  async delete(cids: Iterable<string>): Promise<void> {
    for (const cid of cids) await rm(this.pathOf(cid), { force: true });
  }

  /**
   * Every file in the store, for check and gc: blocks by CID, and the `.tmp` files of writes a
   * killed process never finished (`temp`); with their sizes.
   */
  async listFiles(): Promise<StoredFile[]> {
    const out: StoredFile[] = [];
    const fanOut = await readdir(this.dir, { withFileTypes: true }).catch(() => []);
    for (const folder of fanOut) {
      if (!folder.isDirectory()) continue;
      for (const name of await readdir(join(this.dir, folder.name)).catch(() => [] as string[])) {
        const path = join(this.dir, folder.name, name);
        const size = await stat(path).then(
          (info) => (info.isFile() ? info.size : null),
          () => null,
        );
        if (size !== null) out.push({ name, path, size, temp: name.endsWith('.tmp') });
      }
    }
    return out;
  }
}

export interface StoredFile {
  /** The file name: a block's CID, or a temp file's name. */
  name: string;
  path: string;
  size: number;
  temp: boolean;
}
