import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { CarWriter } from '@ipld/car/writer';
import { afterEach, describe, expect, it } from 'vitest';
import { CarBlockIndex, writeCar } from '../../../src-main/core/vault/carFile';
import { LocalBlockStore } from '../../../src-main/core/vault/localBlockStore';
import type { Block } from '../../../src-main/core/vault/types';
import { listBlock, randomBlocks, sameBytes } from '../../support/carBlocks';
import { tempDir } from '../../support/tempDir';

const MiB = 1024 * 1024;
const dirs: Array<{ cleanup: () => void }> = [];
function scratch(): string {
  const dir = tempDir('hearth-car-');
  dirs.push(dir);
  return dir.path;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

/** The CAR @ipld/car's own writer makes of the same root and blocks. */
async function referenceCar(root: Block, blocks: Block[]): Promise<Uint8Array> {
  const { writer, out } = CarWriter.create([root.cid]);
  const parts: Uint8Array[] = [];
  const collected = (async () => {
    for await (const part of out) parts.push(part);
  })();
  for (const block of [root, ...blocks]) await writer.put(block);
  await writer.close();
  await collected;
  return Buffer.concat(parts);
}

describe('writeCar', () => {
  it('writes the bytes @ipld/car writes, for empty, tiny, many small and larger-than-a-batch blocks', async () => {
    const blocks = await randomBlocks([0, 1, 127, 128, 300, ...Array.from({ length: 40 }, (_, i) => 1000 + i * 37), MiB, 5 * MiB, 70_000]);
    const root = await listBlock(blocks);
    const car = await writeCar(join(scratch(), 'mine.car'), root.cid, [root, ...blocks]);
    const written = readFileSync(car.path);
    expect(car.size).toBe(written.length);
    expect(sameBytes(written, await referenceCar(root, blocks))).toBe(true);
  });

  it('takes a block source that reuses one buffer for every block', async () => {
    const blocks = await randomBlocks(Array.from({ length: 30 }, (_, i) => 20_000 + i * 9_000));
    const root = await listBlock(blocks);
    const shared = new Uint8Array(MiB);
    async function* reusing(): AsyncGenerator<Block> {
      for (const block of [root, ...blocks]) {
        shared.set(block.bytes);
        yield { cid: block.cid, bytes: shared.subarray(0, block.bytes.length) };
        // Whatever the consumer kept of the last block is overwritten now.
        shared.fill(0xee);
      }
    }
    const car = await writeCar(join(scratch(), 'reused.car'), root.cid, reusing());
    expect(sameBytes(readFileSync(car.path), await referenceCar(root, blocks))).toBe(true);
    const index = await CarBlockIndex.open([car.path]);
    try {
      for (const block of blocks) expect(sameBytes(await index.get(block.cid), block.bytes)).toBe(true);
    } finally {
      await index.close();
    }
  });
});

describe('LocalBlockStore.read', () => {
  it('reads a block into the scratch buffer when it fits, into a buffer of its own when not, and says NOT_FOUND for a missing one', async () => {
    const store = new LocalBlockStore(join(scratch(), 'blocks'));
    const [small, big, missing] = await randomBlocks([1000, 3000, 10]);
    for (const block of [small!, big!]) await store.put(block, true);
    await store.sync();
    const buffer = new Uint8Array(2000);
    const first = store.read(small!.cid, buffer);
    expect(first.buffer).toBe(buffer.buffer);
    expect(sameBytes(first, small!.bytes)).toBe(true);
    const second = store.read(big!.cid, buffer);
    expect(second.buffer).not.toBe(buffer.buffer);
    expect(sameBytes(second, big!.bytes)).toBe(true);
    expect(() => store.read(missing!.cid, buffer)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
    expect(await store.has(small!.cid)).toBe(true);
    expect(await store.has(missing!.cid)).toBe(false);
    expect(await store.size(big!.cid.toString())).toBe(3000);
    expect(await store.size(missing!.cid.toString())).toBeNull();
  });
});

describe('CarBlockIndex.get into a lent buffer', () => {
  it('reads a block into the lent buffer when it fits, into a buffer of its own when not', async () => {
    const blocks = await randomBlocks([1000, 3000]);
    const [small, big] = blocks;
    const root = await listBlock(blocks);
    const dir = scratch();
    const car = await writeCar(join(dir, 'lent.car'), root.cid, [root, ...blocks]);
    const index = await CarBlockIndex.open([car.path]);
    try {
      const lent = new Uint8Array(2000).fill(0xee);
      const first = await index.get(small!.cid, { into: lent });
      expect(first.buffer).toBe(lent.buffer);
      expect(sameBytes(first, small!.bytes)).toBe(true);
      const second = await index.get(big!.cid, { into: lent });
      expect(second.buffer).not.toBe(lent.buffer);
      expect(sameBytes(second, big!.bytes)).toBe(true);
      // Without one, every block has a buffer of its own.
      const third = await index.get(small!.cid);
      expect(third.buffer).not.toBe(lent.buffer);
      expect(sameBytes(third, small!.bytes)).toBe(true);
    } finally {
      await index.close();
    }
  });
});

describe('CarBlockIndex: files held open while reads come', () => {
  /** How many of this process's descriptors are open on `path` (Linux: /proc/self/fd). */
  function openOn(path: string): number {
    return readdirSync('/proc/self/fd').filter((fd) => {
      try {
        return readlinkSync(`/proc/self/fd/${fd}`) === path;
      } catch {
        return false;
      }
    }).length;
  }

  it('keeps the CAR open across reads, closes it once reads stop, and opens it again for the next read', async () => {
    const blocks = await randomBlocks([1000, 2000, 3000]);
    const root = await listBlock(blocks);
    const car = await writeCar(join(scratch(), 'held.car'), root.cid, [root, ...blocks]);
    const index = await CarBlockIndex.open([car.path]);
    try {
      expect(openOn(car.path)).toBe(0);
      await Promise.all(blocks.map((block) => index.get(block.cid)));
      expect(openOn(car.path)).toBe(1);
      // Closed within two idle periods (200 ms each) of the last read.
      await new Promise((resolve) => setTimeout(resolve, 650));
      expect(openOn(car.path)).toBe(0);
      expect(sameBytes(await index.get(blocks[2]!.cid), blocks[2]!.bytes)).toBe(true);
      expect(openOn(car.path)).toBe(1);
    } finally {
      await index.close();
    }
    expect(openOn(car.path)).toBe(0);
  });
});
