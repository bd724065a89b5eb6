import { CID } from 'multiformats/cid';
import { create as createDigest } from 'multiformats/hashes/digest';
import { code as RAW_CODE } from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { sealedChunkLength } from './blockCipher';
import type { Logger } from '../common/logger';
import { VaultCryptoWorker, type CryptoWorkerEntry } from './cryptoWorker';
import type { CachedChunk } from './filesCache';
import type { LocalBlockStore } from './localBlockStore';
import type { SnapshotTee } from './snapshotTee';
import type { Block } from './types';
import { chunkId } from './vaultKeys';
import type { KnownChunk, VaultRepository } from './vaultRepository';

/** A chunk reference as a snapshot's file entry and the files cache keep it. */
export type ChunkRef = CachedChunk;

export interface SealerDeps {
  repo: VaultRepository;
  blocks: LocalBlockStore;
  tee?: SnapshotTee | null;
  /** Warned once when the crypto worker could not start (the chunks are sealed in this thread then). */
  logger?: Logger;
  /** Another crypto worker entry (tests: one that cannot start). */
  cryptoEntry?: CryptoWorkerEntry;
}

/**
 * Seals the chunks of one snapshot, or finds them already sealed: a chunk this vault sealed
 * before (same keyed hash) and whose block is still stored is referenced, not sealed again.
 * Collects every block the snapshot references (in first-use order, for the list blocks), the
 * chunks sealed now (for the dedup index) and the blocks this run wrote, so a failed snapshot
 * deletes them again (rollback).
 *
 * New chunks are sealed in the run's crypto worker (cryptoWorker.ts), a few at a time while the
 * next ones are read: a reference to a chunk being sealed is handed out at once and gets its
 * block's CID when the worker answers; every CID is in once drain() resolves. close() ends the worker.
 * A worker that could not start leaves the sealing to this thread (cryptoWorker.ts decides), with one warning.
 */
export class ChunkSealer {
  /** Every block the snapshot references, with its sealed size. */
  readonly blocks = new Map<string, number>();
  /** Chunk and pack blocks in first-use order. */
  readonly chunkOrder: CID[] = [];
  readonly newChunks: KnownChunk[] = [];
  reused = 0;
  /** Chunks the dedup index named whose blocks were gone from the block store, sealed again. */
  resealed = 0;
  private readonly added: string[] = [];
  /** Chunks sealed by this run (or being sealed), by keyed id. */
  private readonly sealedNow = new Map<string, Promise<Omit<KnownChunk, 'id'>>>();
  private readonly present = new Map<string, Promise<boolean>>();
  private readonly writes = new WriteQueue(8);
  /** Started at the first chunk to seal (a snapshot of unchanged files needs none). */
  private crypto: VaultCryptoWorker | null = null;
  /** Whether new chunks of the file being read are stored here (not when the tee sends them to the target only). */
  private chunksHere = true;

  constructor(
    private readonly deps: SealerDeps,
    private readonly dataKey: Uint8Array,
    private readonly chunkIdKey: Uint8Array,
  ) {}

  /** The file whose chunks come next (the tee may keep a model file's chunks on the target only). */
  enterFile(path: string): void {
    this.chunksHere = this.deps.tee?.keepsHere(path) ?? true;
  }

  id(plaintext: Uint8Array): string {
    return chunkId(this.chunkIdKey, plaintext);
  }

  /** Where a chunk with this id is already sealed, or null (a block gone from the store is forgotten). */
  async known(id: string): Promise<Omit<KnownChunk, 'id'> | null> {
    const now = this.sealedNow.get(id);
    if (now) return await now;
    const known = this.deps.repo.chunkBlock(id);
    if (known && !(await this.blockPresent(known.blockCid))) {
      // Its block is gone (deleted under the app): forget it and seal the chunk again.
      this.deps.repo.forgetChunk(id);
      this.resealed++;
      return null;
    }
    return known;
  }

  /** References an already sealed chunk with this id and plaintext size, or null when there is none. */
  async reference(id: string, size: number): Promise<ChunkRef | null> {
    const known = await this.known(id);
    if (!known) return null;
    this.reused++;
    this.use(known.blockCid, known.sealedSize);
    return { cid: known.blockCid, size, id, sealedSize: known.sealedSize, ...(known.offset === undefined ? {} : { offset: known.offset }) };
  }

  /**
   * Seals one chunk (or reuses it) and references it; `id` when the caller has just computed it.
   * `plaintext` is copied before this resolves. The reference's `cid` of a chunk sealed now is
   * filled in when its block is stored (by drain() at the latest).
   */
  async chunk(plaintext: Uint8Array, id = this.id(plaintext)): Promise<ChunkRef> {
    const existing = await this.reference(id, plaintext.length);
    if (existing) return existing;
    const ref: ChunkRef = { cid: '', size: plaintext.length, id, sealedSize: sealedChunkLength(plaintext.length) };
    const { stored } = await this.seal(plaintext, this.chunksHere);
    const known = stored.then((blockCid) => {
      ref.cid = blockCid;
      const entry = { blockCid, sealedSize: ref.sealedSize };
      this.newChunks.push({ id, ...entry });
      return entry;
    });
    this.sealedNow.set(id, known);
    await this.writes.add(known.then(() => undefined));
    return ref;
  }

  /**
   * Seals several pieces as one pack block (zero-filled up to minBytes, then padded and sealed
   * like a chunk), each referenced by its offset in the pack's plaintext.
   */
  async pack(pieces: { id: string; bytes: Uint8Array }[], minBytes: number): Promise<ChunkRef[]> {
    const length = pieces.reduce((sum, p) => sum + p.bytes.length, 0);
    const plaintext = new Uint8Array(Math.max(length, minBytes));
    let offset = 0;
    const placed: { id: string; offset: number; size: number }[] = [];
    for (const piece of pieces) {
      plaintext.set(piece.bytes, offset);
      placed.push({ id: piece.id, offset, size: piece.bytes.length });
      offset += piece.bytes.length;
    }
    const sealedSize = sealedChunkLength(plaintext.length);
    const blockCid = await (await this.seal(plaintext, true)).stored;
    return placed.map(({ id, offset: at, size }) => {
      const known = { blockCid, sealedSize, offset: at };
      this.sealedNow.set(id, Promise.resolve(known));
      this.newChunks.push({ id, ...known });
      return { cid: blockCid, size, id, offset: at, sealedSize };
    });
  }

  /** References a file's chunks from the files cache, if every block is still stored; false otherwise. */
  async reuse(chunks: readonly ChunkRef[]): Promise<boolean> {
    for (const chunk of chunks) if (!(await this.blockPresent(chunk.cid))) return false;
    for (const chunk of chunks) this.use(chunk.cid, chunk.sealedSize);
    this.reused += chunks.length;
    return true;
  }

  /** Stores a block outside the chunk order (manifest, lists, root). */
  async store(block: Block): Promise<void> {
    await this.put(block);
    this.blocks.set(block.cid.toString(), block.bytes.length);
  }

  async drain(): Promise<void> {
    await this.writes.drain();
  }

  /**
   * With a tee, once every block is sealed and the capture checked, before the snapshot is
   * recorded: stores here the target-only blocks a file outside models/ shares, finishes the
   * CAR in the target (flushed, renamed into place) and returns the blocks the target alone
   * holds, for the record. Null without a tee.
   */
  async finishTee(root: CID, bulk: ReadonlySet<string>): Promise<{ targetId: string; cids: string[] } | null> {
    const tee = this.deps.tee;
    if (!tee) return null;
    for (const block of await tee.sharedTargetOnly(bulk)) if (await this.deps.blocks.put(block)) this.added.push(block.cid.toString());
    return { targetId: tee.targetId, cids: await tee.finish(root, this.blocks) };
  }

  /** Deletes what this run wrote: a failed snapshot leaves nothing behind. */
  async rollback(): Promise<void> {
    await this.writes.drain().catch(() => undefined);
    await this.deps.blocks.delete(this.added).catch(() => undefined);
  }

  /** Ends the crypto worker (after drain() or rollback(); idempotent). */
  async close(): Promise<void> {
    await this.crypto?.close();
  }

  /**
   * Hands `plaintext` to the crypto worker (copied before this resolves; waits while every slot
   * is busy) and reserves the block's place in the chunk order. `stored` resolves to the block's
   * CID once the sealed block is stored (`here`) and sent to the tee.
   */
  private async seal(plaintext: Uint8Array, here: boolean): Promise<{ stored: Promise<string> }> {
    this.crypto ??= this.startCrypto();
    const slot = await this.crypto.slot();
    let sealing: Promise<{ bytes: Uint8Array; digest: Uint8Array }>;
    try {
      sealing = slot.seal(plaintext);
    } catch (error) {
      slot.release();
      throw error;
    }
    const order = this.chunkOrder.length;
    this.chunkOrder.push(PENDING);
    const stored = sealing.then(
      async ({ bytes, digest }) => {
        const cid = CID.create(1, RAW_CODE, createDigest(sha256.code, digest));
        let stored: Promise<void>;
        try {
          // Both the block store and the tee copy the bytes out before put's first await: the slot is free again after this call.
          stored = this.put({ cid, bytes }, true, here);
        } finally {
          slot.release();
        }
        await stored;
        const blockCid = cid.toString();
        this.chunkOrder[order] = cid;
        this.blocks.set(blockCid, bytes.length);
        return blockCid;
      },
      (error: unknown) => {
        slot.release();
        throw error;
      },
    );
    // Awaited by the caller (through the write queue): a failure is never left unhandled meanwhile.
    stored.catch(() => undefined);
    return { stored };
  }

  private startCrypto(): VaultCryptoWorker {
    return new VaultCryptoWorker({ dataKey: this.dataKey, chunkIdKey: this.chunkIdKey }, {
      ...(this.deps.cryptoEntry ? { entry: this.deps.cryptoEntry } : {}),
      onSealingHere: (why) => this.deps.logger?.warn(`vault: the crypto worker could not start (${why}); this snapshot seals its chunks in the main thread instead (the same blocks, more time)`),
    });
  }

  private use(cid: string, sealedSize: number): void {
    if (this.blocks.has(cid)) return;
    this.blocks.set(cid, sealedSize);
    this.chunkOrder.push(CID.parse(cid));
  }

  /** Stored here, or held by a target when this machine keeps no copy of it (remote_blocks). */
  private blockPresent(cid: string): Promise<boolean> {
    let known = this.present.get(cid);
    if (!known) {
      known = this.deps.repo.remoteHolder(cid) === null ? this.deps.blocks.has(cid) : Promise.resolve(true);
      this.present.set(cid, known);
    }
    return known;
  }

  /**
   * `fresh`: just sealed under a random nonce, so no block of that CID can exist yet (no
   * look-up). `here` false: sent to the tee's target only. Both the block store and the tee
   * copy the bytes out before their first await, so the caller may reuse the buffer at once.
   */
  private async put(block: Block, fresh = false, here = true): Promise<void> {
    // A tee whose target failed early sends nothing more: every block is stored here then.
    const toHere = here || !this.deps.tee || this.deps.tee.detached;
    const sent = this.deps.tee?.send(block, toHere);
    const stored = toHere ? this.deps.blocks.put(block, fresh) : Promise.resolve(false);
    // Both settled before either failure surfaces: a block stored here is remembered for rollback.
    const [local, target] = await Promise.allSettled([stored, sent]);
    if (local.status === 'fulfilled' && local.value) this.added.push(block.cid.toString());
    if (local.status === 'rejected') throw local.reason;
    if (target.status === 'rejected') throw target.reason;
    this.present.set(block.cid.toString(), Promise.resolve(true));
  }
}

/** The place in the chunk order of a chunk still being sealed (replaced by its CID when it is stored). */
const PENDING = CID.parse('bafkqaaa');

/**
 * Block writes overlap the sealing of the next chunks (a snapshot is otherwise idle a third of
 * the time waiting on the disk); at most `limit` in flight, and the first failure surfaces.
 */
class WriteQueue {
  private readonly inFlight = new Set<Promise<void>>();
  private failure: unknown = null;

  constructor(private readonly limit: number) {}

  async add(write: Promise<void>): Promise<void> {
    const tracked: Promise<void> = write.then(
      () => void this.inFlight.delete(tracked),
      (error: unknown) => {
        this.inFlight.delete(tracked);
        this.failure ??= error;
      },
    );
    this.inFlight.add(tracked);
    if (this.inFlight.size >= this.limit) await Promise.race(this.inFlight);
    if (this.failure) throw this.failure;
  }

  async drain(): Promise<void> {
    await Promise.all(this.inFlight);
    if (this.failure) throw this.failure;
  }
}
