import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { copyBytes } from './sharedBytes';

/**
 * XChaCha20-Poly1305 (draft-irtf-cfrg-xchacha-03) on OpenSSL's ChaCha20-Poly1305: HChaCha20
 * turns the key and the first 16 bytes of the 24-byte nonce into a subkey, and the IETF AEAD
 * (RFC 8439) runs under that subkey with the nonce 0x00000000 || the last 8 bytes. The bytes
 * are the same as any other XChaCha20-Poly1305's (@noble/ciphers', libsodium's); only the
 * speed differs (about 10× pure JavaScript's).
 *
 * Electron's Node runs on BoringSSL, which offers no 'chacha20-poly1305' to createCipheriv:
 * there (found by trying once), the same cipher runs on @noble/ciphers instead.
 */
export const XCHACHA_NONCE_LENGTH = 24;
export const XCHACHA_TAG_LENGTH = 16;
const KEY_LENGTH = 32;

/** HChaCha20 (draft-irtf-cfrg-xchacha-03 §2.2): 20 ChaCha rounds without the final addition. */
export function hchacha20(key: Uint8Array, nonce16: Uint8Array): Uint8Array {
  if (key.length !== KEY_LENGTH || nonce16.length !== 16) throw new RangeError('HChaCha20 takes a 32-byte key and a 16-byte nonce');
  const s = new Uint32Array(16);
  s[0] = 0x61707865;
  s[1] = 0x3320646e;
  s[2] = 0x79622d32;
  s[3] = 0x6b206574;
  const k = new DataView(key.buffer, key.byteOffset, key.byteLength);
  for (let i = 0; i < 8; i++) s[4 + i] = k.getUint32(i * 4, true);
  const n = new DataView(nonce16.buffer, nonce16.byteOffset, nonce16.byteLength);
  for (let i = 0; i < 4; i++) s[12 + i] = n.getUint32(i * 4, true);
  for (let round = 0; round < 10; round++) {
    quarter(s, 0, 4, 8, 12);
    quarter(s, 1, 5, 9, 13);
    quarter(s, 2, 6, 10, 14);
    quarter(s, 3, 7, 11, 15);
    quarter(s, 0, 5, 10, 15);
    quarter(s, 1, 6, 11, 12);
    quarter(s, 2, 7, 8, 13);
    quarter(s, 3, 4, 9, 14);
  }
  const out = new Uint8Array(32);
  const o = new DataView(out.buffer);
  for (let i = 0; i < 4; i++) o.setUint32(i * 4, s[i]!, true);
  for (let i = 0; i < 4; i++) o.setUint32(16 + i * 4, s[12 + i]!, true);
  s.fill(0);
  return out;
}

function quarter(s: Uint32Array, a: number, b: number, c: number, d: number): void {
  s[a] = (s[a]! + s[b]!) >>> 0;
  s[d] = rotl(s[d]! ^ s[a]!, 16);
  s[c] = (s[c]! + s[d]!) >>> 0;
  s[b] = rotl(s[b]! ^ s[c]!, 12);
  s[a] = (s[a]! + s[b]!) >>> 0;
  s[d] = rotl(s[d]! ^ s[a]!, 8);
  s[c] = (s[c]! + s[d]!) >>> 0;
  s[b] = rotl(s[b]! ^ s[c]!, 7);
}

function rotl(x: number, n: number): number {
  return ((x << n) | (x >>> (32 - n))) >>> 0;
}

function ietfParams(key: Uint8Array, nonce: Uint8Array): { subkey: Uint8Array; iv: Uint8Array } {
  if (nonce.length !== XCHACHA_NONCE_LENGTH) throw new RangeError('XChaCha20-Poly1305 takes a 24-byte nonce');
  const iv = new Uint8Array(12);
  iv.set(nonce.subarray(16, 24), 4);
  return { subkey: hchacha20(key, nonce.subarray(0, 16)), iv };
}

export interface XChaChaBackend {
  readonly name: 'openssl' | 'noble';
  /**
   * Encrypts the concatenation of `parts` (given in pieces, so a caller's header and padding
   * need no copy into one buffer) and writes ciphertext || tag into `out` at `offset`; `out`
   * must have room for the parts' total length plus the 16-byte tag.
   */
  sealInto(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, parts: readonly Uint8Array[], out: Uint8Array, offset: number): void;
  /** The plaintext of ciphertext || tag; throws when it does not authenticate. */
  open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array;
}

const openssl: XChaChaBackend = {
  name: 'openssl',
  sealInto(key, nonce, aad, parts, out, offset) {
    const { subkey, iv } = ietfParams(key, nonce);
    const cipher = createCipheriv('chacha20-poly1305', subkey, iv, { authTagLength: XCHACHA_TAG_LENGTH });
    subkey.fill(0);
    cipher.setAAD(aad, { plaintextLength: parts.reduce((sum, p) => sum + p.length, 0) });
    let at = offset;
    for (const part of parts) {
      if (part.length === 0) continue;
      const piece = cipher.update(part);
      copyBytes(out, piece, at);
      at += piece.length;
    }
    const last = cipher.final();
    copyBytes(out, last, at);
    at += last.length;
    copyBytes(out, cipher.getAuthTag(), at);
  },
  open(key, nonce, aad, sealed) {
    if (sealed.length < XCHACHA_TAG_LENGTH) throw new RangeError('XChaCha20-Poly1305 ciphertext is shorter than its tag');
    const { subkey, iv } = ietfParams(key, nonce);
    const decipher = createDecipheriv('chacha20-poly1305', subkey, iv, { authTagLength: XCHACHA_TAG_LENGTH });
    subkey.fill(0);
    const bodyLength = sealed.length - XCHACHA_TAG_LENGTH;
    decipher.setAAD(aad, { plaintextLength: bodyLength });
    decipher.setAuthTag(sealed.subarray(bodyLength));
    const plain = decipher.update(sealed.subarray(0, bodyLength));
    // final() throws when the tag does not match: the plaintext above is then dropped unread.
    const rest = decipher.final();
    const out = rest.length === 0 ? plain : Buffer.concat([plain, rest]);
    // A plain Uint8Array view (no copy), like every other byte array the vault hands around.
    return new Uint8Array(out.buffer, out.byteOffset, out.length);
  },
};

const noble: XChaChaBackend = {
  name: 'noble',
  sealInto(key, nonce, aad, parts, out, offset) {
    if (nonce.length !== XCHACHA_NONCE_LENGTH) throw new RangeError('XChaCha20-Poly1305 takes a 24-byte nonce');
    const plaintext = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    copyBytes(out, xchacha20poly1305(key, nonce, aad).encrypt(plaintext), offset);
  },
  open(key, nonce, aad, sealed) {
    if (nonce.length !== XCHACHA_NONCE_LENGTH) throw new RangeError('XChaCha20-Poly1305 takes a 24-byte nonce');
    return xchacha20poly1305(key, nonce, aad).decrypt(sealed);
  },
};

/** Both implementations, for the tests that hold them to the same bytes. */
export const XCHACHA_BACKENDS: readonly XChaChaBackend[] = [openssl, noble];

function opensslHasChaCha(): boolean {
  try {
    createCipheriv('chacha20-poly1305', new Uint8Array(KEY_LENGTH), new Uint8Array(12), { authTagLength: XCHACHA_TAG_LENGTH });
    return true;
  } catch {
    return false;
  }
}

/** The implementation in use: OpenSSL's where the runtime has it (Node), else @noble/ciphers (Electron). */
export const xchachaBackend: XChaChaBackend = opensslHasChaCha() ? openssl : noble;

export function xchachaSealInto(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, parts: readonly Uint8Array[], out: Uint8Array, offset: number): void {
  xchachaBackend.sealInto(key, nonce, aad, parts, out, offset);
}

/** ciphertext || tag of `plaintext`. */
export function xchachaSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  const out = new Uint8Array(plaintext.length + XCHACHA_TAG_LENGTH);
  xchachaSealInto(key, nonce, aad, [plaintext], out, 0);
  return out;
}

/** The plaintext of ciphertext || tag; throws when it does not authenticate. */
export function xchachaOpen(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  return xchachaBackend.open(key, nonce, aad, sealed);
}
