import type { HDNodeWallet } from 'ethers';
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CID } from 'multiformats/cid';
import type { CallInput } from '#contract/api';
import type { JobInfo, VaultCreated, VaultSchedule, VaultSnapshot, VaultStatus, VaultTarget } from '#contract/dto';
import { HearthError } from '../common/hearthError';
import { newId } from '../common/ids';
import type { Logger } from '../common/logger';
import type { JobManager } from '../jobs/jobManager';
import type { ChunkStore } from '../search/chunkStore';
import { assertDataDirFree } from '../storage/dataDirHolders';
import type { Db } from '../storage/database';
import { LocalBlockStore } from './localBlockStore';
import type { Progress } from './jobProgress';
import { LatestPointers } from './latestPointer';
import { PointerLedger } from './pointerLedger';
import { adoptRestored } from './restoredAdoption';
import type { RestoreResult } from './snapshotRestorer';
import { releaseModelBlocks, sendCar, SnapshotBlockSource } from './snapshotSending';
import { GatewayFetcher } from './targets/gatewayFetcher';
import { capabilitiesOf, createTarget, openTarget, placeOf, type AddTargetInput, type TargetEnv } from './targets/targetRegistry';
import type { W3upTargetOptions } from './targets/w3upTarget';
import { takeSnapshot, type SnapshotDeps } from './snapshotTaking';
import { SnapshotTee } from './snapshotTee';
import type { BlockFetcher, PublishTarget, SnapshotOptions, StreamedCar, TargetUpload } from './types';
import { PUBLISH_JOB, registerVaultJobs, RESTORE_JOB, SNAPSHOT_JOB, type RestoreJobParams, type RestoreSource, type SnapshotJobParams } from './vaultJobs';
import { guardedRestore, VaultLock } from './vaultLock';
import {
  checkVault,
  collectGarbage,
  type MaintenanceDeps,
  type VaultCheckReport,
  type VaultGcReport,
} from './vaultMaintenance';
import { VaultRepository, type TargetRow } from './vaultRepository';
import { nextSnapshotAt, toTarget } from './vaultViews';
import { walletFromPhrase, WalletIdentity } from './walletIdentity';
import type { SecretStore } from '../ports/secretStore';

export { PUBLISH_JOB, RESTORE_JOB, SNAPSHOT_JOB, type RestoreSource, type SnapshotJobParams } from './vaultJobs';

/** The vault's folder inside the data directory; snapshots never include it. */
export function vaultDir(dataDir: string): string {
  return join(dataDir, 'vault');
}

/** The wallet's encrypted keystore in a data directory. */
export function keystorePath(dataDir: string): string {
  return join(vaultDir(dataDir), 'keystore.json');
}

export interface VaultServiceDeps {
  dataDir: string;
  db: Db;
  jobs: JobManager;
  secrets: SecretStore;
  logger: Logger;
  appVersion: string;
  /** The chunk store when it is open, so a capture pauses its writes; null when it is not. */
  openStore: () => Promise<ChunkStore | null>;
  /** The library's documents, for snapshots that include source documents. */
  documents: () => { sourceId: string; sourceRoot: string; path: string }[];
  sqliteNativeBinding?: string;
  /** Test and self-hosting hooks for web3.storage (service URL, DIDs, gateway). */
  w3up?: Omit<W3upTargetOptions, 'stateDir'>;
  scryptN?: number;
  /** How often the scheduler looks whether a snapshot is due. */
  scheduleCheckMs?: number;
  /** How long a vault operation waits for another process's to finish (default 10 minutes). */
  lockWaitMs?: number;
}

/**
 * The vault: wallet identity, snapshots (jobs), publish targets, the schedule and restore.
 * Snapshots run one at a time; restores hold the wallet in memory only (never in job params,
 * which SQLite keeps), so a restore interrupted by a quit is started again by the user and
 * resumes from its staging folder.
 */
export class VaultService {
  private readonly identity: WalletIdentity;
  private readonly repo: VaultRepository;
  private readonly targetEnv: TargetEnv;
  private readonly blocks: LocalBlockStore;
  private readonly dir: string;
  private readonly opLock: VaultLock;
  private readonly restoreWallets = new Map<string, HDNodeWallet>();
  private readonly pointers: LatestPointers;
  private timer: NodeJS.Timeout | null = null;
  private disposed = false;
  /** The unlock with a remembered passphrase that start() begins (resolved when there is none). */
  private started: Promise<void> = Promise.resolve();

  constructor(private readonly deps: VaultServiceDeps) {
    this.dir = vaultDir(deps.dataDir);
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    this.repo = VaultRepository.open(join(this.dir, 'vault.db'), deps.sqliteNativeBinding, deps.logger);
    this.blocks = new LocalBlockStore(join(this.dir, 'blocks'));
    this.opLock = new VaultLock(deps.dataDir, deps.lockWaitMs);
    this.pointers = new LatestPointers(PointerLedger.inVault(this.dir));
    this.identity = new WalletIdentity(keystorePath(deps.dataDir), deps.secrets, deps.scryptN);
    this.targetEnv = { w3up: { stateDir: join(this.dir, 'w3up'), ...deps.w3up } };
    adoptRestored(deps.dataDir, this.repo, deps.logger);

    registerVaultJobs(deps.jobs, {
      snapshot: (params, progress) => this.snapshot(params, progress),
      snapshotAndPublish: (params, targetId, progress, publishing) => this.snapshotAndPublish(params, targetId, progress, publishing),
      publish: (cid, targetId, progress) => this.publish(cid, targetId, progress),
      restore: (input, progress) => this.restore(input, progress),
      targetName: (id) => this.targetName(id),
      takeRestoreWallet: (ref) => {
        const wallet = this.restoreWallets.get(ref) ?? null;
        this.restoreWallets.delete(ref);
        return wallet;
      },
    });
  }

  /** At start: unlock with a remembered passphrase, and run the schedule. */
  async start(): Promise<void> {
    this.started = this.identity.unlockRemembered().then(
      () => undefined,
      (error: unknown) => this.deps.logger.warn(`vault: ${(error as Error).message}`),
    );
    await this.started;
    if (this.disposed) return;
    const every = this.deps.scheduleCheckMs ?? 60_000;
    this.timer = setInterval(() => {
      this.runSchedule().catch((error: unknown) => this.deps.logger.warn(`vault: scheduled snapshot not started: ${(error as Error).message}`));
    }, every);
    this.timer.unref();
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.repo.close();
  }

  // --- identity ---

  async status(): Promise<VaultStatus> {
    const schedule = this.repo.schedule();
    const lastSnapshot = this.repo.latestSnapshot();
    return {
      state: await this.identity.state(),
      address: await this.identity.address(),
      remembered: await this.identity.remembered(),
      rememberKeptIn: await this.deps.secrets.keeper(),
      schedule,
      nextSnapshotAt: nextSnapshotAt(schedule, lastSnapshot),
      lastSnapshot,
    };
  }

  async create({ passphrase, remember }: CallInput<'vault.create'>): Promise<VaultCreated> {
    return this.identity.create(passphrase, remember ?? false);
  }

  async import({ phrase, passphrase, remember }: CallInput<'vault.import'>): Promise<VaultStatus> {
    await this.identity.import(phrase, passphrase, remember ?? false);
    return this.status();
  }

  /** `remember` true keeps the passphrase in the OS secret store, false forgets it, absent leaves it as it is. */
  async unlock({ passphrase, remember }: CallInput<'vault.unlock'>): Promise<VaultStatus> {
    await this.identity.unlock(passphrase, remember);
    return this.status();
  }

  /**
   * Unlocks with the remembered passphrase, if one is kept and the vault is locked (start()
   * does so in the background; a front end that shows the state right away waits here).
   */
  async unlockRemembered(): Promise<VaultStatus> {
    if (await this.identity.remembered()) await this.identity.unlockRemembered();
    return this.status();
  }

  /** Resolves when the wallet is unlocked; VAULT_NOT_SET_UP or VAULT_LOCKED (with its hint) otherwise. */
  async assertUnlocked(): Promise<void> {
    await this.identity.wallet();
  }

  /**
   * The wallet that signs answer receipts: unlocked, 'locked', or null when there is none. Waits
   * for the unlock with a remembered passphrase at start, so a reply made meanwhile is signed.
   */
  async signingWallet(): Promise<HDNodeWallet | 'locked' | null> {
    await this.started;
    const state = await this.identity.state();
    if (state === 'none') return null;
    return state === 'locked' ? 'locked' : this.identity.wallet();
  }

  /** The recovery phrase, for the right passphrase only (WRONG_PASSPHRASE otherwise). */
  async revealPhrase({ passphrase }: CallInput<'vault.revealPhrase'>): Promise<{ phrase: string }> {
    return { phrase: await this.identity.revealPhrase(passphrase) };
  }

  async lock(): Promise<VaultStatus> {
    await this.identity.lock();
    return this.status();
  }

  // --- snapshots ---

  snapshots(): VaultSnapshot[] {
    return this.repo.snapshots();
  }

  startSnapshot(options: { includeModels?: boolean; includeDocuments?: boolean; targetId?: string | null; full?: boolean }): JobInfo {
    const schedule = this.repo.schedule();
    if (options.targetId) this.repo.target(options.targetId);
    return this.deps.jobs.start<SnapshotJobParams>(SNAPSHOT_JOB, {
      includeModels: options.includeModels ?? schedule.includeModels,
      includeDocuments: options.includeDocuments ?? schedule.includeDocuments,
      targetId: options.targetId ?? null,
      ...(options.full ? { full: true } : {}),
    });
  }

  /** Captures, chunks, seals and records a snapshot (incremental unless `full` or a full verify is due); then keeps only the newest `keep`. */
  async snapshot(options: SnapshotOptions & { full?: boolean }, progress: Progress = {}): Promise<VaultSnapshot> {
    const wallet = await this.identity.wallet();
    return this.exclusive('vault snapshot', progress, () => takeSnapshot(this.snapshotDeps(), wallet, options, progress, null));
  }

  /**
   * A snapshot, then its publish to the target, under one hold of the vault lock. A target that
   * takes a CAR as it is written (a folder) gets each block as it is sealed (SnapshotTee); with
   * keepModelBlocks off the model chunks then go there only. Other targets: snapshot, then publish.
   */
  async snapshotAndPublish(options: SnapshotOptions & { full?: boolean }, targetId: string, progress: Progress = {}, publishing: Progress = {}): Promise<VaultSnapshot> {
    const wallet = await this.identity.wallet();
    return this.exclusive('vault snapshot', progress, async () => {
      const target = await openTarget(this.repo.target(targetId).config, this.targetEnv);
      let tee: SnapshotTee | null = null;
      // A folder that cannot take the CAR now (unplugged): the snapshot is taken here all the same, and the publish after it says why it failed.
      const car = capabilitiesOf(target.kind).streamsCar ? await target.openCarStream({ signal: progress.signal }).catch(() => null) : null;
      if (car) {
        const source = new SnapshotBlockSource(this.repo, this.blocks, (holder) => this.holderFetcher(holder));
        tee = new SnapshotTee(targetId, car, !this.repo.schedule().keepModelBlocks, { repo: this.repo, source });
      }
      let snapshot: VaultSnapshot;
      try {
        snapshot = await takeSnapshot(this.snapshotDeps(), wallet, options, progress, tee);
      } catch (error) {
        await tee?.abort();
        throw error;
      }
      return this.publishLocked(snapshot.cid, targetId, publishing, tee?.result ?? null);
    });
  }

  // --- publishing ---

  startPublish({ cid, targetId }: CallInput<'vault.publish'>): JobInfo {
    this.repo.snapshot(cid);
    this.repo.target(targetId);
    return this.deps.jobs.start(PUBLISH_JOB, { cid, targetId });
  }

  /** Sends the blocks the target lacks as one CAR rooted at the snapshot, then updates its pointer (and lets model blocks go: keepModelBlocks). */
  publish(cid: string, targetId: string, progress: Progress = {}): Promise<VaultSnapshot> {
    return this.exclusive('vault publish', progress, () => this.publishLocked(cid, targetId, progress));
  }

  /** `sent`: the CAR a tee already wrote into the target while the snapshot was sealed. */
  private async publishLocked(cid: string, targetId: string, progress: Progress, sent: StreamedCar | null = null): Promise<VaultSnapshot> {
    const row = this.repo.target(targetId);
    const target = await openTarget(row.config, this.targetEnv);
    const result = sent ?? (await this.sendMissing(cid, row, target, progress));
    if (capabilitiesOf(target.kind).latestPointer) {
      await this.pointers.publish(target, await this.identity.wallet(), placeOf(row.config), cid, progress.signal);
    }
    this.repo.addPublication({ snapshotCid: cid, targetId, location: result.location, carBytes: result.carBytes, publishedAt: Date.now() });
    if (!this.repo.schedule().keepModelBlocks) {
      const freed = await releaseModelBlocks(this.repo, this.blocks, cid, targetId);
      if (freed > 0) this.deps.logger.info(`vault: ${freed} bytes of model blocks deleted here; ${row.name} holds them`);
    }
    return this.repo.snapshot(cid);
  }

  private async sendMissing(cid: string, row: TargetRow, target: PublishTarget, progress: Progress): Promise<StreamedCar> {
    const missing = this.repo.blocksMissingFrom(cid, row.id);
    // The root first: a reader of a partial CAR learns what it is before the rest.
    missing.sort((a, b) => (a.cid === cid ? -1 : b.cid === cid ? 1 : 0));
    const source = new SnapshotBlockSource(this.repo, this.blocks, (holder) => this.holderFetcher(holder));
    await source.requireAll(missing.map((b) => b.cid), `Snapshot ${cid}`);
    progress.onProgress?.(null, `Sending ${missing.length} blocks to ${row.name}`);
    return sendCar(target, CID.parse(cid), missing, source, {
      outbox: join(this.dir, 'outbox'),
      signal: progress.signal,
      onProgress: (done, total) => progress.onProgress?.(total > 0 ? done / total : null, `Sending to ${row.name}`, { done, total }),
    });
  }

  private async holderFetcher(holder: string): Promise<BlockFetcher> {
    return (await openTarget(this.repo.target(holder).config, this.targetEnv)).fetcher();
  }

  // --- targets ---

  targets(): VaultTarget[] {
    return this.repo.targets().map(toTarget);
  }

  /** Saves a target; adding web3.storage signs in by email first (abort through the signal). */
  async addTarget(input: AddTargetInput, options: { signal?: AbortSignal } = {}): Promise<VaultTarget> {
    const { config, name } = await createTarget(input, this.targetEnv, options);
    const row: TargetRow = { id: newId('target'), name, config, createdAt: Date.now() };
    this.repo.addTarget(row);
    return toTarget(row);
  }

  /**
   * What a target holds, including what other machines published there: the space's uploads
   * (web3.storage) or the CAR files in the folder, by root CID, newest first where known.
   * UNSUPPORTED for a kind that cannot list (an IPFS node).
   */
  async uploads(targetId: string, options: { signal?: AbortSignal } = {}): Promise<TargetUpload[]> {
    const target = await openTarget(this.repo.target(targetId).config, this.targetEnv);
    return target.listUploads(options);
  }

  /** Removes a target (a damaged one too); the schedule stops publishing to it. */
  removeTarget({ targetId }: CallInput<'vault.removeTarget'>): null {
    this.repo.removeTarget(targetId);
    const schedule = this.repo.schedule();
    if (schedule.targetId === targetId) this.repo.setSchedule({ ...schedule, targetId: null });
    return null;
  }

  // --- schedule ---

  setSchedule(patch: Partial<VaultSchedule>): VaultSchedule {
    const next = { ...this.repo.schedule(), ...patch };
    if (next.targetId) this.repo.target(next.targetId);
    this.repo.setSchedule(next);
    return next;
  }

  /** Starts a snapshot when one is due, the vault is unlocked and none is running. */
  async runSchedule(now = Date.now()): Promise<JobInfo | null> {
    const schedule = this.repo.schedule();
    const due = nextSnapshotAt(schedule, this.repo.latestSnapshot());
    if (due === null || due > now || (await this.identity.state()) !== 'unlocked') return null;
    if (this.deps.jobs.list().some((j) => j.kind === SNAPSHOT_JOB && (j.status === 'running' || j.status === 'queued'))) return null;
    return this.startSnapshot({ ...schedule, targetId: schedule.targetId });
  }

  // --- restore ---

  startRestore(input: CallInput<'vault.restore'>): JobInfo {
    const wallet = walletFromPhrase(input.phrase);
    const dataDir = resolve(input.dataDir);
    if (dataDir === resolve(this.deps.dataDir)) {
      throw new HearthError('BAD_INPUT', 'Restore into another folder: this one holds the data Hearth is using now.');
    }
    assertDataDirFree(dataDir, `Restoring into ${dataDir} is refused`);
    if (input.from.kind === 'target') this.repo.target(input.from.targetId);
    // The wallet stays in memory; the job's params (kept in SQLite) name it by a random reference.
    const walletRef = newId('wallet');
    this.restoreWallets.set(walletRef, wallet);
    return this.deps.jobs.start<RestoreJobParams>(RESTORE_JOB, { cid: input.cid ?? null, from: input.from, dataDir, walletRef });
  }

  async restore(input: { wallet: HDNodeWallet; cid: string | null; from: RestoreSource; dataDir: string }, progress: Progress = {}): Promise<RestoreResult> {
    let fetcher: BlockFetcher;
    let target: PublishTarget | null = null;
    let heldBy: { kind: 'folder'; path: string } | undefined;
    if (input.from.kind === 'gateway') {
      fetcher = new GatewayFetcher(input.from.url);
    } else {
      const config = this.repo.target(input.from.targetId).config;
      target = await openTarget(config, this.targetEnv);
      fetcher = target.fetcher();
      // A folder keeps the model blocks for the restored vault (README: what is kept where).
      if (config.kind === 'folder') heldBy = config;
    }
    // Checked against what this machine saw there last, and against the newest snapshot the target holds.
    const place = input.from.kind === 'target' ? placeOf(this.repo.target(input.from.targetId).config) : null;
    const root = input.cid ?? (await this.pointers.resolve(target, input.wallet, place, fetcher, progress.signal)).root;
    return guardedRestore(
      {
        wallet: input.wallet,
        root,
        fetcher,
        dataDir: input.dataDir,
        keepBlocks: true,
        heldBy,
        signal: progress.signal,
        onProgress: (done, total, file) => progress.onProgress?.(total > 0 ? done / total : null, `Restoring ${file}`, { done, total }),
      },
      (message) => progress.onProgress?.(null, message),
    );
  }

  // --- check and gc ---

  /** Verifies every recorded snapshot's blocks and reports what gc would reclaim (under the vault lock). */
  check(options: { signal?: AbortSignal } = {}): Promise<VaultCheckReport> {
    return this.exclusive('vault check', options, () => checkVault(this.maintenance()));
  }

  /** Deletes blocks no recorded snapshot needs, unfinished writes and leftovers of killed snapshots (under the vault lock). */
  gc(options: { signal?: AbortSignal } = {}): Promise<VaultGcReport> {
    return this.exclusive('vault gc', options, () => collectGarbage(this.maintenance()));
  }

  // --- internals ---

  private targetName(id: string): string {
    return this.repo.targets().find((t) => t.id === id)?.name ?? id;
  }

  private maintenance(): MaintenanceDeps {
    return { vaultDir: this.dir, repo: this.repo, blocks: this.blocks };
  }

  private snapshotDeps(): SnapshotDeps {
    const { dataDir, logger, appVersion, openStore, documents, sqliteNativeBinding } = this.deps;
    return { dir: this.dir, repo: this.repo, blocks: this.blocks, dataDir, logger, appVersion, openStore, documents, sqliteNativeBinding, maintenance: () => this.maintenance() };
  }

  /** One vault operation at a time, in this process and across processes (the vault lock). */
  private exclusive<T>(purpose: string, progress: Progress, fn: () => Promise<T>): Promise<T> {
    return this.opLock.run({ purpose, signal: progress.signal, onWait: (message) => progress.onProgress?.(null, message) }, fn);
  }
}
