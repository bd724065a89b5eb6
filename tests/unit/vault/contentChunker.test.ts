import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HearthError } from '../../../src-main/core/common/hearthError';
import { type ChunkerOptions, ContentChunker, DEFAULT_CHUNK_SIZES } from '../../../src-main/core/vault/contentChunker';

const SEED = new Uint8Array(32).fill(1);
const SMALL = { minSize: 1024, avgSize: 4096, maxSize: 16384 };

/** Deterministic pseudo-random bytes (xorshift32), so the tests never flake. */
function randomData(length: number, seed = 12345): Uint8Array {
  const words = new Uint32Array(Math.ceil(length / 4));
  let x = seed;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return new Uint8Array(words.buffer, 0, length);
}

async function* pieces(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function chunk(options: ChunkerOptions, data: Uint8Array, pieceSize = 64 * 1024): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of new ContentChunker(options).chunks(pieces(data, pieceSize))) out.push(c);
  return out;
}

const lengths = (chunks: Uint8Array[]): number[] => chunks.map((c) => c.length);
const hash = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');
const concat = (chunks: Uint8Array[]): Buffer => Buffer.concat(chunks);

/**
 * The cut rule written out plainly, over the whole input at once: the gear table from
 * sha256(seed || counter), a hash of the bytes past minSize, the harder mask before avgSize.
 * The chunker (its loop in WebAssembly) must cut exactly here, or the chunks of snapshots
 * taken before would no longer be reused.
 */
function referenceLengths(data: Uint8Array, sizes: { minSize: number; avgSize: number; maxSize: number }, seed: Uint8Array): number[] {
  const gear = new Int32Array(256);
  for (let block = 0; block < 32; block++) {
    const counter = Buffer.alloc(4);
    counter.writeUInt32LE(block);
    const digest = createHash('sha256').update(seed).update(counter).digest();
    for (let word = 0; word < 8; word++) gear[block * 8 + word] = digest.readInt32LE(word * 4);
  }
  const bits = Math.round(Math.log2(sizes.avgSize));
  const top = (n: number) => (((1 << n) - 1) << (32 - n)) | 0;
  const out: number[] = [];
  for (let start = 0; start < data.length; ) {
    const limit = Math.min(sizes.maxSize, data.length - start);
    let length = limit;
    let h = 0;
    for (let i = start + sizes.minSize; i < start + limit; i++) {
      h = ((h << 1) + gear[data[i]!]!) | 0;
      if ((h & (i < start + sizes.avgSize ? top(bits + 2) : top(bits - 2))) === 0) {
        length = i + 1 - start;
        break;
      }
    }
    out.push(length);
    start += length;
  }
  return out;
}

describe('ContentChunker', () => {
  it('cuts exactly where the plain cut rule does, whatever the input piece sizes', async () => {
    const seed = Uint8Array.from({ length: 32 }, (_, i) => i * 7);
    const data = randomData(6 * 1024 * 1024, 777);
    // A run of zeros (no content boundaries: maxSize cuts) and a short tail.
    data.fill(0, 2_000_000, 2_000_000 + 3 * 1024 * 1024 + 123);
    // Odd sizes too: the scan takes four bytes a turn, and its bounds must not line up with that.
    for (const sizes of [SMALL, DEFAULT_CHUNK_SIZES, { minSize: 16 * 1024, avgSize: 64 * 1024, maxSize: 256 * 1024 }, { minSize: 1001, avgSize: 4099, maxSize: 16387 }]) {
      const expected = referenceLengths(data, sizes, seed);
      expect(expected.length).toBeGreaterThan(5);
      for (const pieceSize of [7_777, 1024 * 1024]) {
        expect(lengths(await chunk({ ...sizes, seed }, data, pieceSize)), `${sizes.avgSize}/${pieceSize}`).toEqual(expected);
      }
    }
  });

  it('is deterministic and its chunks concatenate to the input', async () => {
    const data = randomData(8 * 1024 * 1024);
    const a = await chunk({ ...DEFAULT_CHUNK_SIZES, seed: SEED }, data);
    const b = await chunk({ ...DEFAULT_CHUNK_SIZES, seed: SEED }, data);
    expect(a.length).toBeGreaterThan(8);
    expect(lengths(a)).toEqual(lengths(b));
    expect(concat(a).equals(Buffer.from(data))).toBe(true);
  });

  it('keeps every chunk but the last within [min, max], and the mean near avg', async () => {
    const random = await chunk({ ...SMALL, seed: SEED }, randomData(2 * 1024 * 1024));
    // All-zero input has no content boundaries: it exercises the maxSize cut.
    const zeros = await chunk({ ...SMALL, seed: SEED }, new Uint8Array(100_000));
    for (const chunks of [random, zeros]) {
      for (const size of lengths(chunks).slice(0, -1)) {
        expect(size).toBeGreaterThanOrEqual(SMALL.minSize);
        expect(size).toBeLessThanOrEqual(SMALL.maxSize);
      }
    }
    const mean = (2 * 1024 * 1024) / random.length;
    expect(mean).toBeGreaterThan(SMALL.avgSize / 2);
    expect(mean).toBeLessThan(SMALL.avgSize * 2);
    expect(concat(zeros).equals(Buffer.alloc(100_000))).toBe(true);
  });

  it('keeps at least 90% of the bytes in shared chunks after an insertion near the start', async () => {
    const data = randomData(8 * 1024 * 1024);
    const edited = Buffer.concat([data.subarray(0, 1000), randomData(100, 999), data.subarray(1000)]);
    const options = { ...DEFAULT_CHUNK_SIZES, seed: SEED };
    const before = new Set((await chunk(options, data)).map(hash));
    const after = await chunk(options, edited);
    const shared = after.filter((c) => before.has(hash(c))).reduce((sum, c) => sum + c.length, 0);
    expect(shared / edited.length).toBeGreaterThanOrEqual(0.9);
  });

  it('cuts elsewhere under another seed', async () => {
    const data = randomData(2 * 1024 * 1024);
    const a = lengths(await chunk({ ...SMALL, seed: SEED }, data));
    const b = lengths(await chunk({ ...SMALL, seed: new Uint8Array(32).fill(2) }, data));
    expect(b).not.toEqual(a);
  });

  it('yields nothing for empty input and one chunk for input under minSize', async () => {
    expect(await chunk({ ...SMALL, seed: SEED }, new Uint8Array(0))).toEqual([]);
    const small = randomData(SMALL.minSize - 1);
    const chunks = await chunk({ ...SMALL, seed: SEED }, small);
    expect(chunks).toHaveLength(1);
    expect(Buffer.from(chunks[0]!).equals(Buffer.from(small))).toBe(true);
  });

  it('gives identical chunks whatever the input piece sizes', async () => {
    const data = randomData(300_000);
    const whole = lengths(await chunk({ ...SMALL, seed: SEED }, data, data.length));
    expect(whole.length).toBeGreaterThan(10);
    for (const size of [1, 7, 1024 * 1024]) {
      expect(lengths(await chunk({ ...SMALL, seed: SEED }, data, size))).toEqual(whole);
    }
    const big = randomData(3 * 1024 * 1024);
    const bigWhole = await chunk({ ...DEFAULT_CHUNK_SIZES, seed: SEED }, big, big.length);
    for (const size of [7, 1024 * 1024]) {
      const chunks = await chunk({ ...DEFAULT_CHUNK_SIZES, seed: SEED }, big, size);
      expect(chunks.map(hash)).toEqual(bigWhole.map(hash));
    }
  });

  it('hands out views with the same bytes as the copies, from a source that reuses its buffer', async () => {
    const data = randomData(5 * 1024 * 1024, 777);
    const copies = (await chunk({ ...DEFAULT_CHUNK_SIZES, seed: SEED }, data, 1024 * 1024)).map(hash);
    // One buffer for every piece, overwritten after each, as the file reader does.
    const shared = new Uint8Array(300_000);
    async function* reused(): AsyncGenerator<Uint8Array> {
      for (let i = 0; i < data.length; i += shared.length) {
        const piece = data.subarray(i, i + shared.length);
        shared.set(piece);
        yield shared.subarray(0, piece.length);
        shared.fill(0xaa);
      }
    }
    const views: string[] = [];
    for await (const view of new ContentChunker({ ...DEFAULT_CHUNK_SIZES, seed: SEED }).chunks(reused(), { views: true })) views.push(hash(view));
    expect(views).toEqual(copies);
  });

  it('cuts the same chunks from reads straight into its window, whatever each read returns', async () => {
    const data = randomData(5 * 1024 * 1024, 4242);
    const copies = (await chunk({ ...DEFAULT_CHUNK_SIZES, seed: SEED }, data, 1024 * 1024)).map(hash);
    for (const most of [1_000_003, 1024 * 1024, 7 * 1024 * 1024]) {
      let at = 0;
      const reads: number[] = [];
      const read = async (into: Uint8Array) => {
        const n = Math.min(most, into.length, data.length - at);
        into.set(data.subarray(at, at + n));
        at += n;
        reads.push(n);
        return n;
      };
      const views: string[] = [];
      for await (const view of new ContentChunker({ ...DEFAULT_CHUNK_SIZES, seed: SEED }).chunksRead(read, { views: true })) views.push(hash(view));
      expect(views).toEqual(copies);
      // Every read was offered room (the window is never full when it asks), and the last said the end.
      expect(reads.at(-1)).toBe(0);
      expect(reads.slice(0, -1).every((n) => n > 0)).toBe(true);
    }
  });

  it('rejects bad options', () => {
    const bad: ChunkerOptions[] = [
      { ...SMALL, minSize: 4096, seed: SEED },
      { ...SMALL, maxSize: 4096, seed: SEED },
      { ...SMALL, minSize: 0, seed: SEED },
      { ...SMALL, avgSize: 4096.5, seed: SEED },
      { ...SMALL, seed: new Uint8Array(31) },
    ];
    for (const options of bad) {
      expect(() => new ContentChunker(options)).toThrow(HearthError);
    }
  });
});
