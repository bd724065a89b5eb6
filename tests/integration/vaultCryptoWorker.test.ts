import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Wallet } from 'ethers';
import { CID } from 'multiformats/cid';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { HearthError } from '../../src-main/core/common/hearthError';
import { newDataKey, openChunk, sealChunk, sealedChunkLength, wrapDataKey } from '../../src-main/core/vault/blockCipher';
import { CONTROL } from '../../src-main/core/vault/cryptoProtocol';
import { VaultCryptoWorker } from '../../src-main/core/vault/cryptoWorker';
import { LocalBlockStore } from '../../src-main/core/vault/localBlockStore';
import { decodeList, decodeRoot } from '../../src-main/core/vault/snapshotFormat';
import { restoreSnapshot } from '../../src-main/core/vault/snapshotRestorer';
import { writeSnapshot, type WriteSnapshotInput } from '../../src-main/core/vault/snapshotWriter';
import { chunkId, deriveVaultKeys } from '../../src-main/core/vault/vaultKeys';
import { VaultRepository } from '../../src-main/core/vault/vaultRepository';
import { tempDir } from '../support/tempDir';

const LABEL = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';
const { chunkIdKey } = deriveVaultKeys('0x' + '11'.repeat(32));

async function rejection(promise: Promise<unknown>): Promise<HearthError> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(HearthError);
  return error as HearthError;
}

describe('vault crypto worker', () => {
  const dataKey = newDataKey();
  const pools: VaultCryptoWorker[] = [];
  const scratch = tempDir('hearth-crypto-worker-');
  const pool = () => {
    const made = new VaultCryptoWorker({ dataKey, chunkIdKey });
    pools.push(made);
    return made;
  };

  afterEach(async () => {
    for (const made of pools.splice(0)) await made.close();
    expect(VaultCryptoWorker.running).toBe(0);
  });
  afterAll(() => scratch.cleanup());

  it('seals blocks that the in-process cipher opens, with the SHA-256 of the sealed bytes, a fresh nonce each time', async () => {
    const worker = pool();
    // Up to past the slot's first size: the slot's buffers grow.
    for (const size of [1, 1000, 300_000, 1024 * 1024, 3 * 1024 * 1024 + 5]) {
      const plaintext = randomBytes(size);
      const slot = await worker.slot();
      const sealed = await slot.seal(plaintext);
      expect(sealed.bytes.length).toBe(sealedChunkLength(size));
      expect(Buffer.from(sealed.digest).toString('hex')).toBe(createHash('sha256').update(sealed.bytes).digest('hex'));
      expect(Buffer.from(openChunk(dataKey, Uint8Array.from(sealed.bytes), LABEL)).equals(plaintext)).toBe(true);
      const first = Buffer.from(sealed.bytes);
      slot.release();
      const again = await worker.slot();
      expect(first.equals(Buffer.from((await again.seal(plaintext)).bytes))).toBe(false);
      again.release();
    }
    // It says it came up: a crash of it from now on fails the run instead of passing for a worker that never started.
    expect(Atomics.load(worker.control, CONTROL.READY)).toBe(1);
  });

  it('opens what the in-process cipher sealed, with the keyed chunk id, from plain and shared buffers and views into them', async () => {
    const worker = pool();
    const big = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
    for (const plaintext of [new Uint8Array(0), new TextEncoder().encode('hello vault'), big, big.subarray(1234, 200_000)]) {
      const sealed = sealChunk(dataKey, plaintext);
      const shared = worker.shared(sealed.length + 100);
      shared.set(sealed, 100);
      const padded = new Uint8Array(sealed.length + 7);
      padded.set(sealed, 7);
      for (const input of [sealed, padded.subarray(7), shared.subarray(100)]) {
        const slot = await worker.slot();
        const opened = await slot.open(input, LABEL);
        expect(Buffer.from(opened.plaintext).equals(Buffer.from(plaintext))).toBe(true);
        expect(opened.id).toBe(chunkId(chunkIdKey, plaintext));
        slot.release();
      }
    }
    expect(() => new VaultCryptoWorker({ dataKey, chunkIdKey: new Uint8Array(16) })).toThrow(expect.objectContaining({ code: 'BAD_INPUT' }));
  });

  it('refuses a tampered, cut or foreign block with INTEGRITY_ERROR naming it, and goes on working', async () => {
    const worker = pool();
    const sealed = sealChunk(dataKey, randomBytes(70_000));
    const flipped = Uint8Array.from(sealed);
    flipped[500] = flipped[500]! ^ 1;
    const cases: [Uint8Array, string][] = [
      [flipped, 'authentication failed'],
      [sealed.subarray(0, 30), 'too short'],
      [sealChunk(newDataKey(), randomBytes(100)), 'authentication failed'],
    ];
    for (const [input, reason] of cases) {
      const slot = await worker.slot();
      const error = await rejection(slot.open(input, LABEL));
      slot.release();
      expect(error.code).toBe('INTEGRITY_ERROR');
      expect(error.message).toContain(`Block ${LABEL} failed its integrity check (${reason})`);
      // The same words as the in-process check.
      expect(() => openChunk(dataKey, input, LABEL)).toThrow(error.message);
    }
    const slot = await worker.slot();
    expect((await slot.open(sealed, LABEL)).plaintext.length).toBe(70_000);
    slot.release();
  });

  it('keeps several requests in flight, answering each with its own bytes', async () => {
    const worker = pool();
    const plaintexts = Array.from({ length: 24 }, (_, i) => randomBytes(20_000 + i * 997));
    const results = await Promise.all(
      plaintexts.map(async (plaintext) => {
        const slot = await worker.slot();
        try {
          const sealed = await slot.seal(plaintext);
          return Uint8Array.from(sealed.bytes);
        } finally {
          slot.release();
        }
      }),
    );
    for (const [i, bytes] of results.entries()) expect(Buffer.from(openChunk(dataKey, bytes, LABEL)).equals(plaintexts[i]!)).toBe(true);
  });

  it('a worker that cannot start (entry not found, or not even created) leaves the sealing and opening to this thread, posted requests included, with one warning', async () => {
    const missing = pathToFileURL(join(scratch.path, 'no-such-worker.js'));
    // A relative path without ./ makes new Worker throw at once.
    for (const entry of [{ code: missing, eval: false }, { code: 'no-such-worker.js', eval: false }]) {
      const warnings: string[] = [];
      const broken = new VaultCryptoWorker({ dataKey, chunkIdKey }, { entry, onSealingHere: (why) => warnings.push(why) });
      pools.push(broken);
      // Posted before the worker's failure arrives (the missing file) or after it (the throw), and later ones.
      const plaintexts = [randomBytes(1000), randomBytes(300_000), randomBytes(2 * 1024 * 1024 + 7)];
      const sealed = await Promise.all(
        plaintexts.map(async (plaintext) => {
          const slot = await broken.slot();
          try {
            const { bytes, digest } = await slot.seal(plaintext);
            expect(Buffer.from(digest).toString('hex')).toBe(createHash('sha256').update(bytes).digest('hex'));
            return Uint8Array.from(bytes);
          } finally {
            slot.release();
          }
        }),
      );
      for (const [i, bytes] of sealed.entries()) expect(Buffer.from(openChunk(dataKey, bytes, LABEL)).equals(plaintexts[i]!)).toBe(true);
      // Opening (a restore's) is answered here too, with the same keyed id and the same refusal.
      for (const [i, bytes] of sealed.entries()) {
        const slot = await broken.slot();
        const opened = await slot.open(bytes, LABEL);
        expect(Buffer.from(opened.plaintext).equals(plaintexts[i]!)).toBe(true);
        expect(opened.id).toBe(chunkId(chunkIdKey, plaintexts[i]!));
        slot.release();
      }
      const flipped = Uint8Array.from(sealed[0]!);
      flipped[100] = flipped[100]! ^ 1;
      const slot = await broken.slot();
      expect((await rejection(slot.open(flipped, LABEL))).code).toBe('INTEGRITY_ERROR');
      slot.release();
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/no-such-worker\.js/);
    }
  });

  it('a worker that started and then dies mid-request, or is closed mid-request, fails with INTERNAL and never hangs', async () => {
    // Comes up (its own code runs), then exits at the first request, as a crash mid-run would.
    const crashing = new VaultCryptoWorker({ dataKey, chunkIdKey }, {
      entry: {
        code: `const { workerData } = require('node:worker_threads');
const control = new Int32Array(workerData.control);
Atomics.store(control, ${CONTROL.READY}, 1);
Atomics.wait(control, ${CONTROL.DOORBELL}, 0);
process.exit(3);`,
        eval: true,
      },
      onSealingHere: () => expect.fail('a worker that came up never hands its work to the main thread'),
    });
    pools.push(crashing);
    const slot = await crashing.slot();
    const error = await rejection(slot.seal(randomBytes(1000)));
    expect(error.code).toBe('INTERNAL');
    expect(error.message).toMatch(/vault crypto worker exited \(code 3\)/);
    expect((await rejection(crashing.slot())).code).toBe('INTERNAL');

    const worker = pool();
    const busy = await worker.slot();
    // In flight, or answered just before the close: never left waiting.
    const pending = busy.seal(randomBytes(8 * 1024 * 1024)).then(
      () => 'INTERNAL',
      (e: unknown) => (e as HearthError).code,
    );
    const waiting = rejection(Promise.all([worker.slot(), worker.slot(), worker.slot(), worker.slot()]));
    await worker.close();
    expect(await pending).toBe('INTERNAL');
    expect((await waiting).code).toBe('INTERNAL');
    expect(VaultCryptoWorker.running).toBe(0);
  });

  it('never keeps the process alive: a script that leaves its worker open exits at once', () => {
    const script = join(scratch.path, 'leave-open.mts');
    const module = pathToFileURL(join(process.cwd(), 'src-main/core/vault/cryptoWorker.ts')).href;
    writeFileSync(
      script,
      `import { VaultCryptoWorker } from ${JSON.stringify(module)};
const worker = new VaultCryptoWorker({ dataKey: new Uint8Array(32).fill(1), chunkIdKey: new Uint8Array(32).fill(2) });
const slot = await worker.slot();
const sealed = await slot.seal(new Uint8Array(1000));
console.log('sealed', sealed.bytes.length);
`,
    );
    const started = Date.now();
    const run = spawnSync(process.execPath, ['--import', 'tsx', script], { cwd: process.cwd(), encoding: 'utf8', timeout: 30_000 });
    expect(run.stderr).toBe('');
    expect(run.stdout.trim()).toBe(`sealed ${sealedChunkLength(1000)}`);
    expect(run.status).toBe(0);
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});

describe('vault crypto worker in a snapshot and a restore', () => {
  const dir = tempDir('hearth-crypto-run-');
  const repo = VaultRepository.open(join(dir.path, 'vault.db'));
  const blocksDir = join(dir.path, 'blocks');
  const blocks = new LocalBlockStore(blocksDir);
  const wallet = Wallet.createRandom();
  const keys = deriveVaultKeys(wallet.privateKey);
  const dataKey = newDataKey();
  const source = join(dir.path, 'weights.bin');
  const content = randomBytes(3 * 1024 * 1024 + 12_345);
  writeFileSync(source, content);
  const input = (verify?: () => Promise<void>): WriteSnapshotInput => ({
    signer: wallet,
    keys,
    dataKey,
    wrappedKey: wrapDataKey(keys.wrapKey, dataKey),
    capture: { files: [{ path: 'models/weights.bin', source, size: content.length, mode: 0o644, origin: 'live' }], counts: { sqlite: {}, lance: {} }, skipped: [] },
    options: { includeModels: true, includeDocuments: false },
    previous: null,
    appVersion: 'test',
    full: true,
    ...(verify ? { verify } : {}),
  });
  const stored = () => readdirSync(blocksDir, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile()).length;

  afterAll(() => {
    repo.close();
    dir.cleanup();
  });

  it('a failed snapshot closes its worker and deletes every block it sealed; a good one closes it too and restores byte for byte', async () => {
    let sealedBeforeFailure = 0;
    const failing = writeSnapshot({ repo, blocks }, input(async () => {
      sealedBeforeFailure = stored();
      throw new HearthError('INTERNAL', 'the capture check failed');
    }));
    await expect(failing).rejects.toThrow('the capture check failed');
    expect(sealedBeforeFailure).toBeGreaterThan(3);
    expect(stored()).toBe(0);
    expect(VaultCryptoWorker.running).toBe(0);

    const written = await writeSnapshot({ repo, blocks }, input());
    expect(VaultCryptoWorker.running).toBe(0);
    // Every chunk block is the SHA-256 of its bytes (raw CID), and the worker sealed what the in-process cipher opens.
    const root = decodeRoot(await blocks.get(CID.parse(written.cid)), written.cid);
    expect(root.lists.length).toBeGreaterThan(0);
    const target = join(dir.path, 'restored');
    await restoreSnapshot({ wallet, root: written.cid, fetcher: blocks, dataDir: target });
    expect(VaultCryptoWorker.running).toBe(0);
    expect(Buffer.compare(readFileSync(join(target, 'models', 'weights.bin')), content)).toBe(0);
  });

  it('a snapshot whose crypto worker cannot start seals in the main thread: one warning, the same kind of blocks, restored byte for byte', async () => {
    // Its own vault: nothing sealed before is reused.
    const here = join(dir.path, 'fallback');
    const hereRepo = VaultRepository.open(join(dir.path, 'fallback.db'));
    const hereBlocks = new LocalBlockStore(join(here, 'blocks'));
    const warnings: string[] = [];
    const logger = { debug: () => {}, info: () => {}, warn: (message: string) => void warnings.push(message), error: () => {} };
    const cryptoEntry = { code: pathToFileURL(join(dir.path, 'no-such-worker.js')), eval: false };
    try {
      const written = await writeSnapshot({ repo: hereRepo, blocks: hereBlocks, logger, cryptoEntry }, input());
      expect(VaultCryptoWorker.running).toBe(0);
      expect(written.newChunks).toBeGreaterThan(3);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/crypto worker could not start \(.*no-such-worker\.js.*\); this snapshot seals its chunks in the main thread/);
      // Every chunk block opens with the in-process cipher and is the SHA-256 of its bytes (raw CID).
      const root = decodeRoot(await hereBlocks.get(CID.parse(written.cid)), written.cid);
      const chunks = (await Promise.all(root.lists.map(async (list) => decodeList(await hereBlocks.get(list), list.toString())))).flat();
      expect(chunks.length).toBe(written.newChunks);
      for (const cid of chunks) {
        const bytes = await hereBlocks.get(cid);
        expect(Buffer.from(cid.multihash.digest).equals(createHash('sha256').update(bytes).digest())).toBe(true);
        expect(openChunk(dataKey, bytes, cid.toString()).length).toBeGreaterThan(0);
      }
      const target = join(here, 'restored');
      await restoreSnapshot({ wallet, root: written.cid, fetcher: hereBlocks, dataDir: target });
      expect(Buffer.compare(readFileSync(join(target, 'models', 'weights.bin')), content)).toBe(0);
    } finally {
      hereRepo.close();
    }
  });
});
