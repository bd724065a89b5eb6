import { createHmac } from 'node:crypto';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes, utf8ToBytes } from '@noble/hashes/utils.js';
import { HearthError } from '../common/hearthError';

/** Every secret the vault needs, derived from the wallet key alone so a new machine can restore. */
export interface VaultKeys {
  /** Seals the per-vault data key inside each snapshot root. */
  wrapKey: Uint8Array;
  /** Keys the chunk ids, so dedup ids reveal nothing about the content. */
  chunkIdKey: Uint8Array;
  /** Seeds the chunker's gear table, so chunk boundaries cannot fingerprint known files. */
  chunkerSeed: Uint8Array;
  /** Seals the "latest snapshot" pointer record. */
  pointerKey: Uint8Array;
  /** Name of the pointer record: stable per wallet, unlinkable to the address. */
  pointerName: string;
}

const SALT = utf8ToBytes('hearth-vault-v1');
const PRIVATE_KEY = /^0x[0-9a-fA-F]{64}$/;

function derive(ikm: Uint8Array, info: string): Uint8Array {
  return hkdf(sha256, ikm, SALT, utf8ToBytes(info), 32);
}

export function deriveVaultKeys(privateKey: string): VaultKeys {
  if (!PRIVATE_KEY.test(privateKey)) {
    throw new HearthError('BAD_INPUT', 'The wallet key must be 32 bytes written as 0x-prefixed hex.');
  }
  const ikm = hexToBytes(privateKey.slice(2));
  if (ikm.every((b) => b === 0)) {
    throw new HearthError('BAD_INPUT', 'The wallet key is all zeros, which is not a valid key.');
  }
  return {
    wrapKey: derive(ikm, 'hearth/vault/key-wrap'),
    chunkIdKey: derive(ikm, 'hearth/vault/chunk-id'),
    chunkerSeed: derive(ikm, 'hearth/vault/chunker'),
    pointerKey: derive(ikm, 'hearth/vault/pointer-key'),
    pointerName: bytesToHex(derive(ikm, 'hearth/vault/pointer-name').subarray(0, 16)),
  };
}

/** Keyed dedup id of a chunk: equal plaintexts match, but without the key the id says nothing. */
export function chunkId(chunkIdKey: Uint8Array, plaintext: Uint8Array): string {
  if (chunkIdKey.length !== 32) {
    throw new HearthError('BAD_INPUT', 'The chunk-id key must be 32 bytes.');
  }
  // OpenSSL's HMAC: this runs over every byte of every snapshot and restore, ~10x @noble's speed.
  return createHmac('sha256', chunkIdKey).update(plaintext).digest('hex');
}
