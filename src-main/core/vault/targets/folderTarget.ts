import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { equals } from 'multiformats/bytes';
import type { CID } from 'multiformats/cid';
import { errnoOf, fileError, fileProblem } from '../../common/fsErrors';
import { HearthError } from '../../common/hearthError';
import { openRegularFile, readRegularFile } from '../../common/regularFile';
import { CarAppender } from '../carAppender';
import { CarBlockIndex, syncDirectory, writeCar, writeFully } from '../carFile';
import type { Block, BlockFetcher, CarFile, CarStream, PublishProgress, PublishResult, PublishTarget, StreamedCar, TargetUpload } from '../types';
import { FolderCarStream, incomingName, sweepIncoming } from './folderCarStream';

const COPY_CHUNK_BYTES = 1024 * 1024;
/** How long a pointer writer waits for another's lock, and when a lock counts as a crashed writer's. */
const POINTER_LOCK_WAIT_MS = 10_000;
const POINTER_LOCK_STALE_MS = 30_000;
const POINTER_NAME = /^[a-z0-9]{8,64}$/;

/**
 * A folder (a USB stick, a NAS share, a synced folder) that holds published CARs:
 * `<dir>/hearth-vault/cars/<root>.car` and `<dir>/hearth-vault/pointers/<name>`.
 * The folder itself is never created: a missing one is a drive that is not plugged in.
 */
export class FolderTarget implements PublishTarget {
  readonly kind = 'folder' as const;
  private readonly carsDir: string;
  private readonly pointersDir: string;

  constructor(private readonly dir: string) {
    this.carsDir = join(dir, 'hearth-vault', 'cars');
    this.pointersDir = join(dir, 'hearth-vault', 'pointers');
  }

  /**
   * Copies the CAR in under a temporary name, flushes it and renames it into place. An existing
   * CAR of the same root is never replaced: it may hold blocks the new one leaves out (a CAR
   * carries only what the target lacked), so a repeat goes to `<root>-<n>.car`.
   */
  async publish(car: CarFile, options: PublishProgress = {}): Promise<PublishResult> {
    const { signal, onProgress } = options;
    signal?.throwIfAborted();
    await this.assertFolder();
    await this.makeDirs(this.carsDir);
    let source: FileHandle;
    try {
      source = await openRegularFile(car.path, { expected: 'a CAR file' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new HearthError('FILE_NOT_FOUND', `The CAR file ${car.path} to publish does not exist; take the snapshot again.`);
      }
      throw this.writeError(error, car.path);
    }
    const temp = join(this.carsDir, `${car.root.toString()}.${randomBytes(6).toString('hex')}.part`);
    let target: FileHandle | undefined;
    try {
      const total = (await source.stat()).size;
      target = await open(temp, 'wx');
      const buffer = new Uint8Array(Math.min(COPY_CHUNK_BYTES, Math.max(total, 1)));
      let sent = 0;
      onProgress?.(0, total);
      while (sent < total) {
        signal?.throwIfAborted();
        const { bytesRead } = await source.read(buffer, 0, buffer.length, sent);
        if (bytesRead === 0) throw new HearthError('CORRUPT_FILE', `${car.path} got shorter while it was being published; take the snapshot again.`);
        await writeFully(target, buffer.subarray(0, bytesRead), sent);
        sent += bytesRead;
        onProgress?.(sent, total);
      }
      await target.sync();
      await target.close();
      target = undefined;
      signal?.throwIfAborted();
      const destination = await this.freeName(car.root);
      await rename(temp, destination);
      await syncDirectory(this.carsDir);
      return { location: destination };
    } catch (error) {
      await target?.close().catch(() => undefined);
      await rm(temp, { force: true }).catch(() => undefined);
      throw this.writeError(error, car.path);
    } finally {
      await source.close().catch(() => undefined);
    }
  }

  /**
   * Writes the CAR straight into the folder as the blocks come (no copy of it anywhere else):
   * under a temporary name, flushed, then renamed into place like publish(); cancelled or
   * failed, the partial file is removed.
   */
  async publishStream(root: CID, blocks: AsyncIterable<Block>, options: PublishProgress & { totalBytes?: number } = {}): Promise<StreamedCar> {
    const { signal, onProgress, totalBytes = 0 } = options;
    signal?.throwIfAborted();
    await this.assertFolder();
    await this.makeDirs(this.carsDir);
    await sweepIncoming(this.carsDir);
    const incoming = join(this.carsDir, incomingName());
    let sent = 0;
    async function* counted(): AsyncGenerator<Block> {
      onProgress?.(0, totalBytes);
      for await (const block of blocks) {
        yield block;
        sent += block.bytes.length;
        onProgress?.(sent, Math.max(totalBytes, sent));
      }
    }
    try {
      const car = await writeCar(incoming, root, counted(), { signal });
      try {
        signal?.throwIfAborted();
        const destination = await this.freeName(root);
        await rename(car.path, destination);
        await syncDirectory(this.carsDir);
        return { location: destination, carBytes: car.size };
      } catch (error) {
        await rm(car.path, { force: true }).catch(() => undefined);
        throw error;
      }
    } catch (error) {
      throw this.writeError(error, incoming);
    }
  }

  /**
   * A CAR written into the folder while a snapshot is sealed (its root comes at the end), under
   * a temporary name until finish() has flushed it and renamed it to `<root>.car`. Temp files a
   * killed publish of this machine left are deleted first.
   */
  async openCarStream(options: { signal?: AbortSignal } = {}): Promise<CarStream> {
    options.signal?.throwIfAborted();
    await this.assertFolder();
    await this.makeDirs(this.carsDir);
    await sweepIncoming(this.carsDir);
    const path = join(this.carsDir, incomingName());
    let car: CarAppender;
    try {
      car = await CarAppender.create(path);
    } catch (error) {
      throw this.writeError(error, path);
    }
    return new FolderCarStream(car, { carsDir: this.carsDir, freeName: (root) => this.freeName(root), error: (error, at) => this.writeError(error, at) });
  }

  /** Blocks from every CAR in the folder; CARs published after it was made are found too. */
  fetcher(): BlockFetcher {
    return new FolderFetcher(this.carsDir, () => this.assertFolder());
  }

  /**
   * Replaces the record through a temp file and a rename. With `expected`, under the lock file
   * `<name>.lock` (created exclusively; one older than POINTER_LOCK_STALE_MS is a crashed
   * writer's and is taken over), the record there is read and compared first: another machine
   * writing to the same folder cannot slip in between the read and the rename.
   */
  async writePointer(name: string, record: Uint8Array, options: { signal?: AbortSignal; expected?: Uint8Array | null } = {}): Promise<void> {
    checkPointerName(name);
    options.signal?.throwIfAborted();
    await this.assertFolder();
    await this.makeDirs(this.pointersDir);
    const path = join(this.pointersDir, name);
    const unlock = options.expected === undefined ? null : await this.lockPointer(path, options.signal);
    try {
      if (options.expected !== undefined) {
        const current = await this.readPointer(name, options);
        const same = current === null || options.expected === null ? current === options.expected : equals(current, options.expected);
        if (!same) throw new HearthError('BUSY', `The latest-snapshot record ${path} changed while it was being replaced (another machine publishing?); try again.`);
      }
      await this.replacePointer(path, record);
    } finally {
      await unlock?.();
    }
  }

  private async replacePointer(path: string, record: Uint8Array): Promise<void> {
    const temp = `${path}.${randomBytes(6).toString('hex')}.part`;
    let handle: FileHandle | undefined;
    try {
      handle = await open(temp, 'wx');
      await writeFully(handle, record, 0);
      await handle.sync();
      await handle.close();
      handle = undefined;
      // Replacing is the point here: a pointer names the latest snapshot.
      await rename(temp, path);
      await syncDirectory(this.pointersDir);
    } catch (error) {
      await handle?.close().catch(() => undefined);
      await rm(temp, { force: true }).catch(() => undefined);
      throw this.writeError(error, path);
    }
  }

  /** Takes `<path>.lock`; resolves with its release. BUSY when another writer holds it for long. */
  private async lockPointer(path: string, signal?: AbortSignal): Promise<() => Promise<void>> {
    const lock = `${path}.lock`;
    const deadline = Date.now() + POINTER_LOCK_WAIT_MS;
    for (;;) {
      signal?.throwIfAborted();
      try {
        const handle = await open(lock, 'wx', 0o644);
        try {
          await writeFully(handle, new TextEncoder().encode(`${process.pid}@${hostname()} ${new Date().toISOString()}\n`), 0);
        } finally {
          await handle.close();
        }
        return () => rm(lock, { force: true });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw this.writeError(error, lock);
      }
      const held = await stat(lock).then(
        (s) => Date.now() - s.mtimeMs,
        () => 0,
      );
      if (held > POINTER_LOCK_STALE_MS) {
        await rm(lock, { force: true });
        continue;
      }
      if (Date.now() > deadline) {
        throw new HearthError('BUSY', `${lock} has been held for ${Math.round(held / 1000)} s by another writer of the latest-snapshot record; try again.`);
      }
      await sleep(20 + Math.floor(Math.random() * 80), undefined, { signal });
    }
  }

  async readPointer(name: string, options: { signal?: AbortSignal } = {}): Promise<Uint8Array | null> {
    checkPointerName(name);
    options.signal?.throwIfAborted();
    const path = join(this.pointersDir, name);
    try {
      // A FIFO or device where the pointer should be is refused, never opened (NOT_A_REGULAR_FILE).
      return new Uint8Array(await readRegularFile(path, { expected: 'a pointer file', signal: options.signal }));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw this.writeError(error, path);
    }
    // An unplugged drive is not "no pointer yet".
    await this.assertFolder();
    return null;
  }

  /** The CARs in the folder by root (a repeat's `-<n>` dropped), newest first by their time in the folder. */
  async listUploads(options: { signal?: AbortSignal } = {}): Promise<TargetUpload[]> {
    options.signal?.throwIfAborted();
    await this.assertFolder();
    let names: string[];
    try {
      names = await readdir(this.carsDir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw this.writeError(error, this.carsDir);
    }
    const uploads: TargetUpload[] = [];
    for (const name of names.filter((n) => n.endsWith('.car'))) {
      const path = join(this.carsDir, name);
      try {
        uploads.push({ root: name.replace(/(-\d+)?\.car$/, ''), at: (await stat(path)).mtime.toISOString() });
      } catch (error) {
        // Gone since the listing (another machine tidying the folder): not there, then.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw this.writeError(error, path);
      }
    }
    return uploads.sort((a, b) => (b.at ?? '').localeCompare(a.at ?? ''));
  }

  private async assertFolder(): Promise<void> {
    let isDirectory: boolean;
    try {
      isDirectory = (await stat(this.dir)).isDirectory();
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') {
        throw new HearthError('TARGET_NOT_FOUND', `The backup folder ${this.dir} does not exist: plug in the drive that holds it, or choose another folder.`);
      }
      throw this.writeError(error, this.dir);
    }
    if (!isDirectory) throw new HearthError('TARGET_NOT_FOUND', `${this.dir} is a file, not a folder: choose a folder to back up to.`);
  }

  /** hearth-vault/ and then `path` in it, one level at a time: never the folder itself, even if it vanishes meanwhile. */
  private async makeDirs(path: string): Promise<void> {
    for (const dir of [join(this.dir, 'hearth-vault'), path]) {
      try {
        await mkdir(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw this.writeError(error, dir);
      }
    }
  }

  /** `<root>.car`, or `<root>-<n>.car` when that exists already. */
  private async freeName(root: CID): Promise<string> {
    for (let n = 0; ; n++) {
      const candidate = join(this.carsDir, n === 0 ? `${root.toString()}.car` : `${root.toString()}-${n}.car`);
      try {
        await stat(candidate);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return candidate;
        throw error;
      }
    }
  }

  private writeError(error: unknown, path: string): unknown {
    if (error instanceof HearthError) return error;
    // Cancelled is CANCELLED, as from every target.
    if ((error as Error | undefined)?.name === 'AbortError') return new HearthError('CANCELLED', 'Cancelled', { cause: error });
    const problem = fileProblem(error);
    if (problem === null) return error;
    if (problem === 'notFound') {
      return new HearthError('TARGET_NOT_FOUND', `${path} disappeared while Hearth was using it: was the drive unplugged?`, { cause: error });
    }
    return fileError(error, path, {
      diskFull: `The drive holding ${this.dir} is full; free some space there or choose another folder.`,
      denied: `Hearth may not write to ${path} (${errnoOf(error)}); check the folder's permissions, or whether the drive is read-only.`,
    });
  }
}

/**
 * Indexes the folder's CARs on first use and again when a block is missing and new CARs have
 * appeared. A CAR that cannot be read is left out and named if a block is then missing.
 */
class FolderFetcher implements BlockFetcher {
  readonly description: string;
  private readonly indexes: CarBlockIndex[] = [];
  private readonly seen = new Set<string>();
  private readonly unreadable = new Map<string, string>();
  private scanning: Promise<void> | undefined;

  constructor(
    private readonly carsDir: string,
    private readonly assertFolder: () => Promise<void>,
  ) {
    this.description = `the backup folder ${carsDir}`;
  }

  async get(cid: CID, options: { signal?: AbortSignal; into?: Uint8Array } = {}): Promise<Uint8Array> {
    options.signal?.throwIfAborted();
    let index = this.find(cid);
    if (!index) {
      // One scan at a time: parallel restores of missing blocks share it.
      this.scanning ??= this.scan(options.signal).finally(() => (this.scanning = undefined));
      await this.scanning;
      index = this.find(cid);
    }
    if (!index) {
      const skipped = [...this.unreadable.values()];
      const note = skipped.length > 0 ? ` ${skipped.length} CAR file(s) there could not be read: ${skipped.join(' ')}` : '';
      throw new HearthError('NOT_FOUND', `Block ${cid.toString()} is not in ${this.carsDir}.${note}`);
    }
    return index.get(cid, options);
  }

  private find(cid: CID): CarBlockIndex | undefined {
    return this.indexes.find((index) => index.has(cid));
  }

  private async scan(signal?: AbortSignal): Promise<void> {
    await this.assertFolder();
    let names: string[];
    try {
      names = await readdir(this.carsDir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      throw fileError(error, this.carsDir, { other: `Could not list ${this.carsDir} (${code ?? 'unknown error'}); check the folder's permissions.` });
    }
    for (const name of names.filter((n) => n.endsWith('.car')).sort()) {
      if (this.seen.has(name)) continue;
      this.seen.add(name);
      const path = join(this.carsDir, name);
      try {
        this.indexes.push(await CarBlockIndex.open([path], { signal }));
      } catch (error) {
        if (!(error instanceof HearthError) || error.code === 'CANCELLED') {
          this.seen.delete(name);
          throw error;
        }
        this.unreadable.set(name, error.message);
      }
    }
  }
}

function checkPointerName(name: string): void {
  if (!POINTER_NAME.test(name)) {
    throw new HearthError('BAD_INPUT', `"${name}" is not a valid pointer name: use 8 to 64 lowercase letters and digits.`);
  }
}

