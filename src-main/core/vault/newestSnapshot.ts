import type { HDNodeWallet } from 'ethers';
import { CID } from 'multiformats/cid';
import type { ErrorCode } from '#contract/errors';
import { HearthError } from '../common/hearthError';
import { unwrapDataKey } from './blockCipher';
import { decodeRoot, openManifest, verifyBlock } from './snapshotFormat';
import type { BlockFetcher, PublishTarget } from './types';
import { deriveVaultKeys } from './vaultKeys';

/** Failures that say nothing about the snapshot itself: cancelled, or the source unreachable. */
const NOT_AN_ANSWER = new Set<ErrorCode>(['CANCELLED', 'NETWORK_ERROR', 'TARGET_NOT_FOUND']);

/**
 * When a snapshot of this wallet was taken, from its signed manifest (the root and the manifest
 * blocks only); null when it is not this wallet's, or is missing or damaged at the source.
 */
export async function snapshotTakenAt(fetcher: BlockFetcher, wallet: HDNodeWallet, root: string, signal?: AbortSignal): Promise<number | null> {
  const fetchVerified = async (cid: CID): Promise<Uint8Array> => {
    const bytes = await fetcher.get(cid, { signal });
    await verifyBlock(cid, bytes);
    return bytes;
  };
  let rootCid: CID;
  try {
    rootCid = CID.parse(root);
  } catch {
    return null;
  }
  try {
    const rootBlock = decodeRoot(await fetchVerified(rootCid), `snapshot ${root}`);
    const dataKey = unwrapDataKey(deriveVaultKeys(wallet.privateKey).wrapKey, rootBlock.wrappedKey);
    const parts: Uint8Array[] = [];
    for (const cid of rootBlock.manifest) parts.push(await fetchVerified(cid));
    const manifest = await openManifest(parts, dataKey, wallet.address, `snapshot ${root}`);
    const takenAt = Date.parse(manifest.createdAt);
    return Number.isFinite(takenAt) ? takenAt : null;
  } catch (error) {
    if (!(error instanceof HearthError) || NOT_AN_ANSWER.has(error.code)) throw error;
    return null;
  }
}

/** The newest snapshot of this wallet among what the target lists (by signed time), or null. */
export async function newestSnapshotIn(
  target: PublishTarget,
  fetcher: BlockFetcher,
  wallet: HDNodeWallet,
  signal?: AbortSignal,
): Promise<{ root: string; takenAt: number } | null> {
  const roots = new Set((await target.listUploads({ signal })).map((u) => u.root));
  let newest: { root: string; takenAt: number } | null = null;
  for (const root of roots) {
    const takenAt = await snapshotTakenAt(fetcher, wallet, root, signal);
    if (takenAt !== null && (newest === null || takenAt > newest.takenAt)) newest = { root, takenAt };
  }
  return newest;
}
