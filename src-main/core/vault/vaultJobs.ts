import type { HDNodeWallet } from 'ethers';
import { z } from 'zod';
import type { CallInput } from '#contract/api';
import type { VaultSnapshot } from '#contract/dto';
import { JOB_KIND } from '#contract/vocabulary';
import { HearthError } from '../common/hearthError';
import type { JobManager } from '../jobs/jobManager';
import { jobProgress, type Progress } from './jobProgress';
import type { RestoreResult } from './snapshotRestorer';
import type { SnapshotOptions } from './types';

export const SNAPSHOT_JOB = JOB_KIND.vaultSnapshot;
export const PUBLISH_JOB = JOB_KIND.vaultPublish;
export const RESTORE_JOB = JOB_KIND.vaultRestore;

export interface SnapshotJobParams {
  includeModels: boolean;
  includeDocuments: boolean;
  targetId: string | null;
  /** Read every file, even those the files cache says are unchanged (absent in jobs queued by an older Hearth). */
  full?: boolean;
}

export interface RestoreJobParams {
  cid: string | null;
  from: RestoreSource;
  dataDir: string;
  walletRef: string;
}

/** Where a restore reads from: a saved target, or a trustless gateway. */
export type RestoreSource = CallInput<'vault.restore'>['from'];

/** What the vault's jobs run: the service's own operations. */
export interface VaultJobHost {
  snapshot(options: SnapshotOptions & { full?: boolean }, progress: Progress): Promise<VaultSnapshot>;
  snapshotAndPublish(options: SnapshotOptions & { full?: boolean }, targetId: string, progress: Progress, publishing: Progress): Promise<VaultSnapshot>;
  publish(cid: string, targetId: string, progress: Progress): Promise<VaultSnapshot>;
  restore(input: { wallet: HDNodeWallet; cid: string | null; from: RestoreSource; dataDir: string }, progress: Progress): Promise<RestoreResult>;
  targetName(id: string): string;
  /** The wallet a restore job was started with (kept in memory only), once; null after a quit. */
  takeRestoreWallet(ref: string): HDNodeWallet | null;
}

/** Registers the snapshot, publish and restore jobs, with the schemas of their params. */
export function registerVaultJobs(jobs: JobManager, host: VaultJobHost): void {
  jobs.register<SnapshotJobParams, never>(SNAPSHOT_JOB, {
    params: z.object({ includeModels: z.boolean(), includeDocuments: z.boolean(), targetId: z.string().nullable(), full: z.boolean().optional() }),
    title: (p) => (p.targetId ? `Snapshot and publish to ${host.targetName(p.targetId)}` : 'Snapshot'),
    resumable: false,
    run: async (params, ctx) => {
      if (params.targetId) await host.snapshotAndPublish(params, params.targetId, jobProgress(ctx), jobProgress(ctx, 'Publishing'));
      else await host.snapshot(params, jobProgress(ctx));
    },
  });
  jobs.register<{ cid: string; targetId: string }, never>(PUBLISH_JOB, {
    params: z.object({ cid: z.string(), targetId: z.string() }),
    title: (p) => `Publish to ${host.targetName(p.targetId)}`,
    resumable: false,
    run: async ({ cid, targetId }, ctx) => {
      await host.publish(cid, targetId, jobProgress(ctx, 'Publishing'));
    },
  });
  jobs.register<RestoreJobParams, never>(RESTORE_JOB, {
    params: z.object({
      cid: z.string().nullable(),
      from: z.discriminatedUnion('kind', [
        z.object({ kind: z.literal('target'), targetId: z.string() }),
        z.object({ kind: z.literal('gateway'), url: z.string() }),
      ]),
      dataDir: z.string(),
      walletRef: z.string(),
    }),
    title: (p) => `Restore into ${p.dataDir}`,
    resumable: false,
    run: async (params, ctx) => {
      const wallet = host.takeRestoreWallet(params.walletRef);
      if (!wallet) throw new HearthError('CANCELLED', 'This restore was interrupted; start it again with the recovery phrase (it resumes where it stopped).');
      const result = await host.restore({ wallet, cid: params.cid, from: params.from, dataDir: params.dataDir }, jobProgress(ctx, 'Restoring'));
      ctx.onProgress(1, `Restored ${result.files} file${result.files === 1 ? '' : 's'} into ${result.dataDir}${result.keptAside === null ? '' : `; the folder that was there is kept at ${result.keptAside}`}`);
    },
  });
}
