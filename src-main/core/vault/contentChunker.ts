import { createHash } from 'node:crypto';
import { HearthError } from '../common/hearthError';
import { GearScanner } from './gearScan';

export interface ChunkerOptions {
  minSize: number;
  avgSize: number;
  maxSize: number;
  /** 32 bytes; the gear table comes from it, so boundaries depend on the wallet key. */
  seed: Uint8Array;
}

export const DEFAULT_CHUNK_SIZES = { minSize: 64 * 1024, avgSize: 256 * 1024, maxSize: 1024 * 1024 } as const;

/** Scan position (relative to the chunk's start) and rolling hash of the chunk being cut, kept across input pieces. */
interface ScanState {
  scanned: number;
  hash: number;
}

/** The largest maxSize: the chunker's window (twice maxSize) lives in 32-bit WebAssembly memory. */
const MAX_CHUNK_LIMIT = 1024 * 1024 * 1024;

/**
 * FastCDC-style content-defined chunking with normalized chunking: a harder mask before the
 * average size and an easier one after it pull chunk sizes towards the average. Equal content
 * cuts at equal places, so an edit only changes the chunks around it.
 */
export class ContentChunker {
  private readonly minSize: number;
  private readonly avgSize: number;
  private readonly maxSize: number;
  private readonly gear: Int32Array;
  private readonly maskHard: number;
  private readonly maskEasy: number;

  constructor(options: ChunkerOptions) {
    const { minSize, avgSize, maxSize, seed } = options;
    for (const [name, value] of Object.entries({ minSize, avgSize, maxSize })) {
      if (!Number.isSafeInteger(value) || value < 1) {
        throw new HearthError('BAD_INPUT', `The chunker's ${name} must be a positive whole number of bytes.`);
      }
    }
    if (!(minSize < avgSize && avgSize < maxSize)) {
      throw new HearthError('BAD_INPUT', 'The chunker needs minSize < avgSize < maxSize.');
    }
    if (maxSize > MAX_CHUNK_LIMIT) {
      throw new HearthError('BAD_INPUT', 'The chunker maxSize must be at most 1 GiB.');
    }
    const bits = Math.round(Math.log2(avgSize));
    if (bits < 4 || bits > 28) {
      throw new HearthError('BAD_INPUT', 'The chunker avgSize must be between 16 bytes and 256 MiB.');
    }
    if (seed.length !== 32) {
      throw new HearthError('BAD_INPUT', 'The chunker seed must be 32 bytes.');
    }
    this.minSize = minSize;
    this.avgSize = avgSize;
    this.maxSize = maxSize;
    this.gear = gearTable(seed);
    // Top bits: with a shift-left gear hash they depend on the last 32 bytes, the low ones on fewer.
    this.maskHard = topBits(bits + 2);
    this.maskEasy = topBits(bits - 2);
  }

  /**
   * The chunks of the source, in order. Each is a copy of its bytes, unless `views`: then it is
   * a view into the chunker's window, valid only until the next chunk is asked for (no copy and
   * no allocation per chunk, for a caller that is done with each before it asks for the next).
   * A piece of the source is copied into the window before the next piece is asked for, so the
   * source may reuse its buffer.
   */
  async *chunks(source: AsyncIterable<Uint8Array>, options: { views?: boolean } = {}): AsyncGenerator<Uint8Array> {
    const pieces = source[Symbol.asyncIterator]();
    let piece: Uint8Array = new Uint8Array(0);
    let offset = 0;
    const copyInto = async (room: Uint8Array): Promise<number> => {
      while (offset === piece.length) {
        const next = await pieces.next();
        if (next.done === true) return 0;
        piece = next.value;
        offset = 0;
      }
      const n = Math.min(piece.length - offset, room.length);
      room.set(piece.subarray(offset, offset + n));
      offset += n;
      return n;
    };
    try {
      yield* this.chunksRead(copyInto, options);
    } finally {
      // Stopped early (the caller broke off): the source is told, as a for-await over it would.
      await pieces.return?.();
    }
  }

  /**
   * The chunks of what `read` puts straight into the chunker's window (a file read lands where
   * the gear scan runs: no copy of each piece). `read(into)` fills a prefix of `into` (the free
   * end of the window) and says how many bytes it wrote, 0 at the end of the input. Chunks as
   * chunks() gives them (the same cuts whatever each read returns).
   */
  async *chunksRead(read: (into: Uint8Array) => Promise<number>, options: { views?: boolean } = {}): AsyncGenerator<Uint8Array> {
    const take = options.views === true ? (from: number, to: number) => buffer.subarray(from, to) : (from: number, to: number) => buffer.slice(from, to);
    // Twice maxSize: whenever the buffer is full at least maxSize bytes were cut, so each
    // compaction moves at most as many bytes as were consumed (only the chunk not yet cut).
    const scanner = new GearScanner(this.gear, this.maxSize * 2);
    const buffer = scanner.data;
    let start = 0;
    let end = 0;
    const state: ScanState = { scanned: 0, hash: 0 };
    for (;;) {
      if (end === buffer.length) {
        buffer.copyWithin(0, start, end);
        end -= start;
        start = 0;
      }
      const n = await read(buffer.subarray(end));
      if (n === 0) break;
      end += n;
      for (;;) {
        const cut = this.findCut(scanner, start, end, state);
        if (cut === 0) break;
        yield take(start, start + cut);
        start += cut;
        state.scanned = 0;
        state.hash = 0;
      }
    }
    if (end > start) yield take(start, end);
  }

  /** Length of the chunk starting at `start`, or 0 when more input is needed to decide. */
  private findCut(scanner: GearScanner, start: number, end: number, state: ScanState): number {
    // Bytes before minSize can never end a chunk, so they are not hashed at all.
    const from = start + Math.max(state.scanned, this.minSize);
    const hardEnd = Math.min(end, start + this.avgSize);
    const easyEnd = Math.min(end, start + this.maxSize);
    const reached = { hash: state.hash, position: from };
    const cut = scanner.scan(from, hardEnd, easyEnd, reached, this.maskHard, this.maskEasy);
    if (cut >= 0) return cut - start;
    if (end - start >= this.maxSize) return this.maxSize;
    state.scanned = reached.position - start;
    state.hash = reached.hash;
    return 0;
  }
}

/** The last seed's gear table: a snapshot makes a chunker for every changed file, all with its wallet's seed. */
let lastGear: { seed: string; table: Int32Array } | null = null;

/** 256 pseudo-random words: sha256(seed || counter) for counters 0..31, 8 words each. */
function gearTable(seed: Uint8Array): Int32Array {
  const seedHex = Buffer.from(seed).toString('hex');
  if (lastGear?.seed === seedHex) return lastGear.table;
  const table = new Int32Array(256);
  const input = new Uint8Array(seed.length + 4);
  input.set(seed);
  const counter = new DataView(input.buffer, seed.length, 4);
  for (let block = 0; block < 32; block++) {
    counter.setUint32(0, block, true);
    const hash = createHash('sha256').update(input).digest();
    for (let word = 0; word < 8; word++) table[block * 8 + word] = hash.readInt32LE(word * 4);
  }
  lastGear = { seed: seedHex, table };
  return table;
}

function topBits(count: number): number {
  return (((1 << count) - 1) << (32 - count)) | 0;
}
