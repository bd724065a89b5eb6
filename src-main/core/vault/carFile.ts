import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as dagCbor from '@ipld/dag-cbor';
import type { CID } from 'multiformats/cid';
import { fileError, fileProblem } from '../common/fsErrors';
import { HearthError } from '../common/hearthError';
import { openRegularFile } from '../common/regularFile';
import { blockKey, indexCarFile, type BlockLocation } from './carIndexReader';
import type { Block, BlockFetcher, CarFile } from './types';

/** Section heads and block bytes are copied into one buffer of this size and written when it is full. */
const WRITE_BATCH_BYTES = 4 * 1024 * 1024;

/**
 * Streams a CARv1 with one root to `path`: written to `path.part`, flushed, then renamed, so
 * `path` is either absent or complete. The partial file is removed on error or abort.
 *
 * The bytes are those of @ipld/car's writer (a varint-prefixed dag-cbor header `{ version: 1,
 * roots }`, then per block the varint of the CID's and the block's length, the CID, the block),
 * encoded here into one reused batch buffer: no allocation per block, and a block's bytes are
 * copied (or written) before the next block is asked for, so the source may reuse its buffer.
 */
export async function writeCar(
  path: string,
  root: CID,
  blocks: AsyncIterable<Block> | Iterable<Block>,
  options: { signal?: AbortSignal } = {},
): Promise<CarFile> {
  const { signal } = options;
  signal?.throwIfAborted();
  const partial = `${path}.part`;
  let handle: FileHandle;
  try {
    handle = await open(partial, 'w');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new HearthError('FILE_NOT_FOUND', `Cannot write ${path}: the folder ${dirname(path)} does not exist.`, { cause: error });
    }
    throw fileSystemError(error, partial);
  }
  const batch = new Uint8Array(WRITE_BATCH_BYTES);
  let batched = 0;
  let size = 0;
  const flush = async (): Promise<void> => {
    if (batched === 0) return;
    await writeFully(handle, batch.subarray(0, batched), size);
    size += batched;
    batched = 0;
  };
  const append = async (bytes: Uint8Array): Promise<void> => {
    if (batched + bytes.length > batch.length) await flush();
    if (bytes.length > batch.length) {
      await writeFully(handle, bytes, size);
      size += bytes.length;
      return;
    }
    batch.set(bytes, batched);
    batched += bytes.length;
  };
  let failure: unknown;
  try {
    await append(carHeader([root]));
    for await (const block of blocks) {
      signal?.throwIfAborted();
      await append(unsignedVarint(block.cid.bytes.length + block.bytes.length));
      await append(block.cid.bytes);
      await append(block.bytes);
    }
    signal?.throwIfAborted();
    await flush();
    await handle.sync();
  } catch (error) {
    failure = error;
  }
  await handle.close().catch(() => undefined);
  if (failure === undefined) {
    try {
      await rename(partial, path);
      await syncDirectory(dirname(path));
      return { path, root, size };
    } catch (error) {
      failure = error;
    }
  }
  await rm(partial, { force: true }).catch(() => undefined);
  throw fileSystemError(failure, path);
}

/** A CARv1 header: the varint of its length, then dag-cbor `{ version: 1, roots }`. */
export function carHeader(roots: CID[]): Uint8Array {
  const header = dagCbor.encode({ version: 1, roots });
  const length = unsignedVarint(header.length);
  const out = new Uint8Array(length.length + header.length);
  out.set(length);
  out.set(header, length.length);
  return out;
}

/** An unsigned LEB128 varint, as CAR files prefix their sections with. */
export function unsignedVarint(value: number): Uint8Array {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  out.push(rest);
  return Uint8Array.from(out);
}

/** How long a CAR file stays open after its last read, at least (a restore reads thousands in a row). */
const IDLE_CLOSE_MS = 200;

interface OpenCar {
  handle: Promise<FileHandle>;
  users: number;
  /** When the last read ended (Date.now()). */
  lastUsed: number;
  /** Checks every IDLE_CLOSE_MS whether the file has been idle that long. */
  idle: NodeJS.Timeout;
}

/**
 * Reads blocks out of CAR files without loading them: an index of where each block's bytes
 * lie, and a positioned read per block. A file is held open only while reads keep coming
 * (closed IDLE_CLOSE_MS after the last one), because a vault folder collects one CAR per
 * snapshot and a BlockFetcher has no close().
 */
export class CarBlockIndex implements BlockFetcher {
  readonly description: string;
  private closed = false;
  private readonly open = new Map<string, OpenCar>();

  private constructor(
    private readonly paths: string[],
    private readonly entries: Map<string, BlockLocation>,
    private readonly rootList: CID[],
  ) {
    this.description = paths.length === 1 ? `${paths[0]}` : `the ${paths.length} CAR files in ${describeFolders(paths)}`;
  }

  /** Indexes every block of every file; a truncated or malformed file is a CORRUPT_FILE. */
  static async open(paths: string[], options: { signal?: AbortSignal } = {}): Promise<CarBlockIndex> {
    const entries = new Map<string, BlockLocation>();
    const roots: CID[] = [];
    const seenRoots = new Set<string>();
    for (const [file, path] of paths.entries()) {
      options.signal?.throwIfAborted();
      const fileRoots = await indexFile(path, file, entries, options.signal);
      for (const root of fileRoots) {
        if (seenRoots.has(root.toString())) continue;
        seenRoots.add(root.toString());
        roots.push(root);
      }
    }
    return new CarBlockIndex([...paths], entries, roots);
  }

  /** The roots named in the files' headers, in file order, without repeats. */
  roots(): CID[] {
    return [...this.rootList];
  }

  has(cid: CID): boolean {
    return this.entries.has(blockKey(cid));
  }

  /** The number of distinct blocks indexed. */
  get size(): number {
    return this.entries.size;
  }

  async get(cid: CID, options: { signal?: AbortSignal; into?: Uint8Array } = {}): Promise<Uint8Array> {
    if (this.closed) throw new HearthError('INTERNAL', `The CAR index over ${this.description} is closed.`);
    options.signal?.throwIfAborted();
    const location = this.entries.get(blockKey(cid));
    if (!location) throw new HearthError('NOT_FOUND', `Block ${cid.toString()} is not in ${this.description}.`);
    const path = this.paths[location.file]!;
    let handle: FileHandle;
    try {
      handle = await this.acquire(path);
    } catch (error) {
      throw fileSystemError(error, path);
    }
    try {
      const bytes = options.into && options.into.length >= location.length ? options.into.subarray(0, location.length) : new Uint8Array(location.length);
      let done = 0;
      while (done < location.length) {
        const { bytesRead } = await handle.read(bytes, done, location.length - done, location.offset + done);
        if (bytesRead === 0) {
          throw new HearthError('CORRUPT_FILE', `${path} is shorter than when it was indexed (block ${cid.toString()} is cut off): was it changed or copied again meanwhile?`);
        }
        done += bytesRead;
      }
      return bytes;
    } catch (error) {
      throw fileSystemError(error, path);
    } finally {
      this.release(path);
    }
  }

  /** Closes the files held open and stops further use. */
  async close(): Promise<void> {
    this.closed = true;
    const open = [...this.open.values()];
    this.open.clear();
    for (const car of open) clearInterval(car.idle);
    await Promise.all(open.map((car) => car.handle.then((h) => h.close()).catch(() => undefined)));
  }

  private async acquire(path: string): Promise<FileHandle> {
    let car = this.open.get(path);
    if (!car) {
      const opened: OpenCar = {
        handle: openRegularFile(path, { expected: 'a CAR file' }),
        users: 0,
        lastUsed: Date.now(),
        idle: setInterval(() => this.closeIfIdle(path, opened), IDLE_CLOSE_MS),
      };
      opened.idle.unref();
      this.open.set(path, opened);
      // A file that failed to open is tried again on the next read.
      opened.handle.catch(() => {
        if (this.open.get(path) === opened) this.open.delete(path);
      });
      car = opened;
    }
    car.users++;
    return car.handle;
  }

  /**
   * The same few steps after every read, whether or not it was the last in flight: a branch
   * taken only when reads pause (arming a timer) had no type feedback in TurboFan's code for
   * get(), which was thrown away and compiled again two or three times per restore.
   */
  private release(path: string): void {
    const car = this.open.get(path);
    if (!car) return;
    car.users--;
    car.lastUsed = Date.now();
  }

  private closeIfIdle(path: string, car: OpenCar): void {
    if (this.open.get(path) === car && (car.users > 0 || Date.now() - car.lastUsed < IDLE_CLOSE_MS)) return;
    clearInterval(car.idle);
    if (this.open.get(path) !== car) return;
    this.open.delete(path);
    void car.handle.then((h) => h.close()).catch(() => undefined);
  }
}

async function indexFile(path: string, file: number, entries: Map<string, BlockLocation>, signal?: AbortSignal): Promise<CID[]> {
  let handle: FileHandle;
  try {
    handle = await openRegularFile(path, { expected: 'a CAR file' });
  } catch (error) {
    throw fileSystemError(error, path);
  }
  try {
    return await indexCarFile(handle, (await handle.stat()).size, path, file, entries, signal);
  } catch (error) {
    throw fileSystemError(error, path);
  } finally {
    await handle.close().catch(() => undefined);
  }
}

function describeFolders(paths: string[]): string {
  const folders = [...new Set(paths.map((path) => dirname(path)))];
  return folders.length === 1 ? folders[0]! : `${folders.length} folders`;
}

export async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number): Promise<void> {
  let done = 0;
  while (done < bytes.length) {
    const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, position + done);
    done += bytesWritten;
  }
}

/** Makes a rename durable on POSIX; Windows cannot open a folder for this, and needs not. */
export async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Best effort: the file itself is already flushed.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Contract errors pass through; file-system errors name the file and what to do. */
function fileSystemError(error: unknown, path: string): unknown {
  if ((error as Error | undefined)?.name === 'AbortError' || fileProblem(error) === null) return error;
  return fileError(error, path);
}
