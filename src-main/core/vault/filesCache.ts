import { stat } from 'node:fs/promises';
import { z } from 'zod';
import type { CapturedFile } from './dataCapture';
import type { ManifestChunk } from './types';

/**
 * The files cache (restic's parent snapshot, borg's files cache): what this machine's previous
 * snapshot of this vault read from each file, keyed by the file's identity on disk. A file
 * whose identity is unchanged is not read or hashed again; its chunk references are reused.
 *
 * Identity: size, mtime (ns), inode and device, and for files read in place also ctime (ns),
 * which every write, rename over, chmod or `touch -m` back to an old time changes. A hard link
 * the capture made (the index) leaves ctime out: making and removing our own link changes it
 * every time, and LanceDB never rewrites a data file in place. The database copy is new every
 * time, so it is always read (its unchanged chunks are still deduplicated, not sealed again).
 *
 * A full verify reads every file anyway: on request (`hearth vault snapshot --full`), and on its
 * own once FULL_VERIFY.days have passed or FULL_VERIFY.snapshots snapshots were taken since the
 * last one, so a change that kept every stat field the same is caught within a week.
 */
export const FULL_VERIFY = { days: 7, snapshots: 50 } as const;

/** vault.db state key: when the last full verify ran and how many snapshots since. */
export const FULL_VERIFY_STATE = 'fullVerify';

/** A chunk reference as the cache keeps it: the manifest's fields and the sealed block's size. */
export interface CachedChunk extends ManifestChunk {
  sealedSize: number;
}

export interface CachedFile {
  path: string;
  identity: string;
  size: number;
  /** The file's digest: its chunks' keyed SHA-256 ids and sizes, in order (as manifest /3 records it). */
  chunks: CachedChunk[];
}

/** Whether two chunk lists describe the same bytes: the same keyed ids and sizes in the same order. */
export function sameChunks(a: readonly ManifestChunk[], b: readonly ManifestChunk[]): boolean {
  return a.length === b.length && a.every((chunk, i) => chunk.id === b[i]!.id && chunk.size === b[i]!.size);
}

/** The identity kept for a capture copy (the database): it never matches, so the copy is always read. */
export const COPY_IDENTITY = 'copy';

/** When the last full verify ran and how many snapshots used the cache since. */
export const fullVerifyState = z.object({ at: z.number(), since: z.number().int().nonnegative() });
export type FullVerifyState = z.infer<typeof fullVerifyState>;

/**
 * A files cache entry's chunk list, checked field by field: cid (non-empty), size (a positive
 * whole number), id (64 lowercase hex digits), offset (absent, or a whole number >= 0) and
 * sealedSize (a positive whole number); null when it is not JSON or anything is off (the file is
 * then read again, which is always right). Written out rather than as a zod schema: a model's
 * list is thousands of entries, read at every snapshot (~20 ms through zod, ~3 ms here).
 */
export function parseCachedChunks(text: string): CachedChunk[] | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!Array.isArray(value)) return null;
  const out: CachedChunk[] = [];
  for (const item of value as unknown[]) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return null;
    const { cid, size, id, offset, sealedSize } = item as Record<string, unknown>;
    if (typeof cid !== 'string' || cid.length === 0 || !positiveWhole(size) || !positiveWhole(sealedSize)) return null;
    if (typeof id !== 'string' || !CHUNK_ID.test(id)) return null;
    if (offset === undefined) out.push({ cid, size, id, sealedSize });
    else if (Number.isSafeInteger(offset) && (offset as number) >= 0) out.push({ cid, size, id, offset: offset as number, sealedSize });
    else return null;
  }
  return out;
}

const CHUNK_ID = /^[0-9a-f]{64}$/;
const positiveWhole = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) > 0;

/** Whether this snapshot must read every file: asked for, never done, or due by age or count. */
export function fullVerifyDue(last: FullVerifyState | null, now: number, requested: boolean): boolean {
  if (requested || last === null) return true;
  return now - last.at >= FULL_VERIFY.days * 86_400_000 || last.since + 1 >= FULL_VERIFY.snapshots;
}

/** The state after a snapshot: a full verify starts the count again; another adds one. */
export function fullVerifyAfter(last: FullVerifyState | null, full: boolean, at: number): FullVerifyState {
  return full || last === null ? { at, since: 0 } : { at: last.at, since: last.since + 1 };
}

/** The file's identity now (stat before reading), or null for a capture copy, which has none worth keeping. */
export async function fileIdentity(file: CapturedFile): Promise<string | null> {
  if (file.origin === 'copy') return null;
  const info = await stat(file.source, { bigint: true });
  const ctime = file.origin === 'live' ? info.ctimeNs.toString() : '-';
  return `${info.size}:${info.mtimeNs}:${ctime}:${info.ino}:${info.dev}:${Number(info.mode & 0o7777n)}`;
}

/** The size an identity records (its first field). */
export function identitySize(identity: string): number {
  return Number(identity.slice(0, identity.indexOf(':')));
}
