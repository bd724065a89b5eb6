import { HearthError } from '../common/hearthError';
import { ChunkSealer, type ChunkRef, type SealerDeps } from './chunkSealer';
import { captureChanged, type Capture, type CapturedFile } from './dataCapture';
import { readFileInto } from './fileChunking';
import { COPY_IDENTITY, fileIdentity, identitySize, sameChunks, type CachedFile } from './filesCache';
import { SmallFilePacker } from './smallFilePacker';
import { MANIFEST_FORMAT, ROOT_FORMAT, encodeLists, encodeRoot, sealManifest, type ManifestSigner } from './snapshotFormat';
import type { ManifestChunk, ManifestFile, SnapshotManifest, SnapshotOptions } from './types';
import type { VaultKeys } from './vaultKeys';

export interface WriteSnapshotInput {
  signer: ManifestSigner;
  keys: VaultKeys;
  dataKey: Uint8Array;
  wrappedKey: Uint8Array;
  capture: Capture;
  options: SnapshotOptions;
  previous: string | null;
  appVersion: string;
  /** Read every file, even those the files cache says are unchanged (a full verify). */
  full: boolean;
  signal?: AbortSignal;
  onProgress?: (doneBytes: number, totalBytes: number, file: string) => void;
  /** The capture's own check, run once every block is written and before the snapshot is recorded. */
  verify?: () => Promise<void>;
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
  /** Plaintext bytes read from disk (files the cache vouched for are not read). */
  readBytes: number;
  /** Bytes that went through the content-defined chunker (read bytes that matched the previous chunks did not). */
  chunkedBytes: number;
  /** Files not read because their identity had not changed since the previous snapshot. */
  skippedFiles: number;
  /** Files a full verify found changed although size, mtime, inode and ctime had not. */
  unnoticedChanges: string[];
}

/**
 * Turns a capture into a snapshot in the local block store. A file whose identity on disk is
 * what the files cache recorded is not read: its chunk references are reused, so the cost of a
 * snapshot follows the change. Every other file is read and cut into content-defined chunks (a
 * small one is packed with others, see smallFilePacker.ts); a chunk this vault already sealed
 * (same keyed hash) is referenced, not sealed again; new chunks are padded and sealed under the
 * data key. Then the signed, sealed manifest, the CID lists and the root. Recorded in the
 * vault's repository, with the files cache for the next snapshot, only once every block is on disk.
 */
export async function writeSnapshot(
  deps: SealerDeps,
  input: WriteSnapshotInput,
): Promise<WrittenSnapshot> {
  const { keys, dataKey, capture, signal } = input;
  const totalBytes = capture.files.reduce((sum, f) => sum + f.size, 0);
  // The blocks folder deleted under a running app: the dedup index names nothing that exists.
  const blocksFolderLost = !(await deps.blocks.present()) && deps.repo.chunkCount() > 0;
  if (blocksFolderLost) deps.repo.clearChunks();
  const cache = deps.repo.cachedFiles(input.signer.address);
  const sealer = new ChunkSealer(deps, dataKey, keys.chunkIdKey);
  const packer = new SmallFilePacker(sealer);
  const files: ManifestFile[] = [];
  const nextCache: CachedFile[] = [];
  const unnoticedChanges: string[] = [];
  const refsByFile: { path: string; refs: ChunkRef[] }[] = [];
  let done = 0;
  let readBytes = 0;
  let skippedFiles = 0;
  let chunkedBytes = 0;
  const progress = (bytes: number, path: string) => {
    done += bytes;
    input.onProgress?.(done, totalBytes, path);
  };
  try {
    for (const file of capture.files) {
      signal?.throwIfAborted();
      sealer.enterFile(file.path);
      const identity = await vanishedAsNotFound(file, () => fileIdentity(file));
      const cached = identity === null ? undefined : cache.get(file.path);
      const unchanged = cached !== undefined && cached.identity === identity;
      const entry: ManifestFile = { path: file.path, size: 0, mode: file.mode, chunks: [] };
      // A chunk being sealed gets its CID later: the entry's chunk list is made once all are sealed.
      const refs: ChunkRef[] = [];
      const add = (ref: ChunkRef) => void refs.push(ref);
      if (unchanged && !input.full && (await sealer.reuse(cached.chunks))) {
        for (const ref of cached.chunks) add(ref);
        entry.size = cached.size;
        skippedFiles++;
        progress(cached.size, file.path);
      } else {
        // The previous chunk list of this path guides the chunker even when the file changed (always, for the database copy).
        const previous = cache.get(file.path)?.chunks ?? null;
        const read = await vanishedAsNotFound(file, () => readFileInto(file, previous, { sealer, packer, keys, signal }, add, (n) => progress(n, file.path)));
        entry.size = read.size;
        readBytes += read.size;
        chunkedBytes += read.chunkedBytes;
        // The chunk list is the file's digest (keyed SHA-256 ids and sizes, in order): another list, other bytes.
        if (unchanged && !sameChunks(cached.chunks, refs)) unnoticedChanges.push(file.path);
      }
      if (entry.size !== file.size) throw captureChanged(file, `${entry.size} bytes were read`);
      files.push(entry);
      refsByFile.push({ path: file.path, refs });
      // Kept only when the file read is the file the identity describes (it did not grow or shrink meanwhile);
      // a capture copy (no identity) is kept too, never to be skipped, but to guide the chunker next time.
      if (identity === null) nextCache.push({ path: file.path, identity: COPY_IDENTITY, size: entry.size, chunks: refs });
      else if (identitySize(identity) === entry.size) nextCache.push({ path: file.path, identity, size: entry.size, chunks: refs });
    }
    await packer.flush();
    await sealer.drain();
    for (const [i, { refs }] of refsByFile.entries()) files[i]!.chunks = refs.map(manifestChunk);
    // Filled in now that the last pack is sealed.
    const bulkBlocks = modelOnlyBlocks(refsByFile);

    const manifest: SnapshotManifest = {
      format: MANIFEST_FORMAT,
      createdAt: new Date().toISOString(),
      appVersion: input.appVersion,
      address: input.signer.address,
      previous: input.previous,
      options: input.options,
      files,
      counts: capture.counts,
    };
    const manifestBlocks = await sealManifest(manifest, input.signer, dataKey);
    const listBlocks = await encodeLists(sealer.chunkOrder);
    for (const block of [...manifestBlocks, ...listBlocks]) await sealer.store(block);
    const root = await encodeRoot({
      format: ROOT_FORMAT,
      wrappedKey: input.wrappedKey,
      manifest: manifestBlocks.map((b) => b.cid),
      lists: listBlocks.map((b) => b.cid),
    });
    await sealer.store(root);

    const cid = root.cid.toString();
    await input.verify?.();
    // Published in the same command: the CAR finished and flushed in the target before the record.
    const remote = await sealer.finishTee(root.cid, bulkBlocks);
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
      blocks: sealer.blocks,
      bulkBlocks,
      ...(remote ? { remote } : {}),
      newChunks: sealer.newChunks,
      readBytes,
      // Entries of files this snapshot left out by choice (models, documents) stay for the next one that includes them.
      fileCache: { address: input.signer.address, files: nextCache, keepPrefixes: [...(input.options.includeModels ? [] : ['models/']), ...(input.options.includeDocuments ? [] : ['sources/'])] },
    });
    return {
      cid,
      files: files.length,
      bytes: done,
      newChunks: sealer.newChunks.length,
      reusedChunks: sealer.reused,
      resealedChunks: sealer.resealed,
      blocksFolderLost,
      readBytes,
      chunkedBytes,
      skippedFiles,
      unnoticedChanges,
    };
  } catch (error) {
    await sealer.rollback();
    throw error;
  } finally {
    await sealer.close();
  }
}

/** What the log says about a written snapshot, and a warning when a full verify caught a change the cache missed. */
export function writtenSummary(written: WrittenSnapshot, full: boolean): { info: string; warning: string | null } {
  const read = `${written.skippedFiles} unchanged and not read${full ? '; a full verify' : ''}`;
  const first = written.unnoticedChanges[0];
  return {
    info: `vault: snapshot ${written.cid}: ${written.files} files (${read}), ${written.readBytes} bytes read (${written.chunkedBytes} chunked anew), ${written.newChunks} new chunks, ${written.reusedChunks} unchanged`,
    warning:
      first === undefined
        ? null
        : `vault: ${written.unnoticedChanges.length} files had changed although their size, time and inode had not (first: ${first}); this full verify took them in`,
  };
}

/** Blocks that only files under models/ reference: a machine may keep those on a target alone (keepModelBlocks off). */
function modelOnlyBlocks(files: { path: string; refs: ChunkRef[] }[]): Set<string> {
  const models = new Set<string>();
  const others = new Set<string>();
  for (const { path, refs } of files) for (const ref of refs) (path.startsWith('models/') ? models : others).add(ref.cid);
  for (const cid of others) models.delete(cid);
  return models;
}

/** The manifest's form of a reference: no sealed size; an offset only for a slice of a pack. */
function manifestChunk(ref: ChunkRef): ManifestChunk {
  return ref.offset === undefined ? { cid: ref.cid, size: ref.size, id: ref.id } : { cid: ref.cid, size: ref.size, id: ref.id, offset: ref.offset };
}

async function vanishedAsNotFound<T>(file: CapturedFile, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new HearthError('FILE_NOT_FOUND', `${file.source} disappeared while the snapshot was read; take the snapshot again.`, { cause: error });
    }
    throw error;
  }
}
