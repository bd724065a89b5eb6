import BetterSqlite3 from 'better-sqlite3';
import type { HDNodeWallet } from 'ethers';
import { writeSync } from 'node:fs';
import { chmod, mkdir, open, readdir, rename, rm, rmdir, stat, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { CID } from 'multiformats/cid';
import type { ErrorCode } from '#contract/errors';
import { IntervalGate } from '../common/async';
import { isDiskFull } from '../common/fsErrors';
import { HearthError, isAbortError } from '../common/hearthError';
import { sealedChunkLength, unwrapDataKey } from './blockCipher';
import { DEFAULT_CHUNK_SIZES } from './contentChunker';
import { syncDirectory } from './carFile';
import { countLanceRows, countSqliteRows } from './dataCapture';
import { decodeList, decodeRoot, openManifest, verifyBlock } from './snapshotFormat';
import { writeRestoredRecord } from './restoredAdoption';
import { RestoredBlocks } from './restoredBlocks';
import { readRestoreProgress, writeRestoreProgress, type RestoreProgress } from './restoreProgress';
import type { Block, BlockFetcher, ManifestChunk, ManifestFile, SnapshotManifest } from './types';
import { VaultCryptoWorker, type OpenedChunk } from './cryptoWorker';
import { copyBytes } from './sharedBytes';
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

const PREFETCH = 8;
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

interface FileContext {
  filesDir: string;
  progress: RestoreProgress;
  save: () => Promise<void>;
  fetch: (cid: CID) => Promise<Uint8Array>;
  /** The plaintext (shared memory, valid until release) and keyed id of a sealed chunk, from the crypto worker. */
  openChunk: (cid: CID, bytes: Uint8Array) => Promise<OpenedChunk & { release: () => void }>;
  /** The keyed chunk id of a plaintext (a piece of a pack), computed here. */
  chunkIdOf: (plaintext: Uint8Array) => string;
  /** The last few pack blocks opened: consecutive small files share one. */
  packs: Map<string, Uint8Array>;
  signal?: AbortSignal;
  onBytes: (n: number) => void;
}

const PACKS_KEPT = 4;

/** Chunks opened ahead of the one being written (each holds a crypto worker slot until written). */
const OPEN_AHEAD = 3;

/** A piece of a pack (manifest /2): the pack is opened once for its neighbours and copied out of the worker's slot. */
async function packPiece(chunk: ManifestChunk & { offset: number }, ctx: FileContext, open: () => ReturnType<FileContext['openChunk']>): Promise<Uint8Array> {
  let pack = ctx.packs.get(chunk.cid);
  if (!pack) {
    const opened = await open();
    pack = new Uint8Array(opened.plaintext.length);
    copyBytes(pack, opened.plaintext);
    opened.release();
    ctx.packs.set(chunk.cid, pack);
    if (ctx.packs.size > PACKS_KEPT) ctx.packs.delete(ctx.packs.keys().next().value!);
  }
  return pack.subarray(chunk.offset, chunk.offset + chunk.size);
}

/** Appends the file's chunks to <path>.part, saving how far it got every few chunks. */
async function restoreFile(file: ManifestFile, ctx: FileContext): Promise<void> {
  const target = join(ctx.filesDir, ...file.path.split('/'));
  const part = `${target}.part`;
  await mkdir(dirname(target), { recursive: true });
  let start = 0;
  let written = 0;
  const current = ctx.progress.current;
  if (current?.path === file.path) {
    // Resume: the .part may hold more than the saved count (written after the last save) but
    // never less, unless the machine lost unsynced data; then the file starts over.
    const size = await stat(part).then((s) => s.size, () => -1);
    if (size >= current.bytes) {
      await truncate(part, current.bytes);
      start = current.chunks;
      written = current.bytes;
    }
  }
  if (start === 0) await writeFile(part, new Uint8Array(0));
  ctx.onBytes(written);

  const handle = await open(part, 'a');
  const saves = new IntervalGate(200);
  saves.pass();
  // Blocks are fetched PREFETCH ahead of the one being written: a gateway's latency is paid
  // once per window, not once per block. Prefetches left behind by an error are ignored.
  const ahead = new Map<number, Promise<Uint8Array>>();
  let saving: Promise<void> = Promise.resolve();
  // Each chunk's CID parsed once, for its prefetch and its check.
  const cids: CID[] = [];
  const cidAt = (j: number): CID => (cids[j] ??= parseCid(file.chunks[j]!.cid));
  const fetchAt = (i: number) => {
    for (let j = i; j < Math.min(i + PREFETCH, file.chunks.length); j++) {
      if (ahead.has(j)) continue;
      const pending = ctx.fetch(cidAt(j));
      pending.catch(() => undefined);
      ahead.set(j, pending);
    }
    const next = ahead.get(i)!;
    ahead.delete(i);
    return next;
  };
  // Whole chunks opened OPEN_AHEAD ahead in the crypto worker, so it opens the next while this one is written.
  const opening = new Map<number, ReturnType<FileContext['openChunk']>>();
  const openAt = (i: number) => {
    for (let j = i; j < Math.min(i + OPEN_AHEAD, file.chunks.length); j++) {
      const chunk = file.chunks[j]!;
      if (opening.has(j) || chunk.offset !== undefined) continue;
      const cid = cidAt(j);
      const pending = fetchAt(j).then((bytes) => ctx.openChunk(cid, bytes));
      pending.catch(() => undefined);
      opening.set(j, pending);
    }
    const next = opening.get(i)!;
    opening.delete(i);
    return next;
  };
  try {
    for (let i = start; i < file.chunks.length; i++) {
      const chunk = file.chunks[i]!;
      const notThisChunk = () => new HearthError('INTEGRITY_ERROR', `Block ${chunk.cid} decrypts to data that is not chunk ${i + 1} of ${file.path}.`);
      // A whole chunk's keyed id comes from the worker with its plaintext; a pack piece's is computed here.
      let plain: Uint8Array;
      let release = () => undefined as void;
      if (chunk.offset === undefined) {
        const opened = await openAt(i);
        ({ plaintext: plain, release } = opened);
        if (plain.length !== chunk.size || opened.id !== chunk.id) {
          release();
          throw notThisChunk();
        }
      } else {
        const cid = cidAt(i);
        plain = await packPiece({ ...chunk, offset: chunk.offset }, ctx, () => fetchAt(i).then((bytes) => ctx.openChunk(cid, bytes)));
        if (plain.length !== chunk.size || ctx.chunkIdOf(plain) !== chunk.id) throw notThisChunk();
      }
      try {
        await writeFully(handle, plain);
      } finally {
        release();
      }
      written += plain.length;
      ctx.onBytes(plain.length);
      if (saves.ready() || i === file.chunks.length - 1) {
        // Saved in the background while the next chunks are restored, one save at a time and
        // in order: the part file's and the kept blocks' flushes, then the record (every chunk
        // up to it was checked before it was written). A save's failure surfaces at the next one or at the end of the file.
        await saving;
        const current = { path: file.path, chunks: i + 1, bytes: written };
        saving = (async () => {
          await handle.sync();
          ctx.progress.current = current;
          await ctx.save();
        })();
        saving.catch(() => undefined);
        saves.pass();
      }
    }
    await saving;
    await handle.sync();
  } finally {
    // Chunks opened ahead of a failure give their slots back.
    for (const pending of opening.values()) pending.then((opened) => opened.release(), () => undefined);
    await saving.catch(() => undefined);
    await handle.close();
  }

  // Every chunk matched its keyed SHA-256 (the chunk id) and its size, in the order the signed
  // manifest lists them: the file is those bytes, so hashing it whole again (its sha256, taken
  // by the snapshot in the same pass as the chunk ids) would check the same bytes twice.
  if (written !== file.size) {
    await rm(part, { force: true });
    throw new HearthError('INTEGRITY_ERROR', `${file.path} restored with ${written} bytes, but the snapshot recorded ${file.size}.`);
  }
  await chmod(part, file.mode & 0o777);
  await rename(part, target);
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

/**
 * A short write is continued, so the bytes hashed are the bytes on the disk. Written in place
 * (a write into the page cache of a local file takes microseconds, less than a round trip
 * through the thread pool); the flushes, which wait on the disk, stay asynchronous.
 */
async function writeFully(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += writeSync(handle.fd, bytes, done, bytes.length - done);
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

function parseCid(text: string): CID {
  try {
    return CID.parse(text);
  } catch (error) {
    throw new HearthError('BAD_INPUT', `${text} is not a CID.`, { cause: error });
  }
}
