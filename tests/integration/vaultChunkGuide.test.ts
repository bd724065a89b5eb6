import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, describe, expect, it } from 'vitest';
import { newDataKey } from '../../src-main/core/vault/blockCipher';
import { ChunkSealer, type ChunkRef } from '../../src-main/core/vault/chunkSealer';
import { readFileInto } from '../../src-main/core/vault/fileChunking';
import { LocalBlockStore } from '../../src-main/core/vault/localBlockStore';
import { SmallFilePacker } from '../../src-main/core/vault/smallFilePacker';
import { deriveVaultKeys } from '../../src-main/core/vault/vaultKeys';
import { VaultRepository } from '../../src-main/core/vault/vaultRepository';
import { chunksDescribe } from '../support/chunkDigest';
import { tempDir } from '../support/tempDir';

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The previous snapshot's chunk list of a path guides the chunker: where the bytes are those of a
 * previous chunk they are taken without chunking; the chunks are always the ones a full pass makes.
 */
describe('vault: chunking guided by the previous chunks of the same file', () => {
  const dir = tempDir('hearth-chunk-guide-');
  const repo = VaultRepository.open(join(dir.path, 'vault.db'));
  const deps = { repo, blocks: new LocalBlockStore(join(dir.path, 'blocks')) };
  const keys = deriveVaultKeys(Wallet.createRandom().privateKey);
  const dataKey = newDataKey();
  const path = join(dir.path, 'hearth.db');

  afterAll(() => {
    repo.close();
    dir.cleanup();
  });

  async function chunk(previous: ChunkRef[] | null) {
    const sealer = new ChunkSealer(deps, dataKey, keys.chunkIdKey);
    const refs: ChunkRef[] = [];
    const size = readFileSync(path).length;
    const result = await readFileInto({ path: 'hearth.db', source: path, size, mode: 0o600, origin: 'copy' }, previous, { sealer, packer: new SmallFilePacker(sealer), keys }, (ref) => refs.push(ref), () => undefined).finally(
      () => sealer.drain().finally(() => sealer.close()),
    );
    expect(result.size).toBe(size);
    // The file's digest is its chunk list (manifest /3): it describes exactly the file's bytes.
    expect(chunksDescribe(refs, readFileSync(path), keys.chunkIdKey)).toBe(true);
    return { refs, chunkedBytes: result.chunkedBytes, cuts: refs.map((r) => [r.size, r.id]) };
  }

  it('takes an unchanged file without chunking it, and an edited one chunking only around the edits, as a full pass would cut it', async () => {
    const original = randomBytes(3 * MiB);
    writeFileSync(path, original);
    const first = await chunk(null);
    expect(first.chunkedBytes).toBe(3 * MiB);
    expect(first.refs.length).toBeGreaterThan(20);

    const unchanged = await chunk(first.refs);
    expect(unchanged.chunkedBytes).toBe(0);
    expect(unchanged.cuts).toEqual(first.cuts);

    const edits: Array<[string, Buffer]> = [
      ['100 bytes inserted in the middle', Buffer.concat([original.subarray(0, 1.5 * MiB), randomBytes(100), original.subarray(1.5 * MiB)])],
      ['a page overwritten near the start', Buffer.concat([original.subarray(0, 40 * KiB), randomBytes(4 * KiB), original.subarray(44 * KiB)])],
      ['10 KiB appended', Buffer.concat([original, randomBytes(10 * KiB)])],
      ['cut to 2 MiB', original.subarray(0, 2 * MiB)],
    ];
    for (const [what, bytes] of edits) {
      writeFileSync(path, bytes);
      const guided = await chunk(first.refs);
      const full = await chunk(null);
      expect(guided.cuts, what).toEqual(full.cuts);
      // Only the chunks around the edit went through the chunker.
      expect(guided.chunkedBytes, what).toBeLessThan(800 * KiB);
    }
  });

  it('a guide from another file is harmless: every byte is chunked, the cuts are a full pass\'s', async () => {
    writeFileSync(path, randomBytes(2 * MiB));
    const other = await chunk(null);
    writeFileSync(path, randomBytes(2 * MiB + 123));
    const guided = await chunk(other.refs);
    const full = await chunk(null);
    expect(guided.cuts).toEqual(full.cuts);
    expect(guided.chunkedBytes).toBe(2 * MiB + 123);
  });
});
