import type { HDNodeWallet } from 'ethers';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CID } from 'multiformats/cid';
import { z } from 'zod';
import { writeFileAtomic } from '../common/atomicFile';
import { newId } from '../common/ids';
import type { Logger } from '../common/logger';
import type { LocalBlockStore } from './localBlockStore';
import type { SnapshotManifest, SnapshotRoot } from './types';
import { dataKeyState, type VaultRepository } from './vaultRepository';

/**
 * A data directory restored with its blocks kept (restoreSnapshot keepBlocks) carries a record,
 * vault/restored.json, of the snapshot it came from. The vault of that directory adopts it at
 * start: the snapshot becomes its latest, its chunks are known and its data key is reused, so the
 * next snapshot seals and publishes only what changed since.
 */
export const RESTORED_RECORD = join('vault', 'restored.json');

const cid = z.string().refine(isCid, 'not a CID');
const size = z.number().int().nonnegative();

const restoredRecordSchema = z.object({
  root: cid,
  createdAt: z.string().refine((text) => !Number.isNaN(Date.parse(text)), 'not a date'),
  previous: cid.nullable(),
  address: z.string().min(1),
  /** The root's wrapped data key (hex): the same key keeps sealing the vault's new chunks. */
  wrappedKey: z.string().regex(/^[0-9a-f]+$/i),
  options: z.object({ includeModels: z.boolean(), includeDocuments: z.boolean() }),
  files: size,
  bytes: size,
  /** Every block of the snapshot and its sealed size. */
  blocks: z.record(cid, size),
  /** Keyed chunk id -> block (and its offset in a pack block). */
  chunks: z.array(z.object({ id: z.string().min(1), cid, offset: size.optional() })),
  /**
   * The folder the snapshot was restored from, and the model-only blocks the restore left there
   * instead of keeping a copy (as keepModelBlocks off does after a publish): the vault records
   * them as held by that folder, a target it adds if it has none for that path.
   */
  heldBy: z.object({ config: z.object({ kind: z.literal('folder'), path: z.string().min(1) }), blocks: z.array(cid) }).optional(),
});

export type RestoredRecord = z.infer<typeof restoredRecordSchema>;

/** The record the vault adopts; skipped (with the blocks left unused) if a block is missing. */
export async function writeRestoredRecord(
  store: LocalBlockStore,
  filesDir: string,
  input: {
    root: string;
    rootBlock: SnapshotRoot;
    manifest: SnapshotManifest;
    wallet: HDNodeWallet;
    heldBy: { config: { kind: 'folder'; path: string }; sizes: Map<string, number> } | null;
  },
): Promise<void> {
  const { manifest, rootBlock, heldBy } = input;
  const cids = [input.root, ...rootBlock.manifest.map(String), ...rootBlock.lists.map(String), ...manifest.files.flatMap((f) => f.chunks.map((c) => c.cid))];
  const blocks: Record<string, number> = {};
  for (const cid of cids) {
    const size = heldBy?.sizes.get(cid) ?? (await store.size(cid));
    if (size === null) return;
    blocks[cid] = size;
  }
  const record: RestoredRecord = {
    root: input.root,
    createdAt: manifest.createdAt,
    previous: manifest.previous,
    address: input.wallet.address,
    wrappedKey: Buffer.from(rootBlock.wrappedKey).toString('hex'),
    options: manifest.options,
    files: manifest.files.length,
    bytes: manifest.files.reduce((sum, f) => sum + f.size, 0),
    blocks,
    chunks: manifest.files.flatMap((f) => f.chunks.map((c) => (c.offset === undefined ? { id: c.id, cid: c.cid } : { id: c.id, cid: c.cid, offset: c.offset }))),
    ...(heldBy ? { heldBy: { config: heldBy.config, blocks: [...heldBy.sizes.keys()] } } : {}),
  };
  await writeFileAtomic(join(filesDir, RESTORED_RECORD), JSON.stringify(record));
}

/**
 * Adopts `<dataDir>/vault/restored.json` if there is one, then deletes it. A record that cannot
 * be read or does not match its schema is not adopted: a warning says so and the vault carries on
 * as a new one (its next snapshot is a full one); the record stays, for whoever looks into it.
 */
export function adoptRestored(dataDir: string, repo: VaultRepository, logger: Logger): void {
  const file = join(dataDir, RESTORED_RECORD);
  if (!existsSync(file)) return;
  try {
    const parsed = restoredRecordSchema.safeParse(JSON.parse(readFileSync(file, 'utf8')));
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new Error(`${issue?.path.join('.') || 'record'}: ${issue?.message ?? 'invalid'}`);
    }
    const record = parsed.data;
    if (!repo.snapshots().some((s) => s.cid === record.root)) {
      // One transaction: a vault never holds the snapshot without knowing where its blocks are.
      repo.atomically(() => {
        repo.addSnapshot({
          cid: record.root,
          createdAt: Date.parse(record.createdAt),
          previous: record.previous,
          files: record.files,
          bytes: record.bytes,
          includeModels: record.options.includeModels,
          includeDocuments: record.options.includeDocuments,
          blocks: new Map(Object.entries(record.blocks)),
          bulkBlocks: new Set(record.heldBy?.blocks ?? []),
          newChunks: record.chunks.map((c) => ({ id: c.id, blockCid: c.cid, sealedSize: record.blocks[c.cid] ?? 0, ...(c.offset === undefined ? {} : { offset: c.offset }) })),
        });
        if (repo.getState('dataKey', dataKeyState) === null) repo.setState('dataKey', { address: record.address, wrapped: record.wrappedKey });
        if (record.heldBy) adoptHolder(repo, record, record.heldBy);
      });
      logger.info(`vault: carrying on from restored snapshot ${record.root}`);
    }
    rmSync(file);
  } catch (error) {
    logger.warn(`vault: ${file} could not be adopted (${(error as Error).message}); the next snapshot will be a full one.`);
  }
}

/**
 * The folder the snapshot came from becomes (or is found as) a target that holds the snapshot:
 * a publish there sends only what changed since, and the blocks left there are read from there.
 */
function adoptHolder(repo: VaultRepository, record: RestoredRecord, heldBy: NonNullable<RestoredRecord['heldBy']>): void {
  const path = resolve(heldBy.config.path);
  let target = repo.targets().find((t) => t.config?.kind === 'folder' && resolve(t.config.path) === path);
  if (!target) {
    target = { id: newId('target'), name: `Folder ${path}`, config: { kind: 'folder', path }, createdAt: Date.now() };
    repo.addTarget(target);
  }
  const carBytes = Object.values(record.blocks).reduce((sum, n) => sum + n, 0);
  repo.addPublication({ snapshotCid: record.root, targetId: target.id, location: path, carBytes, publishedAt: Date.parse(record.createdAt) });
  repo.markRemote(heldBy.blocks, target.id);
  // The model blocks live on the folder: later ones too, once published (keepModelBlocks off).
  repo.setSchedule({ ...repo.schedule(), keepModelBlocks: false });
}

function isCid(text: string): boolean {
  try {
    CID.parse(text);
    return true;
  } catch {
    return false;
  }
}
