import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CarIndexer } from '@ipld/car/indexer';
import { CID } from 'multiformats/cid';
import { identity } from 'multiformats/hashes/identity';
import { sha256 } from 'multiformats/hashes/sha2';
import { afterEach, describe, expect, it } from 'vitest';
import { HearthError } from '../../../src-main/core/common/hearthError';
import { CarBlockIndex, writeCar } from '../../../src-main/core/vault/carFile';
import type { Block } from '../../../src-main/core/vault/types';
import { listBlock, randomBlocks, sameBytes } from '../../support/carBlocks';
import { tempDir } from '../../support/tempDir';

const dirs: Array<{ cleanup: () => void }> = [];
function scratch(): string {
  const dir = tempDir('hearth-car-index-');
  dirs.push(dir);
  return dir.path;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

async function errorOf(promise: Promise<unknown>): Promise<HearthError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HearthError) return error;
    throw error;
  }
  throw new Error('expected a HearthError');
}

/**
 * Blocks whose section heads fall everywhere: CIDv0 (dag-pb), CIDv1 raw and dag-cbor, tiny
 * blocks (several heads in one page), blocks around the page size (heads across a page's end),
 * and an identity CID of 5,000 bytes (a head longer than a page).
 */
async function mixedBlocks(): Promise<Block[]> {
  const blocks = await randomBlocks([0, 1, 5, 4000, 4090, 4096, 4100, 70_000, 300, 12]);
  const v0Bytes = new Uint8Array(randomBytes(900));
  blocks.splice(3, 0, { cid: CID.createV0(await sha256.digest(v0Bytes)), bytes: v0Bytes });
  const inline = new Uint8Array(randomBytes(5000));
  blocks.splice(7, 0, { cid: CID.createV1(0x55, identity.digest(inline)), bytes: new Uint8Array(randomBytes(3)) });
  return blocks;
}

describe('CarBlockIndex.open (the section-head reader)', () => {
  it('finds every block @ipld/car indexes, at the same offsets, whatever the CID and wherever its head falls', async () => {
    const dir = scratch();
    const blocks = await mixedBlocks();
    const root = await listBlock(blocks);
    const car = await writeCar(join(dir, 'mixed.car'), root.cid, [root, ...blocks]);
    const reference: Array<{ cid: CID; blockOffset: number; blockLength: number }> = [];
    for await (const entry of await CarIndexer.fromBytes(readFileSync(car.path))) reference.push(entry);
    expect(reference).toHaveLength(blocks.length + 1);

    const index = await CarBlockIndex.open([car.path]);
    try {
      expect(index.roots().map(String)).toEqual([root.cid.toString()]);
      expect(index.size).toBe(blocks.length + 1);
      for (const [i, block] of [root, ...blocks].entries()) {
        expect(reference[i]!.cid.equals(block.cid)).toBe(true);
        expect(index.has(block.cid)).toBe(true);
        expect(sameBytes(await index.get(block.cid), block.bytes), block.cid.toString()).toBe(true);
      }
    } finally {
      await index.close();
    }
  });

  it('refuses the same CAR cut at every byte inside it as CORRUPT_FILE, and indexes it cut between sections', async () => {
    const dir = scratch();
    const blocks = await mixedBlocks();
    const root = await listBlock(blocks);
    const car = await writeCar(join(dir, 'whole.car'), root.cid, [root, ...blocks]);
    const whole = readFileSync(car.path);
    const sections: Array<{ offset: number; blockOffset: number; blockLength: number }> = [];
    for await (const entry of await CarIndexer.fromBytes(whole)) sections.push(entry);
    // A cut between sections (or right after the header) leaves a shorter, valid CAR.
    const ends = new Set<number>([sections[0]!.offset, ...sections.map((s) => s.blockOffset + s.blockLength)]);
    // Every byte of every section head and a few around it, and a stride through the blocks.
    const cuts = Array.from({ length: whole.length + 1 }, (_, i) => i).filter(
      (i) => i % 211 === 0 || ends.has(i) || sections.some((s) => i >= s.offset - 3 && i <= s.blockOffset + 3),
    );
    const path = join(dir, 'cut.car');
    let complete = 0;
    for (const at of cuts) {
      writeFileSync(path, whole.subarray(0, at));
      if (ends.has(at)) {
        const shorter = await CarBlockIndex.open([path]);
        expect(shorter.size, `cut at ${at}`).toBe(sections.filter((s) => s.blockOffset + s.blockLength <= at).length);
        await shorter.close();
        complete++;
        continue;
      }
      const error = await errorOf(CarBlockIndex.open([path]));
      expect(error.code, `cut at ${at}`).toBe('CORRUPT_FILE');
      expect(error.message).toMatch(/truncated or not a CAR file/);
    }
    expect(complete).toBe(ends.size);
  });

  it('names what is wrong in a section whose head is not a CID', async () => {
    const dir = scratch();
    const [block] = await randomBlocks([100]);
    const car = await writeCar(join(dir, 'ok.car'), block!.cid, [block!]);
    const whole = Buffer.from(readFileSync(car.path));
    const headerEnd = whole.length - 100 - block!.cid.bytes.length - 1;
    // The section's CID claims version 2.
    whole[headerEnd + 1] = 0x02;
    const path = join(dir, 'bad.car');
    writeFileSync(path, whole);
    const error = await errorOf(CarBlockIndex.open([path]));
    expect(error.code).toBe('CORRUPT_FILE');
    expect(error.message).toContain('Unexpected CID version (2)');
  });
});
