import { createHash, randomFillSync, webcrypto } from 'node:crypto';
import * as dagCbor from '@ipld/dag-cbor';
import { concatBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { verifyMessage } from 'ethers';
import { equals } from 'multiformats/bytes';
import { CID } from 'multiformats/cid';
import * as raw from 'multiformats/codecs/raw';
import { sha256 } from 'multiformats/hashes/sha2';
import { z } from 'zod';
import { HearthError } from '../common/hearthError';
import { openManifestBytes, openPointerBytes, sealManifestBytes, sealPointerBytes } from './blockCipher';
import type { Block, SnapshotManifest, SnapshotRoot } from './types';

/**
 * The root's format tag. Version 2 (short keys, salted list blocks) writes nothing two roots
 * could share beyond a few structural bytes: see encodeRoot. Version 1 roots still restore.
 */
export const ROOT_FORMAT = 'hearth-snapshot/2';
export const ROOT_FORMAT_V1 = 'hearth-snapshot/1';
/** Random bytes in each list block, so two snapshots with the same chunks share no list block. */
const LIST_SALT_BYTES = 16;
/**
 * The manifest format this Hearth writes. /2 adds `offset` to a chunk reference: a small file
 * is a slice of a pack block (smallFilePacker.ts). /3 drops the file's whole sha256: the file's
 * digest is its chunk list (keyed SHA-256 ids and sizes, in order), which a restore checks
 * anyway, so a snapshot hashes each byte once less. /1 (every chunk a whole block) and /2 still open.
 */
export const MANIFEST_FORMAT = 'hearth-manifest/3';

const MANIFEST_DOMAIN = 'Hearth snapshot manifest v1';
const POINTER_DOMAIN = 'Hearth snapshot pointer v1';
const POINTER_LABEL = 'The latest-snapshot record';

/** Anything that signs EIP-191 messages for an address; an ethers Wallet is one. */
export interface ManifestSigner {
  readonly address: string;
  signMessage(message: string | Uint8Array): Promise<string>;
}

export interface SnapshotPointer {
  root: string;
  createdAt: string;
  sequence: number;
}

// ---------------------------------------------------------------------------------------------
// Blocks

export async function rawBlock(bytes: Uint8Array): Promise<Block> {
  return { cid: CID.create(1, raw.code, await sha256.digest(bytes)), bytes };
}

async function cborBlock(value: unknown): Promise<Block> {
  const bytes = dagCbor.encode(value);
  return { cid: CID.create(1, dagCbor.code, await sha256.digest(bytes)), bytes };
}

/** Never trust a source: the bytes must hash to the CID that was asked for. */
export async function verifyBlock(cid: CID, bytes: Uint8Array): Promise<void> {
  if (cid.multihash.code !== sha256.code) {
    throw new HearthError(
      'INTEGRITY_ERROR',
      `Block ${cid} uses hash function 0x${cid.multihash.code.toString(16)}, which Hearth snapshots never use, so it cannot be verified.`,
    );
  }
  // WebCrypto hashes on the thread pool: a restore's next blocks are checked while it decrypts and writes this one.
  const digest = new Uint8Array(await webcrypto.subtle.digest('SHA-256', bytes));
  if (!equals(digest, cid.multihash.digest)) {
    throw new HearthError('INTEGRITY_ERROR', `Block ${cid} does not match its CID: the source sent altered or different data.`);
  }
}

// ---------------------------------------------------------------------------------------------
// Root and list blocks (public dag-cbor)

/**
 * The root as dag-cbor. dag-cbor sorts keys by length, then bytewise, so version 2 uses the
 * keys key < list < meta < format: every run of fixed bytes (a key, an array header, a CID's
 * prefix, the format tag at the end) sits between random bytes (the wrapped key, CID digests)
 * and is shorter than 32 bytes. With the data key wrapped anew for each root and salted list
 * blocks, two roots of one vault share no 32-byte substring: nothing public links them.
 */
export async function encodeRoot(root: SnapshotRoot): Promise<Block> {
  const { wrappedKey, manifest, lists } = root;
  return cborBlock({ key: wrappedKey, list: lists, meta: manifest, format: ROOT_FORMAT });
}

export function decodeRoot(bytes: Uint8Array, label: string): SnapshotRoot {
  const fail = (reason: string): HearthError =>
    new HearthError('CORRUPT_FILE', `${label} is not a Hearth snapshot root (${reason}). Check the CID, or restore another snapshot.`);
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch {
    throw fail('not dag-cbor');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail('not a map');
  const node = value as Record<string, unknown>;
  // Version 1 named the fields in full.
  const v1 = node.format === ROOT_FORMAT_V1;
  if (!v1 && node.format !== ROOT_FORMAT) throw fail(`format is ${JSON.stringify(node.format)}, expected '${ROOT_FORMAT}' or '${ROOT_FORMAT_V1}'`);
  const wrappedKey = v1 ? node.wrappedKey : node.key;
  if (!(wrappedKey instanceof Uint8Array)) throw fail('no wrapped key');
  const manifest = cidArray(v1 ? node.manifest : node.meta);
  if (!manifest || manifest.length === 0) throw fail('no manifest blocks');
  const lists = cidArray(v1 ? node.lists : node.list);
  if (!lists) throw fail('no list of chunk lists');
  return { format: v1 ? ROOT_FORMAT_V1 : ROOT_FORMAT, wrappedKey, manifest, lists };
}

/**
 * Chunk-block CIDs in dag-cbor list blocks, so the root's DAG reaches every block. Each block
 * is a map { cids, salt } with fresh random salt: the same chunks listed by two snapshots
 * still make two different list blocks (version 1 wrote bare arrays; both decode).
 */
export async function encodeLists(cids: readonly CID[], perList = 2000): Promise<Block[]> {
  if (!Number.isSafeInteger(perList) || perList < 1) {
    throw new HearthError('BAD_INPUT', 'A list block must hold at least one CID.');
  }
  const blocks: Block[] = [];
  for (let i = 0; i < cids.length; i += perList) {
    const salt = randomFillSync(new Uint8Array(LIST_SALT_BYTES));
    blocks.push(await cborBlock({ cids: cids.slice(i, i + perList), salt }));
  }
  return blocks;
}

export function decodeList(bytes: Uint8Array, label: string): CID[] {
  let value: unknown;
  try {
    value = dagCbor.decode(bytes);
  } catch {
    value = undefined;
  }
  const salted = typeof value === 'object' && value !== null && !Array.isArray(value) && (value as Record<string, unknown>).salt instanceof Uint8Array;
  const cids = cidArray(salted ? (value as Record<string, unknown>).cids : value);
  if (!cids) {
    throw new HearthError('CORRUPT_FILE', `${label} is not a Hearth snapshot list block (CIDs, as an array or a salted map). Restore another snapshot.`);
  }
  return cids;
}

function cidArray(value: unknown): CID[] | null {
  if (!Array.isArray(value)) return null;
  const cids: CID[] = [];
  for (const item of value) {
    const cid = CID.asCID(item);
    if (!cid) return null;
    cids.push(cid);
  }
  return cids;
}

// ---------------------------------------------------------------------------------------------
// Manifest (sealed and signed)

const hex64 = z.string().regex(/^[0-9a-f]{64}$/);
const count = z.number().int().nonnegative();

const chunkV1 = z.strictObject({ cid: z.string().min(1), size: z.number().int().positive(), id: hex64 });
const chunkV2 = chunkV1.extend({ offset: count.optional() });

function manifestSchemaOf<F extends SnapshotManifest['format'], C extends z.ZodType<SnapshotManifest['files'][number]['chunks'][number]>>(format: F, chunk: C) {
  const file = z.strictObject({ path: z.string(), size: count, mode: z.number().int().min(0).max(0o7777), chunks: z.array(chunk) });
  // Before /3 every file also carried its whole sha256; /3 refuses one (its digest is the chunk list).
  const files = z.array(format === 'hearth-manifest/3' ? file : file.extend({ sha256: hex64 }));
  return z.strictObject({
    format: z.literal(format),
    createdAt: z.string(),
    appVersion: z.string(),
    address: z.string().regex(/^0x[0-9a-fA-F]{40}$/),
    previous: z.string().min(1).nullable(),
    options: z.strictObject({ includeModels: z.boolean(), includeDocuments: z.boolean() }),
    files,
    counts: z.strictObject({ sqlite: z.record(z.string(), count), lance: z.record(z.string(), count) }),
  });
}

const manifestSchema = z.discriminatedUnion('format', [
  manifestSchemaOf('hearth-manifest/3', chunkV2),
  manifestSchemaOf('hearth-manifest/2', chunkV2),
  manifestSchemaOf('hearth-manifest/1', chunkV1),
]) satisfies z.ZodType<SnapshotManifest>;

type ChunkRef = SnapshotManifest['files'][number]['chunks'][number];
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * chunkV1 (offsets false) or chunkV2 as a plain predicate, at least as strict: zod parsing every
 * chunk reference as an object (thousands per manifest) was most of the time a restore took
 * to open its manifest.
 */
function isChunkRef(value: unknown, offsets: boolean): value is ChunkRef {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const { cid, size, id, offset } = value as Record<string, unknown>;
  let keys = 3;
  if (Object.hasOwn(value, 'offset')) {
    if (!offsets || typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) return false;
    keys = 4;
  }
  return (
    Object.keys(value).length === keys &&
    typeof cid === 'string' &&
    cid.length > 0 &&
    typeof size === 'number' &&
    Number.isSafeInteger(size) &&
    size > 0 &&
    typeof id === 'string' &&
    HEX64.test(id)
  );
}

/** manifestSchema with the chunk references checked by isChunkRef; a manifest it refuses is parsed by manifestSchema, for the message. */
const quickManifestSchema = z.discriminatedUnion('format', [
  manifestSchemaOf('hearth-manifest/3', z.custom<ChunkRef>((value) => isChunkRef(value, true))),
  manifestSchemaOf('hearth-manifest/2', z.custom<ChunkRef>((value) => isChunkRef(value, true))),
  manifestSchemaOf('hearth-manifest/1', z.custom<ChunkRef>((value) => isChunkRef(value, false))),
]) satisfies z.ZodType<SnapshotManifest>;

const envelopeSchema = z.strictObject({ manifest: z.string(), signature: z.string() });
const pointerEnvelopeSchema = z.strictObject({ pointer: z.string(), signature: z.string() });
const pointerSchema = z.strictObject({
  root: z.string().refine(isCid, 'not a CID'),
  createdAt: z.string(),
  sequence: count,
});

/**
 * EIP-191 message binding a domain (what is signed) and the exact JSON that was signed. The
 * JSON's SHA-256 is OpenSSL's (a manifest is hundreds of KB: hashing it in JavaScript took
 * milliseconds and a TurboFan compile per process).
 */
function signedMessage(domain: string, json: string): string {
  return `${domain}\nsha256:${createHash('sha256').update(json, 'utf8').digest('hex')}`;
}

/** JSON-encodes, signs, seals under the data key and splits into raw blocks of ≤ maxBlockSize. */
export async function sealManifest(
  manifest: SnapshotManifest,
  signer: ManifestSigner,
  dataKey: Uint8Array,
  maxBlockSize = 1024 * 1024,
): Promise<Block[]> {
  if (!Number.isSafeInteger(maxBlockSize) || maxBlockSize < 1) {
    throw new HearthError('BAD_INPUT', 'The manifest block size must be a positive number of bytes.');
  }
  if (manifest.address.toLowerCase() !== signer.address.toLowerCase()) {
    throw new HearthError('BAD_INPUT', `The manifest names wallet ${manifest.address} but is being signed by ${signer.address}.`);
  }
  const json = JSON.stringify(manifest);
  const signature = await signer.signMessage(signedMessage(MANIFEST_DOMAIN, json));
  const sealed = sealManifestBytes(dataKey, utf8ToBytes(JSON.stringify({ manifest: json, signature })));
  const blocks: Block[] = [];
  for (let i = 0; i < sealed.length; i += maxBlockSize) blocks.push(await rawBlock(sealed.subarray(i, i + maxBlockSize)));
  return blocks;
}

/**
 * The last manifest opened, by what opened it: a restore without --cid opens the snapshot's
 * manifest to check the latest-snapshot record (newestSnapshot.ts), then again to restore it.
 * Only a manifest that passed every check is kept; the same sealed bytes under the same key for
 * the same wallet open to the same manifest, so it is not checked twice. Held weakly (a large
 * library's manifest is megabytes): once nothing uses it, it may go, and is opened afresh.
 * Treat it as read-only.
 */
let lastOpened: { key: string; manifest: WeakRef<SnapshotManifest> } | null = null;

/** Opens, checks the signature is expectedAddress's, and checks the shape and every path. */
export async function openManifest(
  parts: Uint8Array[],
  dataKey: Uint8Array,
  expectedAddress: string,
  label: string,
): Promise<SnapshotManifest> {
  const sealed = concatBytes(...parts);
  const key = createHash('sha256').update(dataKey).update(sealed).digest('hex') + expectedAddress.toLowerCase();
  const cached = lastOpened?.key === key ? lastOpened.manifest.deref() : undefined;
  if (cached) return cached;
  const manifest = checkedManifest(sealed, dataKey, expectedAddress, label);
  lastOpened = { key, manifest: new WeakRef(manifest) };
  return manifest;
}

function checkedManifest(sealed: Uint8Array, dataKey: Uint8Array, expectedAddress: string, label: string): SnapshotManifest {
  const what = `The manifest of ${label}`;
  const envelope = parseJson(openManifestBytes(dataKey, sealed, label), envelopeSchema, what);
  const signer = recoverSigner(signedMessage(MANIFEST_DOMAIN, envelope.manifest), envelope.signature);
  if (signer?.toLowerCase() !== expectedAddress.toLowerCase()) {
    throw new HearthError(
      'SIGNATURE_INVALID',
      `${what} is signed by ${signer ?? 'no valid signature'}, not by this vault's wallet ${expectedAddress}. Do not restore it.`,
    );
  }
  const manifest = parseManifest(envelope.manifest, what);
  if (manifest.address.toLowerCase() !== expectedAddress.toLowerCase()) {
    throw new HearthError(
      'SIGNATURE_INVALID',
      `${what} names wallet ${manifest.address}, but it is signed by ${expectedAddress}. Do not restore it.`,
    );
  }
  checkFiles(manifest, what);
  return manifest;
}

/** Restore writes these paths under the data directory: nothing may point outside it. */
function checkFiles(manifest: SnapshotManifest, what: string): void {
  const seen = new Set<string>();
  for (const file of manifest.files) {
    const reason = unsafePathReason(file.path);
    if (reason) {
      throw new HearthError(
        'CORRUPT_FILE',
        `The snapshot lists an unsafe path ${JSON.stringify(file.path)} (${reason}); ${what} was not restored.`,
      );
    }
    if (seen.has(file.path)) {
      throw new HearthError('CORRUPT_FILE', `${what} lists ${JSON.stringify(file.path)} twice.`);
    }
    seen.add(file.path);
    const chunked = file.chunks.reduce((sum, chunk) => sum + chunk.size, 0);
    if (chunked !== file.size) {
      throw new HearthError(
        'CORRUPT_FILE',
        `${what} says ${JSON.stringify(file.path)} has ${file.size} bytes, but its chunks add up to ${chunked}.`,
      );
    }
  }
}

function unsafePathReason(path: string): string | null {
  if (path.includes('\0')) return 'contains NUL';
  if (path.includes('\\')) return 'contains a backslash';
  if (path.startsWith('/') || /^[a-zA-Z]:/.test(path)) return 'absolute';
  for (const segment of path.split('/')) {
    if (segment === '') return 'empty segment';
    if (segment === '.' || segment === '..') return `'${segment}' segment`;
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Pointer record: finds the latest snapshot from the wallet alone

export async function sealPointer(pointerKey: Uint8Array, signer: ManifestSigner, pointer: SnapshotPointer): Promise<Uint8Array> {
  const checked = pointerSchema.safeParse(pointer);
  if (!checked.success) {
    throw new HearthError('BAD_INPUT', 'The latest-snapshot record needs a root CID, a date and a whole sequence number.');
  }
  const { root, createdAt, sequence } = checked.data;
  const json = JSON.stringify({ root, createdAt, sequence });
  const signature = await signer.signMessage(signedMessage(POINTER_DOMAIN, json));
  return sealPointerBytes(pointerKey, utf8ToBytes(JSON.stringify({ pointer: json, signature })));
}

export async function openPointer(pointerKey: Uint8Array, sealed: Uint8Array, expectedAddress: string): Promise<SnapshotPointer> {
  const envelope = parseJson(openPointerBytes(pointerKey, sealed, POINTER_LABEL), pointerEnvelopeSchema, POINTER_LABEL);
  const signer = recoverSigner(signedMessage(POINTER_DOMAIN, envelope.pointer), envelope.signature);
  if (signer?.toLowerCase() !== expectedAddress.toLowerCase()) {
    throw new HearthError(
      'SIGNATURE_INVALID',
      `${POINTER_LABEL} is signed by ${signer ?? 'no valid signature'}, not by this vault's wallet ${expectedAddress}. Do not trust it.`,
    );
  }
  return parseJson(utf8ToBytes(envelope.pointer), pointerSchema, POINTER_LABEL);
}

// ---------------------------------------------------------------------------------------------

/** The address that signed, or null when the signature is malformed. */
function recoverSigner(message: string, signature: string): string | null {
  try {
    return verifyMessage(message, signature);
  } catch {
    return null;
  }
}

/** Authenticated bytes that do not parse were written wrong: CORRUPT_FILE, not tampering. */
function parseJson<T>(bytes: Uint8Array, schema: z.ZodType<T>, what: string): T {
  return checkedValue(jsonValue(new TextDecoder().decode(bytes), what), schema, what);
}

/** The signed manifest JSON, checked quickly; one that fails is checked again by the full schema, whose issue names what is wrong. */
function parseManifest(json: string, what: string): SnapshotManifest {
  const value = jsonValue(json, what);
  const quick = quickManifestSchema.safeParse(value);
  return quick.success ? quick.data : checkedValue(value, manifestSchema, what);
}

function jsonValue(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new HearthError('CORRUPT_FILE', `${what} is not valid JSON. Restore another snapshot.`);
  }
}

function checkedValue<T>(value: unknown, schema: z.ZodType<T>, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue && issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new HearthError('CORRUPT_FILE', `${what} is malformed${where}: ${issue?.message ?? 'invalid'}. Restore another snapshot.`);
  }
  return result.data;
}

function isCid(value: string): boolean {
  try {
    CID.parse(value);
    return true;
  } catch {
    return false;
  }
}
