import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CID } from 'multiformats/cid';
import { z } from 'zod';
import type { Logger } from '../common/logger';
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
});

export type RestoredRecord = z.infer<typeof restoredRecordSchema>;

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
      repo.addSnapshot({
        cid: record.root,
        createdAt: Date.parse(record.createdAt),
        previous: record.previous,
        files: record.files,
        bytes: record.bytes,
        includeModels: record.options.includeModels,
        includeDocuments: record.options.includeDocuments,
        blocks: new Map(Object.entries(record.blocks)),
        newChunks: record.chunks.map((c) => ({ id: c.id, blockCid: c.cid, sealedSize: record.blocks[c.cid] ?? 0, ...(c.offset === undefined ? {} : { offset: c.offset }) })),
      });
      if (repo.getState('dataKey', dataKeyState) === null) repo.setState('dataKey', { address: record.address, wrapped: record.wrappedKey });
      logger.info(`vault: carrying on from restored snapshot ${record.root}`);
    }
    rmSync(file);
  } catch (error) {
    logger.warn(`vault: ${file} could not be adopted (${(error as Error).message}); the next snapshot will be a full one.`);
  }
}

function isCid(text: string): boolean {
  try {
    CID.parse(text);
    return true;
  } catch {
    return false;
  }
}
