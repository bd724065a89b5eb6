import { basename, dirname, join } from 'node:path';
import { Sequencer } from '../common/async';
import { withLock } from '../common/processLock';
import { describeOwner } from '../common/processOwner';
import { assertDataDirFree, locksDir } from '../storage/dataDirHolders';
import { restoreSnapshot, type RestoreOptions, type RestoreResult } from './snapshotRestorer';

/** How long a vault operation waits for another process's by default: longer than a large snapshot usually takes. */
export const VAULT_LOCK_WAIT_MS = 10 * 60_000;

/** The vault lock's file: `<dataDir>/locks/vault.lock`. */
export function vaultLockPath(dataDir: string): string {
  return join(locksDir(dataDir), 'vault.lock');
}

export interface VaultLockUse {
  /** What the holder does, for those who wait: "vault snapshot". */
  purpose: string;
  signal?: AbortSignal;
  /** Told once when another process holds the vault and this one starts waiting. */
  onWait?: (message: string) => void;
}

/**
 * One vault operation at a time on a data directory, across every process that has it open
 * (the app, `hearth serve`, CLI commands): snapshot (with its retention), publish, check and gc.
 * Within a process a Sequencer queues them in order; across processes the lock file
 * `locks/vault.lock` (common/processLock: owner pid, host and start time; a dead owner's lock
 * is taken over). A second process waits, up to `waitMs`, then fails with LOCK_HELD naming
 * the holder; it never works beside it.
 */
export class VaultLock {
  private readonly queue = new Sequencer();

  constructor(
    private readonly dataDir: string,
    private readonly waitMs: number = VAULT_LOCK_WAIT_MS,
  ) {}

  run<T>(use: VaultLockUse, fn: () => Promise<T>): Promise<T> {
    return this.queue.queue(() =>
      withLock(
        vaultLockPath(this.dataDir),
        {
          purpose: use.purpose,
          waitMs: this.waitMs,
          signal: use.signal,
          onWait: (holder) => use.onWait?.(`Waiting for ${describeOwner(holder)} to finish with the vault`),
        },
        fn,
      ),
    );
  }
}

/** The lock of restores into one directory: beside it, as its staging folder is (`.<name>.hearth-restore.lock`). */
export function restoreLockPath(dataDir: string): string {
  return join(dirname(dataDir), `.${basename(dataDir)}.hearth-restore.lock`);
}

/**
 * A restore as every front end runs it: one at a time per destination, across processes (the
 * lock beside it), and never into a data directory that a running Hearth has open
 * (DATA_DIR_IN_USE, checked before anything is fetched and again right before the restored
 * folder moves into place, which would otherwise rename the live directory aside).
 */
export function guardedRestore(options: RestoreOptions, onWait?: (message: string) => void): Promise<RestoreResult> {
  const refuse = () => assertDataDirFree(options.dataDir, `Restoring into ${options.dataDir} is refused`);
  return withLock(
    restoreLockPath(options.dataDir),
    {
      purpose: 'vault restore',
      waitMs: VAULT_LOCK_WAIT_MS,
      signal: options.signal,
      onWait: (holder) => onWait?.(`Waiting for ${describeOwner(holder)}, which restores into the same folder`),
    },
    async () => {
      refuse();
      return restoreSnapshot({ ...options, beforeMove: refuse });
    },
  );
}
