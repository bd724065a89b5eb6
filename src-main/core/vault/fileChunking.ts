import { open, readFile, type FileHandle } from 'node:fs/promises';
import type { ChunkRef, ChunkSealer } from './chunkSealer';
import { ContentChunker, DEFAULT_CHUNK_SIZES, type ChunkerOptions } from './contentChunker';
import type { CapturedFile } from './dataCapture';
import type { CachedChunk } from './filesCache';
import { PACKING, type SmallFilePacker } from './smallFilePacker';
import type { VaultKeys } from './vaultKeys';

/**
 * Chunk sizes: small for the files that change a little at a time (the SQLite database, index
 * files), so an edit re-uploads tens of kilobytes; the library's larger default for big files
 * (models), so a 4 GB model is thousands of blocks rather than tens of thousands.
 */
export const SMALL_FILE_CHUNKS = { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024 } as const;
export const BIG_FILE_BYTES = 64 * 1024 * 1024;
const READ_BYTES = 1024 * 1024;

export interface ReadContext {
  sealer: ChunkSealer;
  packer: SmallFilePacker;
  keys: VaultKeys;
  signal?: AbortSignal;
}

export interface ReadResult {
  size: number;
  /** Bytes that went through the content-defined chunker (the rest matched the previous chunks). */
  chunkedBytes: number;
}

/**
 * Reads a file once: its chunks sealed (or packed, for a small file) as they come, each with
 * its keyed SHA-256 id (the chunk list is the file's digest: no whole-file hash is taken). With the chunk list the previous snapshot made of the same path (`previous`), the
 * chunker runs only where the bytes changed: while the bytes follow the previous file's, the
 * next previous chunk's length is read and keyed-hashed, and if it hashes to that chunk's id
 * it is taken as it is; elsewhere the chunker cuts, until it cuts a chunk the previous file had
 * too (same id), after which the previous file's next chunk is expected again. A cut depends
 * only on the bytes since the last cut, so the chunks are exactly those a full pass would make,
 * without the chunker's pass over unchanged bytes (the database, whose copy is new every time;
 * a changed model; a full verify).
 */
export async function readFileInto(
  file: CapturedFile,
  previous: readonly CachedChunk[] | null,
  ctx: ReadContext,
  add: (ref: ChunkRef) => void,
  onBytes: (n: number) => void,
): Promise<ReadResult> {
  if (file.size < PACKING.below) {
    const bytes = new Uint8Array(await readFile(file.source, { signal: ctx.signal }));
    if (bytes.length > 0 && bytes.length < PACKING.below) {
      await ctx.packer.add(bytes, add);
      onBytes(bytes.length);
      return { size: bytes.length, chunkedBytes: 0 };
    }
    // It grew past the packing size since the capture: chunked like any file.
    let size = 0;
    for await (const chunk of chunkerFor(bytes.length, ctx.keys).chunks(once(bytes))) {
      add(await ctx.sealer.chunk(chunk));
      size += chunk.length;
      onBytes(chunk.length);
    }
    return { size, chunkedBytes: size };
  }
  const handle = await open(file.source, 'r');
  let prefetched: GuidedRead | null = null;
  try {
    const size = (await handle.stat()).size;
    const guide = guideOf(previous, size);
    let pos = 0;
    let chunkedBytes = 0;
    // Two buffers for the previous chunks read back: the next one is read while this one is hashed and taken.
    const scratches = [{ bytes: new Uint8Array(0) }, { bytes: new Uint8Array(0) }];
    let flip = 0;
    const readGuided = (index: number, at: number): GuidedRead | null => {
      const known = guide.chunks[index];
      // The last previous chunk was cut by the end of that file, not by the chunker: it matches only at the end.
      if (!known || (index === guide.chunks.length - 1 && at + known.size !== size)) return null;
      flip ^= 1;
      const bytes = readAt(handle, at, known.size, scratches[flip]!);
      bytes.catch(() => undefined);
      return { index, at, bytes };
    };
    // The previous chunk expected next, while the bytes follow the previous file's.
    let expected: number | null = guide.chunks.length > 0 ? 0 : null;
    const take = async (chunk: Uint8Array, id: string) => {
      add(await ctx.sealer.chunk(chunk, id));
      pos += chunk.length;
      onBytes(chunk.length);
    };
    for (;;) {
      ctx.signal?.throwIfAborted();
      const current = expected === null ? null : prefetched?.index === expected && prefetched.at === pos ? prefetched : readGuided(expected, pos);
      prefetched = null;
      const bytes = current === null ? null : await current.bytes;
      if (bytes !== null) {
        const known = guide.chunks[expected!]!;
        prefetched = readGuided(expected! + 1, pos + bytes.length);
        if (ctx.sealer.id(bytes) === known.id) {
          await take(bytes, known.id);
          expected!++;
          continue;
        }
        // Changed here: the chunk read ahead is not wanted.
        await prefetched?.bytes.catch(() => null);
        prefetched = null;
      }
      // Changed here (or no guide): cut from pos until a cut ends a chunk the previous file had too.
      expected = null;
      // Views into the chunker's window: take() seals each chunk (sealing copies it) before the next is cut.
      for await (const chunk of chunkerFor(size, ctx.keys).chunksRead(readerFrom(handle, pos, ctx.signal), { views: true })) {
        const id = ctx.sealer.id(chunk);
        chunkedBytes += chunk.length;
        await take(chunk, id);
        const at = guide.index.get(id);
        if (at !== undefined) {
          expected = at + 1;
          break;
        }
      }
      if (expected === null) return { size: pos, chunkedBytes };
    }
  } finally {
    // A read ahead still running (a failure while a chunk was taken) ends before the handle closes.
    await prefetched?.bytes.catch(() => undefined);
    await handle.close();
  }
}

/** A previous chunk's bytes being read back: the chunk's index in the guide and its place in the file. */
interface GuidedRead {
  index: number;
  at: number;
  bytes: Promise<Uint8Array | null>;
}

interface Guide {
  chunks: readonly { size: number; id: string }[];
  /** Keyed chunk id -> its first place in `chunks`. */
  index: Map<string, number>;
}

/** The previous chunks of the file; none when they cannot guide (packed, or another chunk-size class). */
function guideOf(previous: readonly CachedChunk[] | null, size: number): Guide {
  const none: Guide = { chunks: [], index: new Map() };
  if (!previous || previous.some((c) => c.offset !== undefined)) return none;
  const previousSize = previous.reduce((sum, c) => sum + c.size, 0);
  if (previousSize >= BIG_FILE_BYTES !== size >= BIG_FILE_BYTES) return none;
  const index = new Map<string, number>();
  for (const [i, chunk] of previous.entries()) if (!index.has(chunk.id)) index.set(chunk.id, i);
  return { chunks: previous, index };
}

/**
 * Reads the file from `position` on, each read straight into the chunker's window (at most a
 * megabyte at a time; the handle stays open), 0 at the end of the file.
 */
function readerFrom(handle: FileHandle, position: number, signal?: AbortSignal): (into: Uint8Array) => Promise<number> {
  let at = position;
  return async (into) => {
    signal?.throwIfAborted();
    const { bytesRead } = await handle.read(into, 0, Math.min(into.length, READ_BYTES), at);
    at += bytesRead;
    return bytesRead;
  };
}

/**
 * Exactly `length` bytes at `position` (a view of `scratch.bytes`, which grows as needed, valid
 * until the next read), or null when the file ends sooner. A changed model is read back this
 * way chunk by chunk: a fresh buffer per chunk was hundreds of megabytes for the collector.
 */
async function readAt(handle: FileHandle, position: number, length: number, scratch: { bytes: Uint8Array }): Promise<Uint8Array | null> {
  if (scratch.bytes.length < length) scratch.bytes = new Uint8Array(Math.max(length, scratch.bytes.length * 2));
  const bytes = scratch.bytes.subarray(0, length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(bytes, got, length - got, position + got);
    if (bytesRead === 0) return null;
    got += bytesRead;
  }
  return bytes;
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

function chunkerFor(size: number, keys: VaultKeys): ContentChunker {
  const sizes: Omit<ChunkerOptions, 'seed'> = size >= BIG_FILE_BYTES ? DEFAULT_CHUNK_SIZES : SMALL_FILE_CHUNKS;
  return new ContentChunker({ ...sizes, seed: keys.chunkerSeed });
}
