import { createHmac, hkdfSync } from 'node:crypto';
import { Wallet } from 'ethers';
import { describe, expect, it } from 'vitest';
import { HearthError } from '../../../src-main/core/common/hearthError';
import { chunkId, deriveVaultKeys } from '../../../src-main/core/vault/vaultKeys';

const KEY = '0x' + '11'.repeat(32);

function nodeHkdf(info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', Buffer.from('11'.repeat(32), 'hex'), 'hearth-vault-v1', info, 32));
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(HearthError);
    return (error as HearthError).code;
  }
  throw new Error('expected a throw');
}

describe('deriveVaultKeys', () => {
  it('is HKDF-SHA256 with the vault salt and one info per key (checked against node:crypto)', () => {
    const keys = deriveVaultKeys(KEY);
    expect(Buffer.from(keys.wrapKey)).toEqual(nodeHkdf('hearth/vault/key-wrap'));
    expect(Buffer.from(keys.chunkIdKey)).toEqual(nodeHkdf('hearth/vault/chunk-id'));
    expect(Buffer.from(keys.chunkerSeed)).toEqual(nodeHkdf('hearth/vault/chunker'));
    expect(Buffer.from(keys.pointerKey)).toEqual(nodeHkdf('hearth/vault/pointer-key'));
    expect(keys.pointerName).toBe(nodeHkdf('hearth/vault/pointer-name').subarray(0, 16).toString('hex'));
  });

  it('is deterministic, gives distinct keys, and differs per wallet', () => {
    const a = deriveVaultKeys(KEY);
    expect(deriveVaultKeys(KEY)).toEqual(a);
    const hexes = [a.wrapKey, a.chunkIdKey, a.chunkerSeed, a.pointerKey].map((k) => Buffer.from(k).toString('hex'));
    expect(new Set(hexes).size).toBe(4);
    for (const k of [a.wrapKey, a.chunkIdKey, a.chunkerSeed, a.pointerKey]) expect(k.length).toBe(32);
    expect(a.pointerName).toMatch(/^[0-9a-f]{32}$/);

    const wallet = Wallet.createRandom();
    const b = deriveVaultKeys(wallet.privateKey);
    expect(Buffer.from(b.wrapKey).equals(Buffer.from(a.wrapKey))).toBe(false);
    expect(b.pointerName).not.toBe(a.pointerName);
    expect(wallet.address.toLowerCase()).not.toContain(b.pointerName);
  });

  it('rejects anything but a 0x-prefixed 32-byte hex key', () => {
    for (const bad of ['', '11'.repeat(32), '0x' + '11'.repeat(31), '0x' + 'zz'.repeat(32), '0x' + '11'.repeat(33), '0x' + '00'.repeat(32)]) {
      expect(codeOf(() => deriveVaultKeys(bad))).toBe('BAD_INPUT');
    }
  });
});

describe('chunkId', () => {
  it('is HMAC-SHA256 hex under the chunk-id key', () => {
    const { chunkIdKey } = deriveVaultKeys(KEY);
    const data = new TextEncoder().encode('hello vault');
    expect(chunkId(chunkIdKey, data)).toBe(createHmac('sha256', chunkIdKey).update(data).digest('hex'));
    const other = deriveVaultKeys(Wallet.createRandom().privateKey).chunkIdKey;
    expect(chunkId(other, data)).not.toBe(chunkId(chunkIdKey, data));
    expect(codeOf(() => chunkId(new Uint8Array(16), data))).toBe('BAD_INPUT');
  });

  it('chunkId gives the same ids for views into larger buffers as for the bytes alone', () => {
    const { chunkIdKey } = deriveVaultKeys(KEY);
    const big = new Uint8Array(300_000).map((_, i) => (i * 7) & 0xff);
    for (const data of [new Uint8Array(0), new TextEncoder().encode('hello vault'), big, big.subarray(1234, 200_000)]) {
      expect(chunkId(chunkIdKey, data)).toBe(createHmac('sha256', chunkIdKey).update(Buffer.from(Uint8Array.from(data))).digest('hex'));
    }
  });
});
