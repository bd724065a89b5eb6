import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { CID } from 'multiformats/cid';
import { HearthError } from '../common/hearthError';
import { sealChunk } from './blockCipher';
import { ContentChunker, DEFAULT_CHUNK_SIZES, type ChunkerOptions } from './contentChunker';
import type { Capture } from './dataCapture';
import type { LocalBlockStore } from './localBlockStore';
import { ROOT_FORMAT, encodeLists, encodeRoot, rawBlock, sealManifest, type ManifestSigner } from './snapshotFormat';
import type { Block, ManifestFile, SnapshotManifest, SnapshotOptions } from './types';
import { chunkId, type VaultKeys } from './vaultKeys';
import type { NewSnapshot, VaultRepository } from './vaultRepository';

/**
 * Chunk sizes: small for the files that change a little at a time (the SQLite database, index
 * files), so an edit re-uploads tens of kilobytes; the library's larger default for big files
 * (models), so a 4 GB model is thousands of blocks rather than tens of thousands.
 */
export const SMALL_FILE_CHUNKS = { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024 } as const;
const BIG_FILE_BYTES = 64 * 1024 * 1024;

export interface WriteSnapshotInput {
  signer: ManifestSigner;
  keys: VaultKeys;
  dataKey: Uint8Array;
  wrappedKey: Uint8Array;
  capture: Capture;
  options: SnapshotOptions;
  previous: string | null;
  appVersion: string;
  signal?: AbortSignal;
  onProgress?: (doneBytes: number, totalBytes: number, file: string) => void;
}

export interface WrittenSnapshot {
  cid: string;
  files: number;
  bytes: number;
  /** Chunk blocks sealed for this snapshot (the others were already stored). */
  newChunks: number;
  reusedChunks: number;
  /** Chunks the dedup index named whose blocks were gone from the block store, sealed again. */
  resealedChunks: number;
  /** The whole blocks folder was gone, so the dedup index was cleared first. */
  blocksFolderLost: boolean;
}

/**
 * Turns a capture into a snapshot in the local block store: every file cut into
 * content-defined chunks; a chunk this vault already sealed (same keyed hash) is referenced,
 * not sealed again, so unchanged data costs nothing; new chunks are padded and sealed under
 * the data key. Then the signed, sealed manifest, the CID lists and the root. Recorded in the
 * vault's repository only once every block is on disk.
 */
export async function writeSnapshot(
  deps: { repo: VaultRepository; blocks: LocalBlockStore },
  input: WriteSnapshotInput,
): Promise<WrittenSnapshot> {
  const { keys, dataKey, capture, signal } = input;
  const totalBytes = capture.files.reduce((sum, f) => sum + f.size, 0);
  const blocks = new Map<string, number>();
  const chunkOrder: CID[] = [];
  const newChunks: NewSnapshot['newChunks'] = [];
  const sealedNow = new Map<string, { blockCid: string; sealedSize: number }>();
  const files: ManifestFile[] = [];
  let done = 0;
  let reused = 0;
  let resealed = 0;
  // The blocks folder deleted under a running app: the dedup index names nothing that exists.
  const blocksFolderLost = !(await deps.blocks.present()) && deps.repo.chunkCount() > 0;
  if (blocksFolderLost) deps.repo.clearChunks();
  const writes = new WriteQueue(8);
  // Blocks this run added, deleted again if it fails: a failed snapshot leaves nothing behind.
  const added: string[] = [];
  const put = async (block: Block, fresh = false) => {
    if (await deps.blocks.put(block, fresh)) added.push(block.cid.toString());
  };
  try {
    for (const file of capture.files) {
      signal?.throwIfAborted();
      const sizes: Omit<ChunkerOptions, 'seed'> = file.size >= BIG_FILE_BYTES ? DEFAULT_CHUNK_SIZES : SMALL_FILE_CHUNKS;
      const chunker = new ContentChunker({ ...sizes, seed: keys.chunkerSeed });
      const hash = createHash('sha256');
      const entry: ManifestFile = { path: file.path, size: 0, sha256: '', mode: file.mode, chunks: [] };
      const stream = createReadStream(file.source, { highWaterMark: 1024 * 1024, signal });
      try {
        for await (const chunk of chunker.chunks(stream as AsyncIterable<Uint8Array>)) {
          hash.update(chunk);
          const id = chunkId(keys.chunkIdKey, chunk);
          let known = sealedNow.get(id) ?? deps.repo.chunkBlock(id);
          if (known && !sealedNow.has(id) && !(await deps.blocks.has(known.blockCid))) {
            // Its block is gone (deleted under the app): forget it and seal the chunk again.
            deps.repo.forgetChunk(id);
            resealed++;
            known = null;
          }
          if (known) {
            reused++;
          } else {
            const block = await rawBlock(sealChunk(dataKey, chunk));
            await writes.add(put(block, true));
            known = { blockCid: block.cid.toString(), sealedSize: block.bytes.length };
            sealedNow.set(id, known);
            newChunks.push({ id, ...known });
          }
          if (!blocks.has(known.blockCid)) {
            blocks.set(known.blockCid, known.sealedSize);
            chunkOrder.push(CID.parse(known.blockCid));
          }
          entry.chunks.push({ cid: known.blockCid, size: chunk.length, id });
          entry.size += chunk.length;
          done += chunk.length;
          input.onProgress?.(done, totalBytes, file.path);
        }
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
          throw new HearthError('FILE_NOT_FOUND', `${file.source} disappeared while the snapshot was read; take the snapshot again.`, { cause: error });
        }
        throw error;
      }
      entry.sha256 = hash.digest('hex');
      files.push(entry);
    }

    await writes.drain();

    const manifest: SnapshotManifest = {
      format: 'hearth-manifest/1',
      createdAt: new Date().toISOString(),
      appVersion: input.appVersion,
      address: input.signer.address,
      previous: input.previous,
      options: input.options,
      files,
      counts: capture.counts,
    };
    const manifestBlocks = await sealManifest(manifest, input.signer, dataKey);
    const listBlocks = await encodeLists(chunkOrder);
    for (const block of [...manifestBlocks, ...listBlocks]) {
      await put(block);
      blocks.set(block.cid.toString(), block.bytes.length);
    }
    const root = await encodeRoot({
      format: ROOT_FORMAT,
      wrappedKey: input.wrappedKey,
      manifest: manifestBlocks.map((b) => b.cid),
      lists: listBlocks.map((b) => b.cid),
    });
    await put(root);
    blocks.set(root.cid.toString(), root.bytes.length);

    const cid = root.cid.toString();
    // Every block and its name on the disk (fsync) before the snapshot that names them is recorded.
    await deps.blocks.sync();
    deps.repo.addSnapshot({
      cid,
      createdAt: Date.parse(manifest.createdAt),
      previous: input.previous,
      files: files.length,
      bytes: done,
      includeModels: input.options.includeModels,
      includeDocuments: input.options.includeDocuments,
      blocks,
      newChunks,
    });
    return { cid, files: files.length, bytes: done, newChunks: newChunks.length, reusedChunks: reused, resealedChunks: resealed, blocksFolderLost };
  } catch (error) {
    await writes.drain().catch(() => undefined);
    await deps.blocks.delete(added).catch(() => undefined);
    throw error;
  }
}

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
