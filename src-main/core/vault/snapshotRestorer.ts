import BetterSqlite3 from 'better-sqlite3';
import type { HDNodeWallet } from 'ethers';
import { mkdir, readdir, rename, rm, rmdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { CID } from 'multiformats/cid';
import type { ErrorCode } from '#contract/errors';
import { isDiskFull } from '../common/fsErrors';
import { HearthError, isAbortError } from '../common/hearthError';
import { sealedChunkLength, unwrapDataKey } from './blockCipher';
import { DEFAULT_CHUNK_SIZES } from './contentChunker';
import { syncDirectory } from './carFile';
import { countLanceRows, countSqliteRows } from './dataCapture';
import { decodeList, decodeRoot, openManifest, verifyBlock } from './snapshotFormat';
import { writeRestoredRecord } from './restoredAdoption';
import { RestoredBlocks } from './restoredBlocks';
import { PREFETCH, parseCid, restoreFile } from './restoreFile';
import { readRestoreProgress, writeRestoreProgress } from './restoreProgress';
import type { Block, BlockFetcher, SnapshotManifest } from './types';
import { VaultCryptoWorker } from './cryptoWorker';
import { chunkId, deriveVaultKeys } from './vaultKeys';

export interface RestoreOptions {
  wallet: HDNodeWallet;
  root: string;
  fetcher: BlockFetcher;
  /** The data directory to restore into: absent, empty, or kept aside before it is replaced. */
  dataDir: string;
  /**
   * Keep the verified sealed blocks in the new directory's vault (vault/blocks, and a record in
   * vault/restored.json), so Hearth there carries on from this snapshot: its next snapshot is
   * incremental instead of sealing and uploading everything again.
   */
  keepBlocks?: boolean;
  /**
   * With keepBlocks, the folder the blocks come from, when it is one the restored vault can go
   * on publishing to: the blocks that only model files use are left there instead of copied
   * (recorded as held by it, as keepModelBlocks off does after a publish), and its next publish
   * there sends only what changed.
   */
  heldBy?: { kind: 'folder'; path: string };
  signal?: AbortSignal;
  onProgress?: (doneBytes: number, totalBytes: number, detail: string) => void;
  /** Called right before the restored folder moves into place; throwing stops it there (the staging folder is kept). */
  beforeMove?: () => void;
}

export interface RestoreResult {
  root: string;
  dataDir: string;
  files: number;
  bytes: number;
  createdAt: string;
  /** Where the directory that was at dataDir went, when it was not empty. */
  keptAside: string | null;
  /** Blocks fetched in this run (a resumed run fetches only what it still lacked). */
  fetchedBlocks: number;
  manifest: SnapshotManifest;
}

/** Errors that a retry of the same source cannot fix: the partial restore is deleted. */
const FINAL_CODES = new Set<ErrorCode>(['WRONG_PASSPHRASE', 'INTEGRITY_ERROR', 'SIGNATURE_INVALID', 'CORRUPT_FILE']);

/** The folder beside dataDir where a restore builds the new data directory before moving it in. */
export function restoreStagingDir(dataDir: string, root: string): string {
  return join(dirname(dataDir), `.${basename(dataDir)}.hearth-restore-${root.slice(-10)}`);
}

/**
 * Restores a snapshot from its root CID and the wallet alone. The blocks that vouch for others
 * (root, manifest, lists) and every block kept are checked against their CIDs as they arrive,
 * every chunk authenticated (AEAD) and matched to the manifest's keyed hash and size (so every
 * file is the bytes the snapshot read), and the manifest's signature to the wallet; then the row
 * counts of every SQLite and LanceDB table. Only then does the new directory move into place
 * (one rename); a directory already there is renamed aside first, never overwritten.
 *
 * Nothing is written before the phrase has opened the snapshot's key. Interrupted (killed,
 * cancelled, network gone), the next run with the same root and dataDir resumes at the chunk
 * it stopped at; a tampered or wrong block deletes the partial restore and names the block.
 */
export async function restoreSnapshot(options: RestoreOptions): Promise<RestoreResult> {
  const { wallet, fetcher, signal } = options;
  const root = parseCid(options.root);
  let fetched = 0;
  // Blocks fetched before the staging folder exists, kept once it does (when keepBlocks).
  const early = new Map<CID, Uint8Array>();
  let keep: ((block: Block) => Promise<void>) | null = null;
  /** A block that vouches for others (root, manifest, lists) or that is kept: its bytes must hash to its CID. */
  const fetchVerified = async (cid: CID): Promise<Uint8Array> => {
    const bytes = await fetchWithRetry(fetcher, cid, signal);
    await verifyBlock(cid, bytes);
    fetched++;
    if (keep) await keep({ cid, bytes });
    else if (options.keepBlocks) early.set(cid, bytes);
    return bytes;
  };
  /**
   * A chunk block that is not kept: its CID is not hashed again, because what it is for is
   * proved otherwise: it must open under the data key (AEAD: only the wallet's holder seals such
   * a block, and no bit of it can change unnoticed), and its plaintext must match the keyed
   * hash and size the signed manifest gives that chunk (another block of the vault opens too,
   * but holds other bytes). A block that passes is the chunk the snapshot read, whatever its CID.
   */
  let opener: VaultCryptoWorker | null = null;
  const scratch = new ScratchBuffers((length) => opener?.shared(length) ?? new Uint8Array(length));
  const fetchChunk = async (cid: CID): Promise<Uint8Array> => {
    const bytes = await fetchWithRetry(fetcher, cid, signal, scratch.take());
    fetched++;
    return bytes;
  };

  const keys = deriveVaultKeys(wallet.privateKey);
  const rootBlock = decodeRoot(await fetchVerified(root), `snapshot ${root}`);
  const dataKey = unwrapDataKey(keys.wrapKey, rootBlock.wrappedKey);
  const parts: Uint8Array[] = [];
  for (const cid of rootBlock.manifest) parts.push(await fetchVerified(cid));
  const manifest = await openManifest(parts, dataKey, wallet.address, `snapshot ${root}`);
  const listed = await listedBlocks(rootBlock.lists, fetchVerified);
  for (const file of manifest.files) {
    for (const chunk of file.chunks) {
      if (!listed.has(chunk.cid)) {
        throw new HearthError('INTEGRITY_ERROR', `The manifest of snapshot ${root} names block ${chunk.cid}, which its root does not list.`);
      }
    }
  }

  const staging = restoreStagingDir(options.dataDir, root.toString());
  const filesDir = join(staging, 'data');
  const kept = options.keepBlocks ? new RestoredBlocks(join(filesDir, 'vault', 'blocks')) : null;
  const held = kept && options.heldBy ? modelOnlyChunks(manifest) : new Map<string, number>();
  // Chunks are opened (and their keyed ids computed) in the run's crypto worker, from the buffers fetched into.
  const worker = new VaultCryptoWorker({ dataKey, chunkIdKey: keys.chunkIdKey });
  opener = worker;
  try {
    await mkdir(filesDir, { recursive: true });
    if (kept) {
      for (const [cid, bytes] of early) await kept.put({ cid, bytes });
      keep = (block) => kept.put(block);
    }
    const progress = await readRestoreProgress(staging, root.toString());
    // Saved progress never names a block that is not on the disk yet.
    const save = async () => {
      await kept?.flush();
      await writeRestoreProgress(staging, progress);
    };
    const totalBytes = manifest.files.reduce((sum, f) => sum + f.size, 0);
    const packs = new Map<string, Uint8Array>();
    let doneBytes = manifest.files.filter((f) => progress.done.includes(f.path)).reduce((sum, f) => sum + f.size, 0);

    for (const file of manifest.files) {
      if (progress.done.includes(file.path)) continue;
      await restoreFile(file, {
        filesDir,
        progress,
        save,
        fetch: (cid) => (kept && !held.has(cid.toString()) ? fetchVerified(cid) : fetchChunk(cid)),
        openChunk: async (cid, bytes) => {
          const slot = await worker.slot();
          try {
            return { ...(await slot.open(bytes, cid.toString())), release: () => slot.release() };
          } catch (error) {
            slot.release();
            throw error;
          } finally {
            // Opened into the slot's buffer: the sealed bytes' buffer serves the next fetch.
            scratch.give(bytes);
          }
        },
        chunkIdOf: (plaintext) => chunkId(keys.chunkIdKey, plaintext),
        packs,
        signal,
        onBytes: (n) => {
          doneBytes += n;
          options.onProgress?.(doneBytes, totalBytes, file.path);
        },
      });
      progress.done.push(file.path);
      progress.current = null;
      await save();
    }

    await checkCounts(filesDir, manifest, root.toString());
    if (kept) {
      await kept.flush();
      const heldBy = options.heldBy ? { config: options.heldBy, sizes: held } : null;
      await writeRestoredRecord(kept.store, filesDir, { root: root.toString(), rootBlock, manifest, wallet, heldBy });
    }
    // Each file was flushed as it was finished; the folders that name them are flushed once here.
    await syncFolders(filesDir, manifest);
    options.beforeMove?.();
    const keptAside = await moveIntoPlace(filesDir, options.dataDir);
    await syncDirectory(dirname(options.dataDir));
    await rm(staging, { recursive: true, force: true });
    return {
      root: root.toString(),
      dataDir: options.dataDir,
      files: manifest.files.length,
      bytes: totalBytes,
      createdAt: manifest.createdAt,
      keptAside,
      fetchedBlocks: fetched,
      manifest,
    };
  } catch (error) {
    if (!isAbortError(error) && error instanceof HearthError && FINAL_CODES.has(error.code)) {
      await rm(staging, { recursive: true, force: true });
    }
    if (isDiskFull(error)) {
      throw new HearthError('DISK_FULL', `The disk holding ${dirname(options.dataDir)} is full. Free some space and run the restore again: it resumes where it stopped.`, { cause: error });
    }
    throw error;
  } finally {
    await worker.close();
  }
}

async function listedBlocks(lists: CID[], fetch: (cid: CID) => Promise<Uint8Array>): Promise<Set<string>> {
  const out = new Set<string>();
  for (const cid of lists) for (const listed of decodeList(await fetch(cid), `Block ${cid}`)) out.add(listed.toString());
  return out;
}

/**
 * The blocks that only files under models/ use, each one whole chunk (a pack, zero-filled to its
 * size, is kept whatever it holds), with the sealed size the block has: the bulk a restore can
 * leave on the folder it reads from, as the snapshot writer marks it for keepModelBlocks.
 */
function modelOnlyChunks(manifest: SnapshotManifest): Map<string, number> {
  const models = new Map<string, number>();
  const others = new Set<string>();
  for (const file of manifest.files) {
    for (const chunk of file.chunks) {
      if (file.path.startsWith('models/') && chunk.offset === undefined) models.set(chunk.cid, sealedChunkLength(chunk.size));
      else others.add(chunk.cid);
    }
  }
  for (const cid of others) models.delete(cid);
  return models;
}

/** Flushes every folder of the restored tree that gained an entry: the files' folders, up to the top. */
async function syncFolders(filesDir: string, manifest: SnapshotManifest): Promise<void> {
  const folders = new Set<string>([filesDir, join(filesDir, 'vault')]);
  for (const file of manifest.files) {
    for (let dir = dirname(join(filesDir, ...file.path.split('/'))); dir.length > filesDir.length && !folders.has(dir); dir = dirname(dir)) folders.add(dir);
  }
  for (const folder of folders) await syncDirectory(folder);
}

/** Every table the manifest counted must hold as many rows after the restore. */
async function checkCounts(filesDir: string, manifest: SnapshotManifest, root: string): Promise<void> {
  const mismatch = (what: string, expected: number, got: number | undefined) =>
    new HearthError('INTEGRITY_ERROR', `After restoring ${root}, ${what} holds ${got ?? 'no'} rows; the snapshot recorded ${expected}.`);
  const dbFile = join(filesDir, 'hearth.db');
  if (Object.keys(manifest.counts.sqlite).length > 0) {
    const db = new BetterSqlite3(dbFile, { readonly: true, fileMustExist: true });
    try {
      const counts = countSqliteRows(db, new Set(Object.keys(manifest.counts.sqlite)));
      for (const [table, n] of Object.entries(manifest.counts.sqlite)) if (counts[table] !== n) throw mismatch(`table ${table}`, n, counts[table]);
    } finally {
      db.close();
    }
  }
  if (Object.keys(manifest.counts.lance).length > 0) {
    const counts = await countLanceRows(join(filesDir, 'index'));
    for (const [table, n] of Object.entries(manifest.counts.lance)) if (counts[table] !== n) throw mismatch(`index table ${table}`, n, counts[table]);
  }
}

/** Moves the restored directory to dataDir; a non-empty directory there is renamed aside first. */
async function moveIntoPlace(from: string, dataDir: string): Promise<string | null> {
  let keptAside: string | null = null;
  const entries = await readdir(dataDir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return null;
    throw error;
  });
  if (entries !== null) {
    if (entries.length === 0) {
      await rmdir(dataDir);
    } else {
      keptAside = `${dataDir}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}`;
      await rename(dataDir, keptAside);
    }
  }
  await mkdir(dirname(dataDir), { recursive: true });
  await rename(from, dataDir);
  return keptAside;
}

/** Network hiccups (a reset keep-alive socket, a 503) are retried a few times; nothing else is. */
async function fetchWithRetry(fetcher: BlockFetcher, cid: CID, signal?: AbortSignal, into?: Uint8Array): Promise<Uint8Array> {
  for (let attempt = 0; ; attempt++) {
    signal?.throwIfAborted();
    try {
      return await fetcher.get(cid, { signal, into });
    } catch (error) {
      if (!(error instanceof HearthError) || error.code !== 'NETWORK_ERROR' || attempt >= RETRY_DELAYS_MS.length) throw error;
      await sleep(RETRY_DELAYS_MS[attempt]!, undefined, { signal });
    }
  }
}

const RETRY_DELAYS_MS = [100, 1000, 5000];

/** Room for a sealed chunk of the largest size the chunker cuts. */
const SCRATCH_BYTES = sealedChunkLength(DEFAULT_CHUNK_SIZES.maxSize);
/** Buffers kept for reuse: the prefetch window and a few more. */
const SCRATCH_KEPT = PREFETCH + 4;

/**
 * Buffers lent to a fetcher that reads from files (a folder's CARs), reused once the block read
 * into one is opened: a restore read ~600 MB into a fresh buffer per block, and that much
 * short-lived external memory made V8 run a full (major) collection every few dozen blocks, a
 * sixth of all the CPU a restore took. Only a buffer handed out here is taken back.
 */
class ScratchBuffers {
  private readonly free: Uint8Array[] = [];
  private readonly ours = new WeakSet<ArrayBufferLike>();

  /** `allocate`: shared memory from the crypto worker, which then opens a block where it was read. */
  constructor(private readonly allocate: (length: number) => Uint8Array) {}

  take(): Uint8Array {
    const buffer = this.free.pop() ?? this.allocate(SCRATCH_BYTES);
    this.ours.add(buffer.buffer);
    return buffer;
  }

  give(view: Uint8Array): void {
    if (!this.ours.has(view.buffer) || this.free.length >= SCRATCH_KEPT) return;
    this.ours.delete(view.buffer);
    this.free.push(new Uint8Array(view.buffer));
  }
}

