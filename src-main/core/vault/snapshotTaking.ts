import type { HDNodeWallet } from 'ethers';
import { join } from 'node:path';
import { z } from 'zod';
import type { VaultSnapshot } from '#contract/dto';
import { isDiskFull } from '../common/fsErrors';
import { HearthError } from '../common/hearthError';
import type { Logger } from '../common/logger';
import type { ChunkStore } from '../search/chunkStore';
import { captureData, verifyCapture } from './dataCapture';
import { FULL_VERIFY_STATE, fullVerifyAfter, fullVerifyDue, fullVerifyState } from './filesCache';
import type { Progress } from './jobProgress';
import type { LocalBlockStore } from './localBlockStore';
import { documentsOutside } from './snapshotDocuments';
import type { SnapshotTee } from './snapshotTee';
import { writeSnapshot, writtenSummary } from './snapshotWriter';
import type { SnapshotOptions } from './types';
import { sealingDataKey } from './vaultDataKey';
import { deriveVaultKeys } from './vaultKeys';
import { collectGarbage, killedSnapshotLeftovers, newCaptureDir, removeCaptureDir, type MaintenanceDeps } from './vaultMaintenance';
import type { VaultRepository } from './vaultRepository';

/** What a snapshot needs of the vault service. */
export interface SnapshotDeps {
  /** The vault folder. */
  dir: string;
  dataDir: string;
  repo: VaultRepository;
  blocks: LocalBlockStore;
  logger: Logger;
  appVersion: string;
  openStore: () => Promise<ChunkStore | null>;
  documents: () => { sourceId: string; sourceRoot: string; path: string }[];
  sqliteNativeBinding?: string;
  maintenance: () => MaintenanceDeps;
}

/**
 * Captures, chunks, seals and records a snapshot (incremental unless `full` or a full verify is
 * due), then keeps only the newest `keep`; the caller holds the vault lock. A tee (a snapshot
 * published in the same command) gets every block as it is sealed and has its CAR in the target
 * before the snapshot is recorded. Reclaims first what a killed snapshot left.
 */
export async function takeSnapshot(deps: SnapshotDeps, wallet: HDNodeWallet, options: SnapshotOptions & { full?: boolean }, progress: Progress, tee: SnapshotTee | null): Promise<VaultSnapshot> {
  const startedAt = Date.now();
  const lastFull = deps.repo.stateOrNull(FULL_VERIFY_STATE, fullVerifyState, 'the next snapshot reads every file');
  const full = fullVerifyDue(lastFull, startedAt, options.full ?? false);
  const keys = deriveVaultKeys(wallet.privateKey);
  const { dataKey, wrappedKey } = sealingDataKey(deps.repo, join(deps.dir, 'vault.db'), wallet, keys.wrapKey);
  const staging = newCaptureDir(deps.dir);
  progress.onProgress?.(null, 'Capturing the database and the index');
  const documents = options.includeDocuments ? documentsOutside(deps.dataDir, deps.documents()) : null;
  if (documents && documents.leftOut.length > 0) deps.logger.warn(`vault: ${documents.leftOut.length} indexed document(s) inside the data directory are never put in a snapshot`);
  try {
    if (await killedSnapshotLeftovers(deps.dir, staging)) {
      const reclaimed = await collectGarbage(deps.maintenance(), staging);
      deps.logger.warn(`vault: an earlier snapshot was killed; reclaimed ${reclaimed.orphans.count} blocks and ${reclaimed.tempFiles.count} temp files it left`);
    }
    const capture = await captureData({
      dataDir: deps.dataDir,
      store: await deps.openStore(),
      stagingDir: staging,
      includeModels: options.includeModels,
      documents: documents?.kept ?? null,
      sqliteNativeBinding: deps.sqliteNativeBinding,
      signal: progress.signal,
    });
    for (const path of capture.skipped) deps.logger.warn(`vault: ${path} could not be read and is not in this snapshot`);
    const written = await writeSnapshot(
      { repo: deps.repo, blocks: deps.blocks, tee, logger: deps.logger },
      {
        signer: wallet,
        keys,
        dataKey,
        wrappedKey,
        capture,
        options: { includeModels: options.includeModels, includeDocuments: options.includeDocuments },
        previous: deps.repo.latestSnapshot()?.cid ?? deps.repo.stateOrNull('previous', z.string(), 'the next snapshot names no previous one'),
        appVersion: deps.appVersion,
        full,
        signal: progress.signal,
        onProgress: (done, total, file) => progress.onProgress?.(total > 0 ? done / total : null, `Sealing ${file}`, { done, total }),
        verify: () => verifyCapture(capture, deps.sqliteNativeBinding),
      },
    );
    const lost = written.blocksFolderLost ? 'the block store folder' : `${written.resealedChunks} blocks`;
    if (written.blocksFolderLost || written.resealedChunks > 0) deps.logger.warn(`vault: ${lost} had gone missing; the dedup index forgot them and the chunks were sealed again`);
    const summary = writtenSummary(written, full);
    deps.logger.info(summary.info);
    if (summary.warning) deps.logger.warn(summary.warning);
    deps.repo.setState(FULL_VERIFY_STATE, fullVerifyAfter(lastFull, full, startedAt));
    await deps.blocks.delete(deps.repo.prune(deps.repo.schedule().keep));
    return deps.repo.snapshot(written.cid);
  } catch (error) {
    // A full target drive is said as such (by the target); a full disk here by this.
    if (isDiskFull(error) && !tee?.raised(error)) {
      throw new HearthError('DISK_FULL', `The disk holding ${deps.dir} is full: free some space and take the snapshot again. Nothing was recorded.`, { cause: error });
    }
    throw error;
  } finally {
    await removeCaptureDir(deps.dir, staging);
  }
}
