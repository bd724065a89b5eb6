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

describe('ContentChunker', () => {
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
