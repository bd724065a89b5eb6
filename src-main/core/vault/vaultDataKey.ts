import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { HDNodeWallet } from 'ethers';
import { HearthError } from '../common/hearthError';
import { newDataKey, unwrapDataKey, wrapDataKey } from './blockCipher';
import { dataKeyState, type VaultRepository } from './vaultRepository';

/**
 * The vault's data key: made once per wallet, kept wrapped under the wallet-derived key (in the
 * vault database at `dbPath`); and that key wrapped anew (a fresh random nonce) for the root
 * being written, so no two roots carry the same wrapped-key bytes.
 */
export function sealingDataKey(repo: VaultRepository, dbPath: string, wallet: HDNodeWallet, wrapKey: Uint8Array): { dataKey: Uint8Array; wrappedKey: Uint8Array } {
  const stored = repo.getState('dataKey', dataKeyState);
  // No fallback: a new key would be sealed beside chunks deduplicated under the old one, so snapshots stop with a coded error.
  if (stored && !stored.ok) throw new HearthError('CORRUPT_FILE', `The vault's data key in ${dbPath} cannot be read (${stored.problem}); snapshots cannot be sealed until it is repaired.`);
  const saved = stored?.value;
  if (saved && saved.address === wallet.address) {
    const dataKey = unwrapDataKey(wrapKey, hexToBytes(saved.wrapped));
    return { dataKey, wrappedKey: wrapDataKey(wrapKey, dataKey) };
  }
  const dataKey = newDataKey();
  const wrappedKey = wrapDataKey(wrapKey, dataKey);
  repo.setState('dataKey', { address: wallet.address, wrapped: bytesToHex(wrappedKey) });
  return { dataKey, wrappedKey };
}
