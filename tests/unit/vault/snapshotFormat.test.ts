import * as dagCbor from '@ipld/dag-cbor';
import { Wallet } from 'ethers';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { describe, expect, it } from 'vitest';
import { HearthError } from '../../../src-main/core/common/hearthError';
import { newDataKey } from '../../../src-main/core/vault/blockCipher';
import {
  MANIFEST_FORMAT,
  ROOT_FORMAT,
  ROOT_FORMAT_V1,
  decodeList,
  decodeRoot,
  encodeLists,
  encodeRoot,
  openManifest,
  openPointer,
  rawBlock,
  sealManifest,
  sealPointer,
  verifyBlock,
} from '../../../src-main/core/vault/snapshotFormat';
import type { ManifestFile, SnapshotManifest } from '../../../src-main/core/vault/types';

const wallet = new Wallet('0x' + '42'.repeat(32));
const LABEL = 'bafyreib4pff766vhpbxbhjbqqnsh5emeznvujayjj4z2iu533cprgbz23m';

async function errorOf(fn: () => Promise<unknown> | unknown): Promise<HearthError> {
  try {
    await fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HearthError);
    return error as HearthError;
  }
  throw new Error('expected a throw');
}

async function someCids(n: number): Promise<CID[]> {
  return Promise.all(Array.from({ length: n }, async (_, i) => (await rawBlock(new TextEncoder().encode(`chunk ${i}`))).cid));
}

function file(path: string, i = 0): ManifestFile {
  return {
    path,
    size: 300,
    sha256: i.toString(16).padStart(64, '0'),
    mode: 0o644,
    chunks: [
      { cid: `bafkreichunk${i}a`, size: 100, id: 'a'.repeat(64) },
      { cid: `bafkreichunk${i}b`, size: 200, id: 'b'.repeat(64) },
    ],
  };
}

function manifest(files: ManifestFile[]): SnapshotManifest {
  return {
    format: 'hearth-manifest/1',
    createdAt: '2025-01-02T03:04:05.000Z',
    appVersion: '0.5.0',
    address: wallet.address,
    previous: null,
    options: { includeModels: false, includeDocuments: true },
    files,
    counts: { sqlite: { threads: 3, messages: 40 }, lance: { chunks: 120 } },
  };
}

describe('blocks', () => {
  it('makes raw CIDv1 sha2-256 blocks, and verifyBlock checks the bytes', async () => {
    const bytes = new TextEncoder().encode('hello');
    const block = await rawBlock(bytes);
    expect(block.cid.version).toBe(1);
    expect(block.cid.code).toBe(raw.code);
    expect(block.cid.toString()).toBe('bafkreibm6jg3ux5qumhcn2b3flc3tyu6dmlb4xa7u5bf44yegnrjhc4yeq');
    await verifyBlock(block.cid, bytes);

    const altered = bytes.slice();
    altered[2]! ^= 0x10;
    const error = await errorOf(() => verifyBlock(block.cid, altered));
    expect(error.code).toBe('INTEGRITY_ERROR');
    expect(error.message).toContain(block.cid.toString());
  });

  it('rejects a CID with another hash function', async () => {
    const identity = CID.parse('bafkqaaa'); // raw, identity hash, empty
    expect((await errorOf(() => verifyBlock(identity, new Uint8Array()))).code).toBe('INTEGRITY_ERROR');
  });
});

describe('root and lists', () => {
  it('round-trips the root', async () => {
    const [m1, m2, l1] = await someCids(3);
    const root = { format: ROOT_FORMAT, wrappedKey: new Uint8Array([1, 2, 3]), manifest: [m1!, m2!], lists: [l1!] };
    const block = await encodeRoot(root);
    expect(block.cid.code).toBe(dagCbor.code);
    await verifyBlock(block.cid, block.bytes);
    const decoded = decodeRoot(block.bytes, block.cid.toString());
    expect(decoded.format).toBe(ROOT_FORMAT);
    expect(decoded.wrappedKey).toEqual(root.wrappedKey);
    expect(decoded.manifest.map(String)).toEqual([m1, m2].map(String));
    expect(decoded.lists.map(String)).toEqual([l1].map(String));
  });

  it('writes version 2 with short keys; still reads version 1', async () => {
    const [m1, l1] = await someCids(2);
    const block = await encodeRoot({ format: ROOT_FORMAT, wrappedKey: new Uint8Array([7]), manifest: [m1!], lists: [l1!] });
    expect(Object.keys(dagCbor.decode(block.bytes) as object)).toEqual(['key', 'list', 'meta', 'format']);
    const v1 = dagCbor.encode({ format: ROOT_FORMAT_V1, wrappedKey: new Uint8Array([7]), manifest: [m1], lists: [l1] });
    const decoded = decodeRoot(v1, LABEL);
    expect(decoded.format).toBe(ROOT_FORMAT_V1);
    expect(decoded.wrappedKey).toEqual(new Uint8Array([7]));
    expect(decoded.manifest.map(String)).toEqual([String(m1)]);
    expect(decoded.lists.map(String)).toEqual([String(l1)]);
    // A version-2 root with version-1 keys is neither.
    const mixed = dagCbor.encode({ format: ROOT_FORMAT, wrappedKey: new Uint8Array([7]), manifest: [m1], lists: [l1] });
    expect((await errorOf(() => decodeRoot(mixed, LABEL))).code).toBe('CORRUPT_FILE');
  });

  it('salts every list block: the same CIDs make different blocks; bare arrays (version 1) still decode', async () => {
    const cids = await someCids(5);
    const [a] = await encodeLists(cids);
    const [b] = await encodeLists(cids);
    expect(a!.cid.equals(b!.cid)).toBe(false);
    expect(decodeList(a!.bytes, LABEL).map(String)).toEqual(decodeList(b!.bytes, LABEL).map(String));
    expect(decodeList(dagCbor.encode(cids), LABEL).map(String)).toEqual(cids.map(String));
    expect((await errorOf(() => decodeList(dagCbor.encode({ cids, salt: 'x' }), LABEL))).code).toBe('CORRUPT_FILE');
  });

  it('calls anything else CORRUPT_FILE, naming the label', async () => {
    const [cid] = await someCids(1);
    const junk = [
      new TextEncoder().encode('not cbor at all'),
      dagCbor.encode([1, 2, 3]),
      dagCbor.encode({ format: 'other/1', wrappedKey: new Uint8Array(1), manifest: [cid], lists: [] }),
      dagCbor.encode({ format: ROOT_FORMAT, wrappedKey: 'key', manifest: [cid], lists: [] }),
      dagCbor.encode({ format: ROOT_FORMAT, wrappedKey: new Uint8Array(1), manifest: [], lists: [] }),
      dagCbor.encode({ format: ROOT_FORMAT, wrappedKey: new Uint8Array(1), manifest: [cid], lists: ['x'] }),
      dagCbor.encode({ format: ROOT_FORMAT, key: 'key', meta: [cid], list: [] }),
      dagCbor.encode({ format: ROOT_FORMAT, key: new Uint8Array(1), meta: [], list: [] }),
      dagCbor.encode({ format: ROOT_FORMAT, key: new Uint8Array(1), meta: [cid], list: ['x'] }),
      dagCbor.encode({ format: ROOT_FORMAT_V1, wrappedKey: 'key', manifest: [cid], lists: [] }),
      dagCbor.encode({ format: ROOT_FORMAT_V1, wrappedKey: new Uint8Array(1), manifest: [], lists: [] }),
      dagCbor.encode({ format: ROOT_FORMAT_V1, key: new Uint8Array(1), meta: [cid], list: [] }),
    ];
    for (const bytes of junk) {
      const error = await errorOf(() => decodeRoot(bytes, LABEL));
      expect(error.code).toBe('CORRUPT_FILE');
      expect(error.message).toContain(`${LABEL} is not a Hearth snapshot root`);
    }
  });

  it('splits lists at perList and decodes them back', async () => {
    const cids = await someCids(7);
    const blocks = await encodeLists(cids, 3);
    expect(blocks).toHaveLength(3);
    const decoded = blocks.map((b) => decodeList(b.bytes, b.cid.toString()));
    expect(decoded.map((l) => l.length)).toEqual([3, 3, 1]);
    expect(decoded.flat().map(String)).toEqual(cids.map(String));
    expect(await encodeLists([])).toEqual([]);
    expect((await encodeLists(cids)).length).toBe(1);
    expect((await errorOf(() => decodeList(dagCbor.encode([1]), LABEL))).code).toBe('CORRUPT_FILE');
  });
});

describe('manifest', () => {
  const many = Array.from({ length: 8 }, (_, i) => file(`models/dir ${i}/file-${i}.gguf`, i));

  it('round-trips through several blocks', async () => {
    const key = newDataKey();
    const original = manifest(many);
    const blocks = await sealManifest(original, wallet, key, 256);
    expect(blocks.length).toBeGreaterThanOrEqual(3);
    for (const block of blocks) {
      expect(block.bytes.length).toBeLessThanOrEqual(256);
      expect(block.cid.code).toBe(raw.code);
      await verifyBlock(block.cid, block.bytes);
    }
    const opened = await openManifest(blocks.map((b) => b.bytes), key, wallet.address.toLowerCase(), LABEL);
    expect(opened).toEqual(original);
    // Nothing readable is left in the blocks.
    expect(Buffer.concat(blocks.map((b) => b.bytes)).includes('models/dir')).toBe(false);
  });

  it('rejects missing or reordered parts and the wrong data key', async () => {
    const key = newDataKey();
    const parts = (await sealManifest(manifest(many), wallet, key, 256)).map((b) => b.bytes);
    for (const bad of [parts.slice(1), [parts[1]!, parts[0]!, ...parts.slice(2)]]) {
      const error = await errorOf(() => openManifest(bad, key, wallet.address, LABEL));
      expect(error.code).toBe('INTEGRITY_ERROR');
      expect(error.message).toContain(LABEL);
    }
    expect((await errorOf(() => openManifest(parts, newDataKey(), wallet.address, LABEL))).code).toBe('INTEGRITY_ERROR');
  });

  it('opens the same sealed manifest once for the same key and wallet; any other key, wallet or byte is checked afresh', async () => {
    const key = newDataKey();
    const parts = (await sealManifest(manifest(many), wallet, key, 256)).map((b) => b.bytes);
    const first = await openManifest(parts, key, wallet.address, LABEL);
    // Fresh copies of the same bytes (a second fetch): the manifest already checked.
    expect(await openManifest(parts.map((p) => p.slice()), key, wallet.address, LABEL)).toBe(first);
    // The check that passed is never taken for another key, another wallet or other bytes.
    expect((await errorOf(() => openManifest(parts, newDataKey(), wallet.address, LABEL))).code).toBe('INTEGRITY_ERROR');
    const stranger = Wallet.createRandom();
    expect((await errorOf(() => openManifest(parts, key, stranger.address, LABEL))).code).toBe('SIGNATURE_INVALID');
    const flipped = parts.map((p) => p.slice());
    flipped[1]![7]! ^= 1;
    expect((await errorOf(() => openManifest(flipped, key, wallet.address, LABEL))).code).toBe('INTEGRITY_ERROR');
    // A manifest of other content under the same key is its own.
    const other = await openManifest((await sealManifest(manifest(many.slice(1)), wallet, key, 256)).map((b) => b.bytes), key, wallet.address, LABEL);
    expect(other).not.toBe(first);
    expect(other.files).toHaveLength(many.length - 1);
  });

  it('rejects a manifest signed by another wallet, naming both addresses', async () => {
    const key = newDataKey();
    const other = Wallet.createRandom();
    const blocks = await sealManifest({ ...manifest(many), address: other.address }, other, key);
    const error = await errorOf(() => openManifest(blocks.map((b) => b.bytes), key, wallet.address, LABEL));
    expect(error.code).toBe('SIGNATURE_INVALID');
    expect(error.message).toContain(other.address);
    expect(error.message).toContain(wallet.address);
  });

  it('refuses to sign a manifest naming another wallet', async () => {
    const other = Wallet.createRandom();
    expect((await errorOf(() => sealManifest(manifest(many), other, newDataKey()))).code).toBe('BAD_INPUT');
  });

  it('rejects unsafe paths', async () => {
    const key = newDataKey();
    const unsafe = ['../evil', 'a/../../evil', '/etc/passwd', 'C:/Windows/evil', 'a//b', 'a/', './a', 'a\\b', 'a\0b', ''];
    for (const path of unsafe) {
      const blocks = await sealManifest(manifest([file('ok/file'), file(path)]), wallet, key);
      const error = await errorOf(() => openManifest(blocks.map((b) => b.bytes), key, wallet.address, LABEL));
      expect(error.code).toBe('CORRUPT_FILE');
      expect(error.message).toContain('unsafe path');
    }
  });

  it('rejects duplicate paths, chunk sizes that do not add up, and a bad shape', async () => {
    const key = newDataKey();
    const open = async (m: SnapshotManifest): Promise<HearthError> => {
      const blocks = await sealManifest(m, wallet, key);
      return errorOf(() => openManifest(blocks.map((b) => b.bytes), key, wallet.address, LABEL));
    };
    expect((await open(manifest([file('a'), file('a')]))).code).toBe('CORRUPT_FILE');
    expect((await open(manifest([{ ...file('a'), size: 301 }]))).code).toBe('CORRUPT_FILE');
    const extra = { ...manifest([]), surprise: true } as SnapshotManifest;
    expect((await open(extra)).code).toBe('CORRUPT_FILE');
    const badHash = manifest([{ ...file('a'), sha256: 'xyz' }]);
    expect((await open(badHash)).message).toContain('files.0.sha256');
  });

  it('refuses every malformed chunk reference, naming where it is, in every format; takes every well-formed one', async () => {
    const key = newDataKey();
    const id = 'c'.repeat(64);
    const open = async (format: SnapshotManifest['format'], chunk: unknown) => {
      const { sha256, ...rest } = file('a');
      // /3 carries no whole-file sha256; /2 and /1 must.
      const withChunk = { ...rest, ...(format === 'hearth-manifest/3' ? {} : { sha256 }), size: 100, chunks: [chunk] } as ManifestFile;
      const m = { ...manifest([withChunk]), format } as SnapshotManifest;
      return openManifest((await sealManifest(m, wallet, key)).map((b) => b.bytes), key, wallet.address, LABEL);
    };
    const bad: unknown[] = [
      null,
      [],
      'bafkreichunk',
      { cid: 'bafkreichunk', size: 100 },
      { cid: 'bafkreichunk', size: 100, id: 'C'.repeat(64) },
      { cid: 'bafkreichunk', size: 100, id: 'c'.repeat(63) },
      { cid: 'bafkreichunk', size: 100, id: `${id}\n` },
      { cid: '', size: 100, id },
      { cid: 7, size: 100, id },
      { cid: 'bafkreichunk', size: 0, id },
      { cid: 'bafkreichunk', size: 100.5, id },
      { cid: 'bafkreichunk', size: '100', id },
      { cid: 'bafkreichunk', size: 2 ** 60, id },
      { cid: 'bafkreichunk', size: 100, id, extra: 1 },
      { cid: 'bafkreichunk', size: 100, id, offset: -1 },
      { cid: 'bafkreichunk', size: 100, id, offset: 0.5 },
      { cid: 'bafkreichunk', size: 100, id, offset: null },
    ];
    for (const format of ['hearth-manifest/3', 'hearth-manifest/2', 'hearth-manifest/1'] as const) {
      for (const chunk of bad) {
        const error = await errorOf(() => open(format, chunk));
        expect(error.code, `${format} ${JSON.stringify(chunk)}`).toBe('CORRUPT_FILE');
        expect(error.message, `${format} ${JSON.stringify(chunk)}`).toContain('at files.0.chunks.0');
      }
      expect((await open(format, { cid: 'bafkreichunk', size: 100, id })).files[0]!.chunks).toEqual([{ cid: 'bafkreichunk', size: 100, id }]);
    }
    // An offset is a slice of a pack: /2 and /3 only.
    for (const format of ['hearth-manifest/3', 'hearth-manifest/2'] as const) {
      expect((await open(format, { cid: 'bafkreichunk', size: 100, id, offset: 0 })).files[0]!.chunks[0]!.offset).toBe(0);
    }
    expect((await errorOf(() => open('hearth-manifest/1', { cid: 'bafkreichunk', size: 100, id, offset: 0 }))).message).toContain('files.0.chunks.0');
  });

  it('format /2 references slices of pack blocks by offset; /1 (whole blocks only) still opens and takes no offset', async () => {
    const key = newDataKey();
    const packed: ManifestFile = { ...file('small'), size: 100, chunks: [{ cid: 'bafkreipack', size: 100, id: 'c'.repeat(64), offset: 4096 }] };
    const v2: SnapshotManifest = { ...manifest([file('a'), packed]), format: 'hearth-manifest/2' };
    expect(await openManifest((await sealManifest(v2, wallet, key)).map((b) => b.bytes), key, wallet.address, LABEL)).toEqual(v2);
    const v1 = manifest([file('a')]);
    expect(await openManifest((await sealManifest(v1, wallet, key)).map((b) => b.bytes), key, wallet.address, LABEL)).toEqual(v1);
    const v1WithOffset = manifest([packed]);
    const error = await errorOf(async () => openManifest((await sealManifest(v1WithOffset, wallet, key)).map((b) => b.bytes), key, wallet.address, LABEL));
    expect(error.code).toBe('CORRUPT_FILE');
    expect(error.message).toContain('files.0.chunks.0');
    const unknown = { ...v2, format: 'hearth-manifest/9' } as unknown as SnapshotManifest;
    expect((await errorOf(async () => openManifest((await sealManifest(unknown, wallet, key)).map((b) => b.bytes), key, wallet.address, LABEL))).code).toBe('CORRUPT_FILE');
  });

  it('format /3 (what a snapshot writes) has no whole-file sha256: the chunk list is the digest; /2 and /1 must still carry one', async () => {
    expect(MANIFEST_FORMAT).toBe('hearth-manifest/3');
    const key = newDataKey();
    const roundTrip = async (m: SnapshotManifest) => openManifest((await sealManifest(m, wallet, key)).map((b) => b.bytes), key, wallet.address, LABEL);
    const bare = ({ sha256: _, ...rest }: ManifestFile): ManifestFile => rest;
    const packed: ManifestFile = { ...bare(file('small')), size: 100, chunks: [{ cid: 'bafkreipack', size: 100, id: 'c'.repeat(64), offset: 4096 }] };
    const v3: SnapshotManifest = { ...manifest([bare(file('a')), packed]), format: 'hearth-manifest/3' };
    expect(await roundTrip(v3)).toEqual(v3);
    const v3WithSha = { ...v3, files: [file('a')] };
    expect((await errorOf(() => roundTrip(v3WithSha))).message).toContain('files.0');
    for (const format of ['hearth-manifest/2', 'hearth-manifest/1'] as const) {
      const error = await errorOf(() => roundTrip({ ...manifest([bare(file('a'))]), format }));
      expect(error.code).toBe('CORRUPT_FILE');
      expect(error.message).toContain('files.0.sha256');
    }
  });
});

describe('pointer', () => {
  const pointer = { root: LABEL, createdAt: '2025-01-02T03:04:05.000Z', sequence: 7 };

  it('round-trips', async () => {
    const key = newDataKey();
    const sealed = await sealPointer(key, wallet, pointer);
    expect(Buffer.from(sealed).includes(LABEL)).toBe(false);
    expect(await openPointer(key, sealed, wallet.address)).toEqual(pointer);
  });

  it('rejects another key (INTEGRITY_ERROR) and another signer (SIGNATURE_INVALID)', async () => {
    const key = newDataKey();
    const sealed = await sealPointer(key, wallet, pointer);
    expect((await errorOf(() => openPointer(newDataKey(), sealed, wallet.address))).code).toBe('INTEGRITY_ERROR');
    const other = Wallet.createRandom();
    const forged = await sealPointer(key, other, pointer);
    const error = await errorOf(() => openPointer(key, forged, wallet.address));
    expect(error.code).toBe('SIGNATURE_INVALID');
    expect(error.message).toContain(other.address);
  });

  it('refuses to seal a pointer whose root is not a CID', async () => {
    const error = await errorOf(() => sealPointer(newDataKey(), wallet, { ...pointer, root: 'nope' }));
    expect(error.code).toBe('BAD_INPUT');
  });
});
