import { open, rm, type FileHandle } from 'node:fs/promises';
import * as dagCbor from '@ipld/dag-cbor';
import { CID } from 'multiformats/cid';
import { sha256 } from 'multiformats/hashes/sha2';
import { HearthError } from '../common/hearthError';
import { carHeader, unsignedVarint, writeFully } from './carFile';
import { copyBytes } from './sharedBytes';
import type { Block } from './types';

/** Block sections are copied into batches of this size, each written on the thread pool when full. */
const BATCH_BYTES = 4 * 1024 * 1024;
/** Batches being written at once before append() asks its caller to wait. */
const WRITES_IN_FLIGHT = 2;

/**
 * A CARv1 written as its blocks come, before its root is known (a snapshot that is published
 * while it is sealed): the header's room is reserved at the start and filled in by finish(). A
 * snapshot's root is always a CIDv1 dag-cbor block with a SHA-256 multihash, so its header has
 * one length whatever the root. The bytes are those of writeCar with the same blocks in the
 * same order (a varint-prefixed dag-cbor header, then per block the varint of the CID's and the
 * block's length, the CID, the block).
 *
 * append() copies a block's bytes before it returns (the caller may seal the next block into the
 * same buffer at once) and resolves when the writes in flight leave room for more. finish()
 * flushes the file (fsync) and closes it: renaming it into place is the caller's, after that.
 */
export class CarAppender {
  private batch: Uint8Array = new Uint8Array(BATCH_BYTES);
  private batched = 0;
  /** The file position of the current batch's first byte. */
  private batchAt: number;
  private readonly spare: Uint8Array[] = [];
  private readonly writing = new Set<Promise<void>>();
  private failure: unknown = null;
  private readonly sections = new Map<string, { at: number; length: number }>();
  private closed = false;

  private constructor(
    readonly path: string,
    private readonly handle: FileHandle,
    private readonly headerBytes: number,
  ) {
    this.batchAt = headerBytes;
  }

  /** Creates `path` (it must not exist) with room for the header of a dag-cbor SHA-256 root. */
  static async create(path: string): Promise<CarAppender> {
    const placeholder = CID.create(1, dagCbor.code, await sha256.digest(new Uint8Array(0)));
    const handle = await open(path, 'wx+', 0o644);
    return new CarAppender(path, handle, carHeader([placeholder]).length);
  }

  /** Bytes in the file so far, header included. */
  get size(): number {
    return this.batchAt + this.batched;
  }

  has(cid: string): boolean {
    return this.sections.has(cid);
  }

  /** Appends the block unless it is in already; its bytes are copied before this returns. */
  append(block: Block): Promise<void> {
    if (this.closed) return Promise.reject(new HearthError('INTERNAL', `${this.path} is already finished or abandoned.`));
    if (this.failure) return Promise.reject(this.failure as Error);
    const cid = block.cid.toString();
    if (this.sections.has(cid)) return Promise.resolve();
    const cidBytes = block.cid.bytes;
    this.copy(unsignedVarint(cidBytes.length + block.bytes.length));
    this.copy(cidBytes);
    this.sections.set(cid, { at: this.size, length: block.bytes.length });
    this.copy(block.bytes);
    return this.writing.size < WRITES_IN_FLIGHT ? Promise.resolve() : this.roomForMore();
  }

  /** A block appended earlier, read back from the file (every batch before it written first). */
  async read(cid: string): Promise<Uint8Array> {
    const section = this.sections.get(cid);
    if (!section) throw new HearthError('NOT_FOUND', `Block ${cid} is not in ${this.path}.`);
    if (section.at + section.length > this.batchAt) this.dispatch();
    await this.drain();
    const bytes = new Uint8Array(section.length);
    for (let done = 0; done < bytes.length; ) {
      const { bytesRead } = await this.handle.read(bytes, done, bytes.length - done, section.at + done);
      if (bytesRead === 0) throw new HearthError('CORRUPT_FILE', `${this.path} is shorter than what was written to it: was it changed meanwhile?`);
      done += bytesRead;
    }
    return bytes;
  }

  /** Writes the rest and the header naming `root`, flushes the file to the disk and closes it; returns its size. */
  async finish(root: CID): Promise<number> {
    const header = carHeader([root]);
    if (header.length !== this.headerBytes) {
      throw new HearthError('INTERNAL', `The root ${root.toString()} is not a dag-cbor SHA-256 block: its CAR header does not fit the room left for it.`);
    }
    this.dispatch();
    await this.drain();
    await writeFully(this.handle, header, 0);
    await this.handle.sync();
    this.closed = true;
    await this.handle.close();
    return this.batchAt;
  }

  /** Stops and deletes the file (a failed or cancelled snapshot); never throws. */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      await Promise.allSettled(this.writing);
      await this.handle.close().catch(() => undefined);
    }
    await rm(this.path, { force: true }).catch(() => undefined);
  }

  private copy(bytes: Uint8Array): void {
    for (let done = 0; done < bytes.length; ) {
      const n = Math.min(bytes.length - done, this.batch.length - this.batched);
      copyBytes(this.batch, bytes.subarray(done, done + n), this.batched);
      this.batched += n;
      done += n;
      if (this.batched === this.batch.length) this.dispatch();
    }
  }

  /** Starts writing the current batch and takes a fresh one. */
  private dispatch(): void {
    if (this.batched === 0) return;
    const buffer = this.batch;
    const write = writeFully(this.handle, buffer.subarray(0, this.batched), this.batchAt).then(
      () => {
        this.writing.delete(write);
        this.spare.push(buffer);
      },
      (error: unknown) => {
        this.writing.delete(write);
        this.failure ??= error;
      },
    );
    this.writing.add(write);
    this.batchAt += this.batched;
    this.batched = 0;
    this.batch = this.spare.pop() ?? new Uint8Array(BATCH_BYTES);
  }

  private async roomForMore(): Promise<void> {
    while (this.writing.size >= WRITES_IN_FLIGHT) await Promise.race(this.writing);
    if (this.failure) throw this.failure;
  }

  private async drain(): Promise<void> {
    await Promise.all(this.writing);
    if (this.failure) throw this.failure;
  }
}
