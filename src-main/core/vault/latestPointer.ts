import type { HDNodeWallet } from 'ethers';
import { HearthError } from '../common/hearthError';
import { openPointer, sealPointer } from './snapshotFormat';
import { capabilitiesOf } from './targets/targetRegistry';
import type { PublishTarget } from './types';
import { deriveVaultKeys } from './vaultKeys';

/**
 * The signed "latest snapshot" record a target with the `latestPointer` capability keeps, under
 * a name derived from the wallet: a new machine finds the newest snapshot from the phrase alone.
 */
export async function writeLatestPointer(
  target: PublishTarget,
  wallet: HDNodeWallet,
  pointer: { root: string; sequence: number },
  signal?: AbortSignal,
): Promise<void> {
  const keys = deriveVaultKeys(wallet.privateKey);
  const record = await sealPointer(keys.pointerKey, wallet, { ...pointer, createdAt: new Date().toISOString() });
  await target.writePointer(keys.pointerName, record, { signal });
}

/** The root the target's signed latest-snapshot record names; BAD_INPUT for a source that keeps none. */
export async function latestFromPointer(target: PublishTarget | null, wallet: HDNodeWallet, signal?: AbortSignal): Promise<string> {
  if (!target || !capabilitiesOf(target.kind).latestPointer) {
    throw new HearthError('BAD_INPUT', 'This source keeps no record of the latest snapshot: give the snapshot CID.');
  }
  const keys = deriveVaultKeys(wallet.privateKey);
  const record = await target.readPointer(keys.pointerName, { signal });
  if (!record) throw new HearthError('NOT_FOUND', `No snapshot of wallet ${wallet.address} has been published there yet.`);
  return (await openPointer(keys.pointerKey, record, wallet.address)).root;
}
