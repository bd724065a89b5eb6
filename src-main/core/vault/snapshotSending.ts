import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { HearthError } from '../common/hearthError';
import { writeCar } from './carFile';
import type { LocalBlockStore } from './localBlockStore';
import { verifyBlock } from './snapshotFormat';
import { capabilitiesOf } from './targets/targetRegistry';
import type { Block, BlockFetcher, PublishTarget, StreamedCar } from './types';
import type { VaultRepository } from './vaultRepository';

/**
 * Where a publish reads a snapshot's blocks: the local block store, or, for a block this
 * machine let go because a target holds it (keepModelBlocks off), that target, checked
 * against its CID as a restore would.
 */
export class SnapshotBlockSource {
  private readonly holders = new Map<string, Promise<BlockFetcher>>();

  constructor(
    private readonly repo: VaultRepository,
    private readonly local: LocalBlockStore,
    private readonly openHolder: (targetId: string) => Promise<BlockFetcher>,
  ) {}

  /** INTEGRITY_ERROR when a block is neither stored here nor held by a target, before anything is sent. */
  async requireAll(cids: readonly string[], what: string): Promise<void> {
    await this.local.requireAll(
      cids.filter((cid) => this.repo.remoteHolder(cid) === null),
      what,
    );
  }

  async get(cid: CID): Promise<Uint8Array> {
    const holder = this.repo.remoteHolder(cid.toString());
    if (holder === null) return this.local.get(cid);
    return this.fromHolder(holder, cid);
  }

  /**
   * Like get(), but a block stored here is read into `scratch` (a view of it when it fits):
   * valid only until the next read into the same scratch.
   */
  async read(cid: CID, scratch: Uint8Array): Promise<Uint8Array> {
    const holder = this.repo.remoteHolder(cid.toString());
    if (holder === null) return this.local.read(cid, scratch);
    return this.fromHolder(holder, cid);
  }

  private async fromHolder(holder: string, cid: CID): Promise<Uint8Array> {
    let fetcher = this.holders.get(holder);
    if (!fetcher) {
      fetcher = this.openHolder(holder);
      this.holders.set(holder, fetcher);
    }
    const bytes = await (await fetcher).get(cid);
    await verifyBlock(cid, bytes);
    return bytes;
  }
}

/** Larger than any chunk block (a 1 MiB chunk, padded and sealed); a larger block gets a buffer of its own. */
const SCRATCH_BYTES = 2 * 1024 * 1024;

export interface SendOptions {
  /** Where a target that takes a CAR file (not a stream) gets it written first. */
  outbox: string;
  signal?: AbortSignal;
  onProgress?: (sent: number, total: number) => void;
}

/**
 * Sends the blocks as one CAR rooted at the snapshot: streamed straight into a target that
 * can take it (a folder: no copy of the CAR anywhere else), otherwise written to the outbox,
 * handed over as a file and deleted.
 */
export async function sendCar(
  target: PublishTarget,
  root: CID,
  blocks: readonly { cid: string; size: number }[],
  source: SnapshotBlockSource,
  options: SendOptions,
): Promise<StreamedCar> {
  const { signal, onProgress } = options;
  // Every block stored here is read into one buffer: writeCar (the only consumer, for a folder
  // and for the outbox) is done with a block's bytes before it asks for the next.
  const scratch = new Uint8Array(SCRATCH_BYTES);
  async function* read(): AsyncGenerator<Block> {
    for (const { cid } of blocks) {
      const parsed = CID.parse(cid);
      yield { cid: parsed, bytes: await source.read(parsed, scratch) };
    }
  }
  if (capabilitiesOf(target.kind).streamsCar) {
    const totalBytes = blocks.reduce((sum, b) => sum + b.size, 0);
    return target.publishStream(root, read(), { signal, onProgress, totalBytes });
  }
  await mkdir(options.outbox, { recursive: true });
  const car = await writeCar(join(options.outbox, `${root.toString()}.car`), root, read(), { signal });
  try {
    const result = await target.publish(car, { signal, onProgress });
    return { ...result, carBytes: car.size };
  } finally {
    await rm(car.path, { force: true });
  }
}

/**
 * After a publish, with keepModelBlocks off: the snapshot's model-only blocks, which the target
 * now holds, are deleted here and recorded as held there. Returns how many bytes were freed.
 */
export async function releaseModelBlocks(repo: VaultRepository, local: LocalBlockStore, snapshotCid: string, targetId: string): Promise<number> {
  const cids = repo.bulkBlocksStoredHere(snapshotCid);
  if (cids.length === 0) return 0;
  let freed = 0;
  for (const cid of cids) freed += (await local.size(cid)) ?? 0;
  // Recorded first: a crash between the two leaves blocks stored here that the vault thinks are remote, never the reverse.
  repo.markRemote(cids, targetId);
  try {
    await local.delete(cids);
  } catch (error) {
    throw new HearthError('INTERNAL', `The model blocks of ${snapshotCid} are published but could not be deleted here: ${(error as Error).message}`, { cause: error });
  }
  return freed;
}
