import { randomFillSync } from 'node:crypto';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { HearthError } from '../common/hearthError';
import { xchachaOpen, xchachaSealInto } from './xchacha';

/**
 * Sealed format, for every kind of payload:
 *   [version 0x01][24-byte random nonce][XChaCha20-Poly1305 ciphertext + 16-byte tag]
 * Chunks, manifests and pointers encrypt (u32 LE length || plaintext || zero padding to the
 * Padmé length), so sizes leak little. Each kind has its own AAD, so a sealed blob of one kind
 * never opens as another.
 */
const VERSION = 0x01;
const NONCE_LENGTH = 24;
const TAG_LENGTH = 16;
const HEADER_LENGTH = 1 + NONCE_LENGTH;
const KEY_LENGTH = 32;
const LENGTH_FIELD = 4;

const CHUNK_AAD = utf8ToBytes('hearth-vault/chunk/v1');
const MANIFEST_AAD = utf8ToBytes('hearth-vault/manifest/v1');
const POINTER_AAD = utf8ToBytes('hearth-vault/pointer/v1');
const DATA_KEY_AAD = utf8ToBytes('hearth-vault/data-key/v1');

export function newDataKey(): Uint8Array {
  return randomFillSync(new Uint8Array(KEY_LENGTH));
}

/**
 * Padmé: rounds n up so that only O(log log n) bits of it remain, at most ~12% overhead.
 * https://petsymposium.org/2019/files/papers/issue4/popets-2019-0056.pdf
 */
export function padmeLength(n: number): number {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new HearthError('BAD_INPUT', `Cannot pad a length of ${n} bytes.`);
  }
  if (n < 2) return n;
  // Integer log2 without floating-point rounding for every length a sealed block can have.
  const e = n < 2 ** 32 ? 31 - Math.clz32(n) : Math.floor(Math.log2(n));
  const s = Math.floor(Math.log2(e)) + 1;
  const unit = 2 ** (e - s);
  return Math.ceil(n / unit) * unit;
}

/**
 * `into`: a buffer to seal into when it is large enough (the result is then a view of it, valid
 * until the caller reuses it), so a snapshot does not allocate a fresh buffer per block: hundreds
 * of megabytes of short-lived buffers made the collector run dozens of full collections.
 */
export function sealChunk(dataKey: Uint8Array, plaintext: Uint8Array, into?: Uint8Array): Uint8Array {
  return sealPadded(dataKey, plaintext, CHUNK_AAD, into);
}

/** The size of a sealed chunk of `plaintextLength` bytes (header, padded body, tag). */
export function sealedChunkLength(plaintextLength: number): number {
  return HEADER_LENGTH + padmeLength(LENGTH_FIELD + plaintextLength) + TAG_LENGTH;
}

export function openChunk(dataKey: Uint8Array, sealed: Uint8Array, label: string): Uint8Array {
  return openPadded(dataKey, sealed, CHUNK_AAD, `Block ${label}`);
}

/**
 * openChunk for a caller that names the block itself (the crypto worker, which knows no CIDs):
 * the plaintext, or why the block does not open, for chunkIntegrityError.
 */
export function tryOpenChunk(dataKey: Uint8Array, sealed: Uint8Array): Uint8Array | { reason: string } {
  assertKey(dataKey, 'key');
  return openBody(dataKey, sealed, CHUNK_AAD);
}

/** The error openChunk throws for a block that does not open, with the reason tryOpenChunk gave. */
export function chunkIntegrityError(label: string, reason: string): HearthError {
  return integrityError(`Block ${label}`, reason);
}

export function sealManifestBytes(dataKey: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return sealPadded(dataKey, plaintext, MANIFEST_AAD);
}

export function openManifestBytes(dataKey: Uint8Array, sealed: Uint8Array, label: string): Uint8Array {
  return openPadded(dataKey, sealed, MANIFEST_AAD, `The manifest of ${label}`);
}

/** The "latest snapshot" record, sealed under the wallet-derived pointer key. */
export function sealPointerBytes(pointerKey: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return sealPadded(pointerKey, plaintext, POINTER_AAD);
}

export function openPointerBytes(pointerKey: Uint8Array, sealed: Uint8Array, label: string): Uint8Array {
  return openPadded(pointerKey, sealed, POINTER_AAD, label);
}

export function wrapDataKey(wrapKey: Uint8Array, dataKey: Uint8Array): Uint8Array {
  assertKey(dataKey, 'data key');
  return seal(wrapKey, [dataKey], DATA_KEY_AAD);
}

export function unwrapDataKey(wrapKey: Uint8Array, wrapped: Uint8Array): Uint8Array {
  assertKey(wrapKey, 'key-wrapping key');
  if (wrapped.length !== HEADER_LENGTH + KEY_LENGTH + TAG_LENGTH || wrapped[0] !== VERSION) {
    throw new HearthError(
      'INTEGRITY_ERROR',
      'The snapshot root holds a malformed wrapped key: the snapshot is damaged or was made by a newer Hearth.',
    );
  }
  try {
    return open(wrapKey, wrapped, DATA_KEY_AAD);
  } catch {
    throw new HearthError(
      'WRONG_PASSPHRASE',
      'This recovery phrase does not open this snapshot: the snapshot was made by another wallet, or the phrase has a typo.',
    );
  }
}

/** Zero bytes for the padding, shared (only ever read). */
const ZEROS = new Uint8Array(256 * 1024);

function sealPadded(key: Uint8Array, plaintext: Uint8Array, aad: Uint8Array, into?: Uint8Array): Uint8Array {
  if (plaintext.length > 0xffffffff - LENGTH_FIELD) {
    throw new HearthError('BAD_INPUT', 'A sealed block cannot hold 4 GiB or more.');
  }
  const bodyLength = padmeLength(LENGTH_FIELD + plaintext.length);
  const length = new Uint8Array(LENGTH_FIELD);
  new DataView(length.buffer).setUint32(0, plaintext.length, true);
  const padding = bodyLength - LENGTH_FIELD - plaintext.length;
  // The body is encrypted in pieces (length, plaintext, padding): the plaintext is never copied.
  return seal(key, [length, plaintext, padding <= ZEROS.length ? ZEROS.subarray(0, padding) : new Uint8Array(padding)], aad, into);
}

function openPadded(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array, what: string): Uint8Array {
  assertKey(key, 'key');
  const body = openBody(key, sealed, aad);
  if (body instanceof Uint8Array) return body;
  throw integrityError(what, body.reason);
}

function integrityError(what: string, reason: string): HearthError {
  return new HearthError(
    'INTEGRITY_ERROR',
    `${what} failed its integrity check (${reason}): it was altered or damaged, or it belongs to another vault. Restore from another copy of the snapshot.`,
  );
}

/** The padded body's plaintext, or why it does not open. */
function openBody(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | { reason: string } {
  if (sealed.length < HEADER_LENGTH + LENGTH_FIELD + TAG_LENGTH) return { reason: 'too short' };
  if (sealed[0] !== VERSION) return { reason: `unknown format version ${sealed[0]}` };
  let body: Uint8Array;
  try {
    body = open(key, sealed, aad);
  } catch {
    return { reason: 'authentication failed' };
  }
  const length = new DataView(body.buffer, body.byteOffset, body.byteLength).getUint32(0, true);
  // The padding is canonical, so any other length field is a forgery or a bug.
  if (LENGTH_FIELD + length > body.length || padmeLength(LENGTH_FIELD + length) !== body.length) {
    return { reason: 'bad length field' };
  }
  for (let i = LENGTH_FIELD + length; i < body.length; i++) {
    if (body[i] !== 0) return { reason: 'bad padding' };
  }
  return body.subarray(LENGTH_FIELD, LENGTH_FIELD + length);
}

function seal(key: Uint8Array, parts: readonly Uint8Array[], aad: Uint8Array, into?: Uint8Array): Uint8Array {
  assertKey(key, 'key');
  const plaintextLength = parts.reduce((sum, p) => sum + p.length, 0);
  const sealedLength = HEADER_LENGTH + plaintextLength + TAG_LENGTH;
  const sealed = into && into.length >= sealedLength ? into.subarray(0, sealedLength) : new Uint8Array(sealedLength);
  sealed[0] = VERSION;
  const nonce = sealed.subarray(1, HEADER_LENGTH);
  randomFillSync(nonce);
  xchachaSealInto(key, nonce, aad, parts, sealed, HEADER_LENGTH);
  return sealed;
}

/** Throws OpenSSL's error on authentication failure; callers turn it into a HearthError. */
function open(key: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array {
  const nonce = sealed.subarray(1, HEADER_LENGTH);
  return xchachaOpen(key, nonce, aad, sealed.subarray(HEADER_LENGTH));
}

function assertKey(key: Uint8Array, name: string): void {
  if (key.length !== KEY_LENGTH) {
    throw new HearthError('BAD_INPUT', `The vault ${name} must be ${KEY_LENGTH} bytes.`);
  }
}
