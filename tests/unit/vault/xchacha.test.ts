import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openChunk, openManifestBytes, sealChunk, sealManifestBytes, unwrapDataKey, wrapDataKey } from '../../../src-main/core/vault/blockCipher';
import { XCHACHA_BACKENDS, hchacha20, xchachaBackend, type XChaChaBackend } from '../../../src-main/core/vault/xchacha';

const hex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/[\s:]/g, ''), 'hex'));
const toHex = (bytes: Uint8Array) => Buffer.from(bytes).toString('hex');
const range = (from: number, length: number) => Uint8Array.from({ length }, (_, i) => from + i);

const sealWith = (backend: XChaChaBackend, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array) => {
  const out = new Uint8Array(plaintext.length + 16);
  backend.sealInto(key, nonce, aad, [plaintext], out, 0);
  return out;
};

it('HChaCha20 matches the test vector of draft-irtf-cfrg-xchacha-03 §2.2.1', () => {
  const key = range(0, 32);
  const nonce = hex('00:00:00:09:00:00:00:4a:00:00:00:00:31:41:59:27');
  expect(toHex(hchacha20(key, nonce))).toBe('82413b4227b27bfed30e42508a877d73a0f9e4d58a74a853c12ec41326d3ecdc');
});

it("uses OpenSSL's ChaCha20-Poly1305 under Node (Electron's BoringSSL lacks it: @noble/ciphers there)", () => {
  expect(xchachaBackend.name).toBe('openssl');
  expect(XCHACHA_BACKENDS.map((b) => b.name)).toEqual(['openssl', 'noble']);
});

describe.each(XCHACHA_BACKENDS.map((backend) => [backend.name, backend] as const))('XChaCha20-Poly1305 on %s', (_name, backend) => {
  const xchachaSeal = (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array) => sealWith(backend, key, nonce, aad, plaintext);
  const xchachaOpen = (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array) => backend.open(key, nonce, aad, sealed);
  const xchachaSealInto = backend.sealInto.bind(backend);

  it('the AEAD matches the test vector of draft-irtf-cfrg-xchacha-03 §A.3.1', () => {
    const plaintext = new TextEncoder().encode(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const aad = hex('50515253c0c1c2c3c4c5c6c7');
    const key = range(0x80, 32);
    const nonce = range(0x40, 24);
    const expected =
      'bd6d179d3e83d43b9576579493c0e939572a1700252bfaccbed2902c21396cbb731c7f1b0b4aa6440bf3a82f4eda7e39ae64c6708c54c216cb96b72e1213b452' +
      '2f8c9ba40db5d945b11b69b982c1bb9e3f3fac2bc369488f76b2383565d3fff921f9664c97637da9768812f615c68b13b52e' +
      'c0875924c1c7987947deafd8780acf49';
    expect(toHex(xchachaSeal(key, nonce, aad, plaintext))).toBe(expected);
    expect(new TextDecoder().decode(xchachaOpen(key, nonce, aad, hex(expected)))).toBe(new TextDecoder().decode(plaintext));
  });

  it('gives the same bytes as @noble/ciphers, both ways, at every size and in pieces', () => {
    for (const size of [0, 1, 15, 16, 63, 64, 65, 1000, 65_536, 300_001]) {
      const key = randomBytes(32);
      const nonce = randomBytes(24);
      const aad = randomBytes(size % 40);
      const plaintext = randomBytes(size);
      const ours = xchachaSeal(key, nonce, aad, plaintext);
      expect(toHex(ours)).toBe(toHex(xchacha20poly1305(key, nonce, aad).encrypt(plaintext)));
      expect(toHex(xchacha20poly1305(key, nonce, aad).decrypt(ours))).toBe(toHex(plaintext));
      const cut = Math.floor(size / 3);
      const pieces = new Uint8Array(size + 16 + 5);
      xchachaSealInto(key, nonce, aad, [plaintext.subarray(0, cut), new Uint8Array(0), plaintext.subarray(cut)], pieces, 5);
      expect(toHex(pieces.subarray(5))).toBe(toHex(ours));
      expect(toHex(xchachaOpen(key, nonce, aad, ours))).toBe(toHex(plaintext));
    }
  });

  it('detects a flipped bit anywhere, a wrong key, nonce or AAD, and a cut tag', () => {
    const key = randomBytes(32);
    const nonce = randomBytes(24);
    const aad = new TextEncoder().encode('aad');
    const sealed = xchachaSeal(key, nonce, aad, randomBytes(500));
    for (const at of [0, 250, 499, 500, 515]) {
      const bad = Uint8Array.from(sealed);
      bad[at]! ^= 0x01;
      expect(() => xchachaOpen(key, nonce, aad, bad)).toThrow();
    }
    expect(() => xchachaOpen(randomBytes(32), nonce, aad, sealed)).toThrow();
    const otherNonce = Uint8Array.from(nonce);
    otherNonce[20]! ^= 1;
    expect(() => xchachaOpen(key, otherNonce, aad, sealed)).toThrow();
    expect(() => xchachaOpen(key, nonce, new TextEncoder().encode('aae'), sealed)).toThrow();
    expect(() => xchachaOpen(key, nonce, aad, sealed.subarray(0, sealed.length - 1))).toThrow();
    expect(() => xchachaOpen(key, nonce, aad, sealed.subarray(0, 10))).toThrow();
  });
});

describe('sealed blocks across the change of cipher implementation', () => {
  /** How the previous Hearth sealed a padded payload: noble's XChaCha20-Poly1305, format version 1. */
  const sealLikeBefore = (key: Uint8Array, plaintext: Uint8Array, aad: string) => {
    const n = 4 + plaintext.length;
    const e = 31 - Math.clz32(n);
    const unit = 2 ** (e - (Math.floor(Math.log2(e)) + 1));
    const body = new Uint8Array(n < 2 ? n : Math.ceil(n / unit) * unit);
    new DataView(body.buffer).setUint32(0, plaintext.length, true);
    body.set(plaintext, 4);
    const nonce = randomBytes(24);
    return Uint8Array.from([1, ...nonce, ...xchacha20poly1305(key, nonce, new TextEncoder().encode(aad)).encrypt(body)]);
  };

  it('opens chunks and manifests the previous implementation sealed', () => {
    const key = randomBytes(32);
    for (const size of [0, 1, 100, 65_536, 262_145]) {
      const plaintext = randomBytes(size);
      expect(toHex(openChunk(key, sealLikeBefore(key, plaintext, 'hearth-vault/chunk/v1'), 'b'))).toBe(toHex(plaintext));
      expect(toHex(openManifestBytes(key, sealLikeBefore(key, plaintext, 'hearth-vault/manifest/v1'), 'm'))).toBe(toHex(plaintext));
    }
  });

  it('seals what the previous implementation opens: same version byte, layout and padding', () => {
    const key = randomBytes(32);
    const plaintext = randomBytes(70_000);
    const sealed = sealChunk(key, plaintext);
    expect(sealed[0]).toBe(1);
    expect(sealed.length).toBe(sealLikeBefore(key, plaintext, 'hearth-vault/chunk/v1').length);
    const body = xchacha20poly1305(key, sealed.subarray(1, 25), new TextEncoder().encode('hearth-vault/chunk/v1')).decrypt(sealed.subarray(25));
    expect(new DataView(body.buffer, body.byteOffset).getUint32(0, true)).toBe(plaintext.length);
    expect(toHex(body.subarray(4, 4 + plaintext.length))).toBe(toHex(plaintext));
    expect(body.subarray(4 + plaintext.length).every((b) => b === 0)).toBe(true);
    const manifest = sealManifestBytes(key, plaintext.subarray(0, 999));
    expect(toHex(openManifestBytes(key, manifest, 'm'))).toBe(toHex(plaintext.subarray(0, 999)));
  });

  it('unwraps a data key the previous implementation wrapped', () => {
    const wrapKey = randomBytes(32);
    const dataKey = randomBytes(32);
    const nonce = randomBytes(24);
    const before = Uint8Array.from([1, ...nonce, ...xchacha20poly1305(wrapKey, nonce, new TextEncoder().encode('hearth-vault/data-key/v1')).encrypt(dataKey)]);
    expect(toHex(unwrapDataKey(wrapKey, before))).toBe(toHex(dataKey));
    expect(toHex(unwrapDataKey(wrapKey, wrapDataKey(wrapKey, dataKey)))).toBe(toHex(dataKey));
  });
});
