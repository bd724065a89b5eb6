import { existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha512 } from 'multiformats/hashes/sha2';
import { afterEach, describe, expect, it } from 'vitest';
import { CarAppender } from '../../../src-main/core/vault/carAppender';
import { CarBlockIndex, writeCar } from '../../../src-main/core/vault/carFile';
import { FolderTarget } from '../../../src-main/core/vault/targets/folderTarget';
import { listBlock, randomBlocks, rawBlock } from '../../support/carBlocks';
import { tempDir } from '../../support/tempDir';

const MiB = 1024 * 1024;
const dirs: Array<{ cleanup: () => void }> = [];
function scratch(): string {
  const dir = tempDir('hearth-car-append-');
  dirs.push(dir);
  return dir.path;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) dir.cleanup();
});

describe('CarAppender: a CAR written before its root is known', () => {
  it('writes the bytes writeCar writes for the same blocks in the same order, the root named at the end', async () => {
    const blocks = await randomBlocks([0, 1, 127, 128, 300, ...Array.from({ length: 60 }, (_, i) => 1000 + i * 37), MiB, 5 * MiB, 70_000, 3 * MiB]);
    const root = await listBlock(blocks);
    const dir = scratch();
    const car = await CarAppender.create(join(dir, 'appended.car'));
    // The caller reuses one buffer for every block: append must have copied it before returning.
    const reused = new Uint8Array(6 * MiB);
    for (const block of [...blocks, root]) {
      reused.set(block.bytes);
      await car.append({ cid: block.cid, bytes: reused.subarray(0, block.bytes.length) });
      reused.fill(0xee, 0, block.bytes.length);
    }
    // A repeat is not written twice.
    await car.append(blocks[3]!);
    expect(car.has(root.cid.toString())).toBe(true);
    const size = await car.finish(root.cid);
    const reference = await writeCar(join(dir, 'reference.car'), root.cid, [...blocks, root]);
    const written = readFileSync(join(dir, 'appended.car'));
    expect(size).toBe(reference.size);
    expect(written.equals(readFileSync(reference.path))).toBe(true);
    const index = await CarBlockIndex.open([join(dir, 'appended.car')]);
    try {
      expect(index.roots().map(String)).toEqual([root.cid.toString()]);
      expect(index.size).toBe(blocks.length + 1);
      expect(Buffer.from(await index.get(blocks.at(-2)!.cid)).equals(Buffer.from(blocks.at(-2)!.bytes))).toBe(true);
    } finally {
      await index.close();
    }
  });

  it('reads back a block appended earlier, written or still in its batch', async () => {
    const blocks = await randomBlocks([5000, 3 * MiB, 200, 2 * MiB, 77]);
    const car = await CarAppender.create(join(scratch(), 'read.car'));
    for (const block of blocks) {
      await car.append(block);
      for (const earlier of blocks.slice(0, blocks.indexOf(block) + 1)) {
        expect(Buffer.from(await car.read(earlier.cid.toString())).equals(Buffer.from(earlier.bytes))).toBe(true);
      }
    }
    await expect(car.read((await rawBlock(new Uint8Array([9]))).cid.toString())).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await car.abort();
  });

  it('abort deletes the file; a root of another kind is refused (INTERNAL) and nothing is appended after', async () => {
    const dir = scratch();
    const blocks = await randomBlocks([100, 200]);
    const aborted = await CarAppender.create(join(dir, 'aborted.car'));
    await aborted.append(blocks[0]!);
    await aborted.abort();
    expect(existsSync(join(dir, 'aborted.car'))).toBe(false);
    await expect(aborted.append(blocks[1]!)).rejects.toMatchObject({ code: 'INTERNAL' });

    const wrongRoot = await CarAppender.create(join(dir, 'raw-root.car'));
    await wrongRoot.append(blocks[0]!);
    // A root hashed with SHA-512 has a longer CID, so its header would not fit the room left.
    const sha512Root = CID.createV1(raw.code, await sha512.digest(blocks[0]!.bytes));
    await expect(wrongRoot.finish(sha512Root)).rejects.toMatchObject({ code: 'INTERNAL' });
    await wrongRoot.abort();
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe('FolderTarget.openCarStream', () => {
  it('writes under a temp name, renames to <root>.car when finished; abort leaves nothing; a dead writer’s temp file is swept', async () => {
    const folder = scratch();
    const target = new FolderTarget(folder);
    const cars = join(folder, 'hearth-vault', 'cars');
    const blocks = await randomBlocks([1000, 2 * MiB]);
    const root = await listBlock(blocks);

    const stream = await target.openCarStream();
    for (const block of blocks) await stream.append(block);
    const temp = readdirSync(cars);
    expect(temp).toHaveLength(1);
    expect(temp[0]).toMatch(/^[0-9a-f]{8}-\d+-[0-9a-f]+\.incoming$/);
    await stream.append(root);
    const sent = await stream.finish(root.cid);
    expect(sent.location).toBe(join(cars, `${root.cid.toString()}.car`));
    expect(readdirSync(cars)).toEqual([`${root.cid.toString()}.car`]);
    const fetched = await target.fetcher().get(blocks[1]!.cid);
    expect(Buffer.from(fetched).equals(Buffer.from(blocks[1]!.bytes))).toBe(true);

    const dropped = await target.openCarStream();
    await dropped.append(blocks[0]!);
    await dropped.abort();
    expect(readdirSync(cars)).toEqual([`${root.cid.toString()}.car`]);

    // A killed writer of this machine (a pid that is not running), an old temp file of another machine,
    // and a recent one of another machine (left alone: it may be publishing now).
    const machine = temp[0]!.split('-')[0]!;
    writeFileSync(join(cars, `${machine}-999999999-abcdef.incoming`), 'killed');
    writeFileSync(join(cars, `${machine}-999999999-abcdef.incoming.part`), 'killed');
    writeFileSync(join(cars, 'ffffffff-12-0123.incoming'), 'old');
    utimesSync(join(cars, 'ffffffff-12-0123.incoming'), new Date(Date.now() - 2 * 86_400_000), new Date(Date.now() - 2 * 86_400_000));
    writeFileSync(join(cars, 'eeeeeeee-12-0123.incoming'), 'busy elsewhere');
    const next = await target.openCarStream();
    expect(readdirSync(cars).sort()).toEqual([`${root.cid.toString()}.car`, 'eeeeeeee-12-0123.incoming', ...readdirSync(cars).filter((n) => n.startsWith(`${machine}-${process.pid}-`))].sort());
    await next.abort();
  });
});
