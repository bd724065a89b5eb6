import { writeSync } from 'node:fs';
import { chmod, mkdir, open, rename, rm, stat, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { CID } from 'multiformats/cid';
import { IntervalGate } from '../common/async';
import { HearthError } from '../common/hearthError';
import type { OpenedChunk } from './cryptoWorker';
import type { RestoreProgress } from './restoreProgress';
import { copyBytes } from './sharedBytes';
import type { ManifestChunk, ManifestFile } from './types';

/** Blocks fetched ahead of the one being written: a gateway's latency is paid once for the lot, not per block. */
export const PREFETCH = 8;

export interface FileContext {
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

/**
 * One file of a restore (snapshotRestorer.ts runs the whole): appends the file's chunks to
 * <path>.part, fetched and opened (in the crypto worker) a few ahead, each checked against the
 * signed manifest's keyed id and size before it is written, saving how far it got every few
 * chunks, so a killed restore resumes at the chunk it stopped at.
 */
export async function restoreFile(file: ManifestFile, ctx: FileContext): Promise<void> {
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
  // once per window of blocks, not once per block. Prefetches left behind by an error are ignored.
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

/**
 * A short write is continued, so the bytes hashed are the bytes on the disk. Written in place
 * (a write into the page cache of a local file takes microseconds, less than a round trip
 * through the thread pool); the flushes, which wait on the disk, stay asynchronous.
 */
async function writeFully(handle: FileHandle, bytes: Uint8Array): Promise<void> {
  let done = 0;
  while (done < bytes.length) done += writeSync(handle.fd, bytes, done, bytes.length - done);
}

/** A CID named by a root or a manifest; anything else is BAD_INPUT. */
export function parseCid(text: string): CID {
  try {
    return CID.parse(text);
  } catch (error) {
    throw new HearthError('BAD_INPUT', `${text} is not a CID.`, { cause: error });
  }
}
