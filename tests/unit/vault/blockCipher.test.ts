import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { describe, expect, it } from 'vitest';
import { HearthError } from '../../../src-main/core/common/hearthError';
import {
  newDataKey,
  openChunk,
  openManifestBytes,
  openPointerBytes,
  padmeLength,
  sealChunk,
  sealedChunkLength,
  sealManifestBytes,
  sealPointerBytes,
  unwrapDataKey,
  wrapDataKey,
} from '../../../src-main/core/vault/blockCipher';

const LABEL = 'bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy';

function errorOf(fn: () => unknown): HearthError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HearthError);
    return error as HearthError;
  }
  throw new Error('expected a throw');
}

function bytes(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 31 + 7) & 0xff);
}

/** A blob sealed with the right key and AAD but an arbitrary body: tests the checks after the AEAD. */
function forge(key: Uint8Array, body: Uint8Array): Uint8Array {
  const nonce = new Uint8Array(24).fill(9);
  const ciphertext = xchacha20poly1305(key, nonce, new TextEncoder().encode('hearth-vault/chunk/v1')).encrypt(body);
  return Uint8Array.from([1, ...nonce, ...ciphertext]);
}

describe('padmeLength', () => {
  it('matches known values', () => {
    expect([0, 1, 2, 3, 4, 5, 8, 9, 1000, 1024, 1025].map(padmeLength)).toEqual([0, 1, 2, 3, 4, 5, 8, 10, 1024, 1024, 1088]);
    expect(padmeLength(2 ** 32 + 1)).toBe(2 ** 32 + 2 ** 26);
  });

  it('never shrinks, is monotone, and adds at most 12%', () => {
    let previous = 0;
    for (let n = 1; n < 200_000; n += 1 + (n >> 6)) {
      const padded = padmeLength(n);
      expect(padded).toBeGreaterThanOrEqual(n);
      expect(padded).toBeGreaterThanOrEqual(previous);
      expect(padded - n).toBeLessThanOrEqual(n * 0.12);
      previous = padded;
    }
    for (let k = 1; k < 40; k++) expect(padmeLength(2 ** k)).toBe(2 ** k);
  });

  it('rejects negative and fractional lengths', () => {
    expect(errorOf(() => padmeLength(-1)).code).toBe('BAD_INPUT');
    expect(errorOf(() => padmeLength(1.5)).code).toBe('BAD_INPUT');
  });
});

describe('sealChunk / openChunk', () => {
  it('round-trips 0 bytes, 1 byte and 1 MiB, with padded sizes', () => {
    const key = newDataKey();
    for (const length of [0, 1, 1024 * 1024]) {
      const plaintext = bytes(length);
      const sealed = sealChunk(key, plaintext);
      expect(sealed.length).toBe(1 + 24 + padmeLength(4 + length) + 16);
      expect(sealed[0]).toBe(1);
      expect(Buffer.from(openChunk(key, sealed, LABEL)).equals(Buffer.from(plaintext))).toBe(true);
    }
  });

  it('seals into a caller\'s buffer when it is large enough (a view of it), else into a new one', () => {
    const key = newDataKey();
    const plaintext = bytes(70_000);
    expect(sealedChunkLength(plaintext.length)).toBe(sealChunk(key, plaintext).length);
    const scratch = new Uint8Array(sealedChunkLength(plaintext.length) + 100).fill(0xee);
    const sealed = sealChunk(key, plaintext, scratch);
    expect(sealed.buffer).toBe(scratch.buffer);
    expect(sealed.length).toBe(sealedChunkLength(plaintext.length));
    expect(Buffer.from(openChunk(key, sealed, LABEL)).equals(Buffer.from(plaintext))).toBe(true);
    // Sealing again into the same buffer replaces the bytes: a fresh nonce, and it still opens.
    const first = sealed.slice();
    const again = sealChunk(key, plaintext, scratch);
    expect(Buffer.from(again).equals(Buffer.from(first))).toBe(false);
    expect(Buffer.from(openChunk(key, again, LABEL)).equals(Buffer.from(plaintext))).toBe(true);
    const small = new Uint8Array(10);
    const fresh = sealChunk(key, plaintext, small);
    expect(fresh.buffer).not.toBe(small.buffer);
    expect(Buffer.from(openChunk(key, fresh, LABEL)).equals(Buffer.from(plaintext))).toBe(true);
  });

  it('uses a fresh nonce and key each time', () => {
    const key = newDataKey();
    expect(key.length).toBe(32);
    expect(Buffer.from(newDataKey()).equals(Buffer.from(key))).toBe(false);
    const a = sealChunk(key, bytes(100));
    const b = sealChunk(key, bytes(100));
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(false);
  });

  it('rejects a flipped bit anywhere (version, nonce, ciphertext, tag) naming the label', () => {
    const key = newDataKey();
    const sealed = sealChunk(key, bytes(60));
    for (let i = 0; i < sealed.length; i++) {
      const altered = sealed.slice();
      altered[i]! ^= 1 << i % 8;
      const error = errorOf(() => openChunk(key, altered, LABEL));
      expect(error.code).toBe('INTEGRITY_ERROR');
      expect(error.message).toContain(LABEL);
    }
  });

  it('rejects truncation, a wrong key, and bad length fields or padding', () => {
    const key = newDataKey();
    const sealed = sealChunk(key, bytes(60));
    expect(errorOf(() => openChunk(key, sealed.subarray(0, 40), LABEL)).code).toBe('INTEGRITY_ERROR');
    expect(errorOf(() => openChunk(key, sealed.subarray(0, sealed.length - 1), LABEL)).code).toBe('INTEGRITY_ERROR');
    expect(errorOf(() => openChunk(newDataKey(), sealed, LABEL)).code).toBe('INTEGRITY_ERROR');

    const body = (length: number, size: number, fill = 0): Uint8Array => {
      const b = new Uint8Array(size).fill(fill);
      new DataView(b.buffer).setUint32(0, length, true);
      return b;
    };
    // Sanity: well-formed forged bodies open (padmeLength(9) is 10), so the failures below are
    // the length and padding checks: too long, not the canonical padded size, non-zero padding.
    expect(openChunk(key, forge(key, body(6, 10)), LABEL)).toHaveLength(6);
    expect(openChunk(key, forge(key, body(5, 10)), LABEL)).toHaveLength(5);
    for (const bad of [body(100, 10), body(3, 10), body(5, 10, 7)]) {
      const error = errorOf(() => openChunk(key, forge(key, bad), LABEL));
      expect(error.code).toBe('INTEGRITY_ERROR');
      expect(error.message).toContain(LABEL);
    }
  });

  it('keeps chunks, manifests and pointers apart', () => {
    const key = newDataKey();
    const plaintext = bytes(200);
    expect(errorOf(() => openChunk(key, sealManifestBytes(key, plaintext), LABEL)).code).toBe('INTEGRITY_ERROR');
    expect(errorOf(() => openManifestBytes(key, sealChunk(key, plaintext), LABEL)).code).toBe('INTEGRITY_ERROR');
    expect(errorOf(() => openPointerBytes(key, sealChunk(key, plaintext), LABEL)).code).toBe('INTEGRITY_ERROR');
    expect(openManifestBytes(key, sealManifestBytes(key, plaintext), LABEL)).toEqual(plaintext);
    expect(openPointerBytes(key, sealPointerBytes(key, plaintext), LABEL)).toEqual(plaintext);
  });

  it('rejects keys of the wrong size', () => {
    expect(errorOf(() => sealChunk(new Uint8Array(16), bytes(1))).code).toBe('BAD_INPUT');
  });
});

describe('wrapDataKey / unwrapDataKey', () => {
  it('round-trips, and a wrong wrap key is WRONG_PASSPHRASE', () => {
    const wrapKey = newDataKey();
    const dataKey = newDataKey();
    const wrapped = wrapDataKey(wrapKey, dataKey);
    expect(wrapped.length).toBe(1 + 24 + 32 + 16);
    expect(unwrapDataKey(wrapKey, wrapped)).toEqual(dataKey);
    const error = errorOf(() => unwrapDataKey(newDataKey(), wrapped));
    expect(error.code).toBe('WRONG_PASSPHRASE');
    expect(error.message).toMatch(/recovery phrase does not open this snapshot/);
  });

  it('does not open a data key sealed as a chunk', () => {
    const key = newDataKey();
    const disguised = sealChunk(key, newDataKey());
    expect(() => unwrapDataKey(key, disguised)).toThrow(HearthError);
  });

  it('calls a malformed wrapped key an integrity error', () => {
    const wrapKey = newDataKey();
    const wrapped = wrapDataKey(wrapKey, newDataKey());
    expect(errorOf(() => unwrapDataKey(wrapKey, wrapped.subarray(1))).code).toBe('INTEGRITY_ERROR');
    const versioned = wrapped.slice();
    versioned[0] = 2;
    expect(errorOf(() => unwrapDataKey(wrapKey, versioned)).code).toBe('INTEGRITY_ERROR');
  });
});
