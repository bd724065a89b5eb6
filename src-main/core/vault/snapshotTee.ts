import { CID } from 'multiformats/cid';
import type { SnapshotBlockSource } from './snapshotSending';
import type { Block, CarStream, StreamedCar } from './types';
import type { VaultRepository } from './vaultRepository';

/** Larger than any chunk block (a 1 MiB chunk, padded and sealed); a larger block gets a buffer of its own. */
const SCRATCH_BYTES = 2 * 1024 * 1024;

/**
 * A snapshot published in the same command (`vault snapshot --publish` to a folder, or a
 * scheduled snapshot with a target): every block is written into the target's CAR as it is
 * sealed, instead of being read back from this machine's block store after the snapshot. With
 * `modelsOnTargetOnly` (keepModelBlocks off) the new chunk blocks of model files go into the
 * CAR only, never into vault/blocks, and are recorded as held by the target with the snapshot.
 *
 * The order stays that of a separate publish: the CAR is finished, flushed and renamed into
 * place before the snapshot is recorded (finish, called after the capture's own check), and the
 * pointer is written after that. A failed snapshot deletes the partial CAR (abort); a killed one
 * leaves a temp file in the target that its next publish deletes, and blocks here that gc
 * reclaims, as before.
 */
export class SnapshotTee {
  /** Blocks written to the target only, so far. */
  private readonly targetOnly = new Set<string>();
  private sent: StreamedCar | null = null;
  /** Errors the target's CAR raised (a full target drive is the target's, not this machine's). */
  private readonly failures = new Set<unknown>();
  /** Set when the target failed before any block went to it alone: the snapshot goes on here only. */
  private detachedBy: unknown = null;

  constructor(
    readonly targetId: string,
    private readonly car: CarStream,
    private readonly modelsOnTargetOnly: boolean,
    private readonly deps: { repo: VaultRepository; source: SnapshotBlockSource },
  ) {}

  /** The CAR as it was renamed into place, once finished. */
  get result(): StreamedCar | null {
    return this.sent;
  }

  /** Whether the new chunks of the file at this path are stored here as well as sent. */
  keepsHere(path: string): boolean {
    return !(this.modelsOnTargetOnly && path.startsWith('models/'));
  }

  /**
   * Whether the target failed while every block sent so far is stored here too: the snapshot then
   * goes on without it (every later block is stored here) and is recorded; the publish after it
   * sends the blocks as a separate publish does, or fails saying why, as before.
   */
  get detached(): boolean {
    return this.detachedBy !== null;
  }

  /** Sends a block (its bytes copied before this returns); `here` false: the target will be its only holder. */
  send(block: Block, here: boolean): Promise<void> {
    if (this.detached) return Promise.resolve();
    if (!here) this.targetOnly.add(block.cid.toString());
    return this.car.append(block).catch((error: unknown) => this.detachOrFail(error));
  }

  /** A target failure: the snapshot goes on here alone while no block is the target's only; otherwise it fails. */
  private async detachOrFail(error: unknown): Promise<void> {
    if (this.detached) return;
    if (this.targetOnly.size > 0) this.failed(error);
    this.detachedBy = error;
    await this.car.abort();
  }

  /** Whether the error came from writing into the target. */
  raised(error: unknown): boolean {
    return this.failures.has(error);
  }

  private failed(error: unknown): never {
    this.failures.add(error);
    throw error;
  }

  /**
   * Blocks sent to the target only that a file outside models/ uses too (a chunk two files
   * share): read back from the CAR, so the caller stores them here; they are no longer target-only.
   */
  async sharedTargetOnly(bulk: ReadonlySet<string>): Promise<Block[]> {
    const shared: Block[] = [];
    for (const cid of this.targetOnly) {
      if (bulk.has(cid)) continue;
      shared.push({ cid: CID.parse(cid), bytes: await this.car.read(cid).catch((error: unknown) => this.failed(error)) });
      this.targetOnly.delete(cid);
    }
    return shared;
  }

  /**
   * Adds the snapshot's blocks the target lacks that this run did not seal (chunks sealed by an
   * earlier snapshot, read here or from the target that holds them), then names the root,
   * flushes the CAR and renames it into place. Returns the blocks the target alone holds.
   */
  async finish(root: CID, blocks: ReadonlyMap<string, number>): Promise<string[]> {
    if (this.detached) return [];
    const held = this.deps.repo.blocksPublishedTo(this.targetId);
    const scratch = new Uint8Array(SCRATCH_BYTES);
    for (const cid of blocks.keys()) {
      if (this.car.has(cid) || held.has(cid)) continue;
      const parsed = CID.parse(cid);
      const bytes = await this.deps.source.read(parsed, scratch);
      await this.car.append({ cid: parsed, bytes }).catch((error: unknown) => this.detachOrFail(error));
      if (this.detached) return [];
    }
    try {
      this.sent = await this.car.finish(root);
    } catch (error) {
      await this.detachOrFail(error);
      return [];
    }
    return [...this.targetOnly];
  }

  /** Deletes the partial CAR (a finished one stays: the snapshot that names it may be recorded). */
  abort(): Promise<void> {
    return this.car.abort();
  }
}
