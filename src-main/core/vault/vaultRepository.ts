import type BetterSqlite3 from 'better-sqlite3';
import { z } from 'zod';
import type { VaultPublication, VaultSchedule, VaultSnapshot, VaultTargetKind } from '#contract/dto';
import { HearthError } from '../common/hearthError';
import { createConsoleLogger, type Logger } from '../common/logger';
import { openDatabase, type Db } from '../storage/database';
import { decodeJson, StoredJsonReader, type Decoded } from '../storage/storedJson';
import { parseCachedChunks, type CachedFile } from './filesCache';
import { VAULT_MIGRATIONS } from './vaultSchema';
import { targetConfigSchema, type TargetConfig } from './targets/targetConfig';
import { isTargetKind } from './targets/targetRegistry';


export const DEFAULT_SCHEDULE: VaultSchedule = {
  intervalHours: null,
  targetId: null,
  keep: 10,
  includeModels: false,
  includeDocuments: false,
  // Off: models are large and can be downloaded again, so once a target holds their sealed blocks
  // this machine keeps no second encrypted copy (README: "What is kept where, and why").
  keepModelBlocks: false,
};

export interface TargetRow {
  id: string;
  name: string;
  config: TargetConfig;
  createdAt: number;
}

/**
 * A target whose saved config no longer reads back (edited by hand, written by a damaged disk):
 * listed, so it can be seen and removed, but never opened.
 */
export interface DamagedTargetRow {
  id: string;
  name: string;
  kind: VaultTargetKind;
  config: null;
  /** What is wrong with the saved config. */
  problem: string;
  createdAt: number;
}

/** The vault's data key as kept in vault.db: wrapped under the key of the wallet with this address. */
export const dataKeyState = z.object({ address: z.string(), wrapped: z.string().regex(/^[0-9a-f]+$/i) });

/** The schedule as stored: any field left out takes its default. */
const storedScheduleSchema = z
  .object({
    intervalHours: z.number().positive().nullable(),
    targetId: z.string().nullable(),
    keep: z.number().int().min(1),
    includeModels: z.boolean(),
    includeDocuments: z.boolean(),
    keepModelBlocks: z.boolean(),
  })
  .partial() satisfies z.ZodType<Partial<VaultSchedule>>;

export interface NewSnapshot {
  cid: string;
  createdAt: number;
  previous: string | null;
  files: number;
  bytes: number;
  includeModels: boolean;
  includeDocuments: boolean;
  /** Every block the snapshot references, with its size. */
  blocks: Map<string, number>;
  /** Blocks only model files reference (they may live on a target instead of here). */
  bulkBlocks?: ReadonlySet<string>;
  /** Blocks a target alone holds (sent there as they were sealed, never stored here), recorded with the snapshot. */
  remote?: { targetId: string; cids: readonly string[] };
  /** Chunks sealed for this snapshot: keyed plaintext hash -> block (and where in a pack). */
  newChunks: KnownChunk[];
  /** Plaintext bytes read from disk; absent for a record adopted from a restore. */
  readBytes?: number;
  /** The files cache this snapshot leaves for the next one (replacing the old), for this wallet. */
  fileCache?: { address: string; files: CachedFile[]; keepPrefixes: string[] };
}

/** Where a chunk's plaintext lies: a whole sealed block, or a slice of a pack block from `offset`. */
export interface KnownChunk {
  id: string;
  blockCid: string;
  sealedSize: number;
  offset?: number;
}

interface SnapshotRow {
  cid: string;
  created_at: number;
  previous: string | null;
  files: number;
  bytes: number;
  stored_bytes: number;
  new_bytes: number;
  include_models: number;
  include_documents: number;
  read_bytes: number;
}

export class VaultRepository {
  private readonly stored: StoredJsonReader;
  /** The lookups a snapshot makes for every chunk, prepared once (a prepare costs more than the lookup). */
  private readonly chunkByIdStatement: BetterSqlite3.Statement<[string], { block_cid: string; sealed_size: number; pack_offset: number | null }>;
  private readonly remoteHolderStatement: BetterSqlite3.Statement<[string], { target_id: string }>;

  private constructor(
    private readonly db: Db,
    private readonly file: string,
    logger: Logger,
  ) {
    this.stored = new StoredJsonReader(logger);
    this.chunkByIdStatement = db.prepare('SELECT block_cid, sealed_size, pack_offset FROM chunks WHERE id = ?');
    this.remoteHolderStatement = db.prepare('SELECT target_id FROM remote_blocks WHERE block_cid = ?');
  }

  static open(file: string, nativeBinding?: string, logger: Logger = createConsoleLogger('warn')): VaultRepository {
    return new VaultRepository(openDatabase(file, { nativeBinding, migrations: VAULT_MIGRATIONS }), file, logger);
  }

  close(): void {
    this.db.close();
  }

  /** Runs several writes as one transaction (the repository's own transactions nest inside). */
  atomically<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  /** A state value checked against its schema: null when never set, `ok: false` when unreadable (the caller decides). */
  getState<T>(key: string, schema: z.ZodType<T>): Decoded<T> | null {
    const value = this.stateText(key);
    return value === null ? null : decodeJson(schema, value);
  }

  /** Fallback: a state value that cannot be read back reads as never set (null), with a warning saying what that means. */
  stateOrNull<T>(key: string, schema: z.ZodType<T>, ifUnreadable: string): T | null {
    const value = this.stateText(key);
    return value === null ? null : this.stored.read(schema, value, `The vault's state "${key}"`, null, ifUnreadable);
  }

  private stateText(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM state WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setState(key: string, value: unknown): void {
    if (value === null) {
      this.db.prepare('DELETE FROM state WHERE key = ?').run(key);
      return;
    }
    this.db
      .prepare('INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value')
      .run(key, JSON.stringify(value));
  }

  schedule(): VaultSchedule {
    // Fallback: an unreadable schedule reads as the default (snapshots by hand only) until it is saved again.
    const stored = this.stateOrNull('schedule', storedScheduleSchema, 'using the default schedule (snapshots by hand only) until it is saved again');
    return { ...DEFAULT_SCHEDULE, ...stored };
  }

  setSchedule(schedule: VaultSchedule): void {
    this.setState('schedule', schedule);
  }

  // --- targets ---

  /** Every target, its saved config checked; a damaged one is listed as such (a row whose kind is unknown too is left out). */
  targets(): (TargetRow | DamagedTargetRow)[] {
    const rows = this.db.prepare('SELECT * FROM targets ORDER BY created_at').all() as StoredTarget[];
    return rows.flatMap((r) => {
      const row = readTarget(r);
      return row ? [row] : [];
    });
  }

  /** A target to use: TARGET_NOT_FOUND when there is none, CORRUPT_FILE when its saved config is damaged. */
  target(id: string): TargetRow {
    const stored = this.db.prepare('SELECT * FROM targets WHERE id = ?').get(id) as StoredTarget | undefined;
    if (!stored) throw new HearthError('TARGET_NOT_FOUND', `No backup target with id ${id}; it may have been removed.`);
    const row = readTarget(stored);
    if (row?.config) return row;
    throw new HearthError(
      'CORRUPT_FILE',
      `The saved settings of backup target "${stored.name}" (${id}) in ${this.file} are damaged (${row?.problem ?? `unknown kind "${stored.kind}"`}): remove the target and add it again.`,
    );
  }

  addTarget(row: TargetRow): void {
    this.db
      .prepare('INSERT INTO targets (id, kind, name, config, created_at) VALUES (?, ?, ?, ?, ?)')
      .run(row.id, row.config.kind, row.name, JSON.stringify(row.config), row.createdAt);
  }

  /** Removes a target, a damaged one too. */
  removeTarget(id: string): void {
    const { changes } = this.db.prepare('DELETE FROM targets WHERE id = ?').run(id);
    if (changes === 0) throw new HearthError('TARGET_NOT_FOUND', `No backup target with id ${id}; it may have been removed.`);
  }

  // --- chunks and blocks ---

  chunkBlock(id: string): Omit<KnownChunk, 'id'> | null {
    const row = this.chunkByIdStatement.get(id);
    if (!row) return null;
    return row.pack_offset === null
      ? { blockCid: row.block_cid, sealedSize: row.sealed_size }
      : { blockCid: row.block_cid, sealedSize: row.sealed_size, offset: row.pack_offset };
  }

  /** The files cache the latest snapshot left for this wallet, by path (empty for another wallet). */
  cachedFiles(address: string): Map<string, CachedFile> {
    const rows = this.db.prepare('SELECT path, identity, size, chunks FROM file_cache WHERE address = ?').all(address) as {
      path: string;
      identity: string;
      size: number;
      chunks: string;
    }[];
    const out = new Map<string, CachedFile>();
    for (const row of rows) {
      // A damaged entry is not used: that file is read again, which is always right.
      const chunks = parseCachedChunks(row.chunks);
      if (chunks) out.set(row.path, { path: row.path, identity: row.identity, size: row.size, chunks });
    }
    return out;
  }

  /** How many chunks the dedup index holds. */
  chunkCount(): number {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM chunks').get() as { n: number }).n;
  }

  /** Every block a recorded snapshot or the dedup index names: what gc keeps. */
  referencedBlocks(): Set<string> {
    const rows = this.db.prepare('SELECT block_cid FROM snapshot_blocks UNION SELECT block_cid FROM chunks').all() as { block_cid: string }[];
    return new Set(rows.map((r) => r.block_cid));
  }

  /** Empties the dedup index and the files cache (their blocks are gone); the next snapshot seals every chunk again. */
  clearChunks(): void {
    this.db.prepare('DELETE FROM chunks').run();
    this.db.prepare('DELETE FROM file_cache').run();
  }

  /** Forgets one chunk whose block is gone, so nothing reuses it. */
  forgetChunk(id: string): void {
    this.db.prepare('DELETE FROM chunks WHERE id = ?').run(id);
  }

  /** Records a snapshot, its blocks and the chunks sealed for it, in one transaction. */
  addSnapshot(snapshot: NewSnapshot): void {
    this.db.transaction(() => {
      const known = this.db.prepare('SELECT 1 FROM snapshot_blocks WHERE block_cid = ? LIMIT 1');
      let stored = 0;
      let added = 0;
      for (const [cid, size] of snapshot.blocks) {
        stored += size;
        if (!known.get(cid)) added += size;
      }
      this.db
        .prepare(
          `INSERT INTO snapshots (cid, created_at, previous, files, bytes, stored_bytes, new_bytes, include_models, include_documents, read_bytes)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(
          snapshot.cid,
          snapshot.createdAt,
          snapshot.previous,
          snapshot.files,
          snapshot.bytes,
          stored,
          added,
          snapshot.includeModels ? 1 : 0,
          snapshot.includeDocuments ? 1 : 0,
          snapshot.readBytes ?? 0,
        );
      const insertBlock = this.db.prepare('INSERT OR IGNORE INTO snapshot_blocks (snapshot_cid, block_cid, size, bulk) VALUES (?, ?, ?, ?)');
      for (const [cid, size] of snapshot.blocks) insertBlock.run(snapshot.cid, cid, size, snapshot.bulkBlocks?.has(cid) ? 1 : 0);
      const insertChunk = this.db.prepare('INSERT OR REPLACE INTO chunks (id, block_cid, sealed_size, pack_offset) VALUES (?, ?, ?, ?)');
      for (const chunk of snapshot.newChunks) insertChunk.run(chunk.id, chunk.blockCid, chunk.sealedSize, chunk.offset ?? null);
      if (snapshot.remote) this.markRemote(snapshot.remote.cids, snapshot.remote.targetId);
      if (snapshot.fileCache) {
        const { address, keepPrefixes } = snapshot.fileCache;
        const keep = keepPrefixes.map(() => 'substr(path, 1, length(?)) = ?');
        const kept = keepPrefixes.flatMap((prefix) => [prefix, prefix]);
        this.db.prepare(`DELETE FROM file_cache WHERE address != ?${keep.length > 0 ? ` OR NOT (${keep.join(' OR ')})` : ''}`).run(address, ...kept);
        // The sha256 column held the whole file's sha256 before manifest format 3; the chunk list is the digest now.
        const insertFile = this.db.prepare("INSERT OR REPLACE INTO file_cache (path, address, identity, size, sha256, chunks) VALUES (?, ?, ?, ?, '', ?)");
        for (const f of snapshot.fileCache.files) insertFile.run(f.path, address, f.identity, f.size, JSON.stringify(f.chunks));
      }
    })();
  }

  snapshots(): VaultSnapshot[] {
    const rows = this.db.prepare('SELECT * FROM snapshots ORDER BY created_at DESC, rowid DESC').all() as SnapshotRow[];
    const pubs = this.db
      .prepare(
        `SELECT p.snapshot_cid, p.target_id, t.name, t.kind, p.location, p.car_bytes, p.published_at
         FROM publications p JOIN targets t ON t.id = p.target_id ORDER BY p.published_at`,
      )
      .all() as {
      snapshot_cid: string;
      target_id: string;
      name: string;
      kind: VaultTargetKind;
      location: string;
      car_bytes: number;
      published_at: number;
    }[];
    return rows.map((r) => ({
      cid: r.cid,
      createdAt: r.created_at,
      previous: r.previous,
      files: r.files,
      bytes: r.bytes,
      storedBytes: r.stored_bytes,
      newBytes: r.new_bytes,
      readBytes: r.read_bytes,
      includeModels: r.include_models === 1,
      includeDocuments: r.include_documents === 1,
      publications: pubs
        .filter((p) => p.snapshot_cid === r.cid)
        .map(
          (p): VaultPublication => ({
            targetId: p.target_id,
            targetName: p.name,
            kind: p.kind,
            location: p.location,
            carBytes: p.car_bytes,
            publishedAt: p.published_at,
          }),
        ),
    }));
  }

  snapshot(cid: string): VaultSnapshot {
    const found = this.snapshots().find((s) => s.cid === cid);
    if (!found) throw new HearthError('NOT_FOUND', `No snapshot ${cid} on this machine.`);
    return found;
  }

  latestSnapshot(): VaultSnapshot | null {
    return this.snapshots()[0] ?? null;
  }

  /** The blocks of a snapshot that no snapshot already published to the target contains. */
  blocksMissingFrom(snapshotCid: string, targetId: string): { cid: string; size: number }[] {
    return this.db
      .prepare(
        `SELECT block_cid AS cid, size FROM snapshot_blocks WHERE snapshot_cid = ?
         AND block_cid NOT IN (
           SELECT b.block_cid FROM snapshot_blocks b JOIN publications p ON p.snapshot_cid = b.snapshot_cid
           WHERE p.target_id = ?)
`,
      )
      .all(snapshotCid, targetId) as { cid: string; size: number }[];
  }

  snapshotBlocks(snapshotCid: string): string[] {
    return (this.db.prepare('SELECT block_cid FROM snapshot_blocks WHERE snapshot_cid = ?').all(snapshotCid) as { block_cid: string }[]).map(
      (r) => r.block_cid,
    );
  }

  addPublication(p: { snapshotCid: string; targetId: string; location: string; carBytes: number; publishedAt: number }): void {
    this.db
      .prepare(
        `INSERT OR REPLACE INTO publications (snapshot_cid, target_id, location, car_bytes, published_at) VALUES (?, ?, ?, ?, ?)`,
      )
      .run(p.snapshotCid, p.targetId, p.location, p.carBytes, p.publishedAt);
  }

  /** Every block of the snapshots published to the target: what it holds already. */
  blocksPublishedTo(targetId: string): Set<string> {
    const rows = this.db
      .prepare('SELECT DISTINCT b.block_cid FROM snapshot_blocks b JOIN publications p ON p.snapshot_cid = b.snapshot_cid WHERE p.target_id = ?')
      .pluck()
      .all(targetId) as string[];
    return new Set(rows);
  }

  /** The target that holds a block this machine no longer stores, or null. */
  remoteHolder(blockCid: string): string | null {
    return this.remoteHolderStatement.get(blockCid)?.target_id ?? null;
  }

  /** Every block recorded as held by a target only. */
  remoteBlocks(): Set<string> {
    return new Set((this.db.prepare('SELECT block_cid FROM remote_blocks').all() as { block_cid: string }[]).map((r) => r.block_cid));
  }

  /** The snapshot's model-only blocks still stored here (the ones publishing may let go). */
  bulkBlocksStoredHere(snapshotCid: string): string[] {
    const rows = this.db
      .prepare('SELECT block_cid FROM snapshot_blocks WHERE snapshot_cid = ? AND bulk = 1 AND block_cid NOT IN (SELECT block_cid FROM remote_blocks)')
      .all(snapshotCid) as { block_cid: string }[];
    return rows.map((r) => r.block_cid);
  }

  /** Records blocks as held by a target only (their local files are about to be deleted). */
  markRemote(blockCids: readonly string[], targetId: string): void {
    this.db.transaction(() => {
      const insert = this.db.prepare('INSERT OR REPLACE INTO remote_blocks (block_cid, target_id) VALUES (?, ?)');
      for (const cid of blockCids) insert.run(cid, targetId);
    })();
  }

  /** A block fetched back from its target and stored here again. */
  forgetRemote(blockCid: string): void {
    this.db.prepare('DELETE FROM remote_blocks WHERE block_cid = ?').run(blockCid);
  }

  /**
   * Forgets all but the newest `keep` snapshots; returns the blocks no kept snapshot references
   * (the caller deletes them from the block store) after dropping their chunk entries.
   */
  prune(keep: number): string[] {
    return this.db.transaction(() => {
      const old = this.db
        .prepare('SELECT cid FROM snapshots ORDER BY created_at DESC, rowid DESC LIMIT -1 OFFSET ?')
        .all(keep) as { cid: string }[];
      if (old.length === 0) return [];
      const candidates = new Set<string>();
      for (const { cid } of old) for (const block of this.snapshotBlocks(cid)) candidates.add(block);
      const del = this.db.prepare('DELETE FROM snapshots WHERE cid = ?');
      for (const { cid } of old) del.run(cid);
      const stillUsed = this.db.prepare('SELECT 1 FROM snapshot_blocks WHERE block_cid = ? LIMIT 1');
      const dropChunk = this.db.prepare('DELETE FROM chunks WHERE block_cid = ?');
      const dropRemote = this.db.prepare('DELETE FROM remote_blocks WHERE block_cid = ?');
      const orphans = [...candidates].filter((cid) => !stillUsed.get(cid));
      for (const cid of orphans) {
        dropChunk.run(cid);
        dropRemote.run(cid);
      }
      return orphans;
    })();
  }
}

interface StoredTarget {
  id: string;
  kind: string;
  name: string;
  config: string;
  created_at: number;
}

function readTarget(r: StoredTarget): TargetRow | DamagedTargetRow | null {
  const parsed = decodeJson(targetConfigSchema, r.config);
  if (parsed.ok) return { id: r.id, name: r.name, config: parsed.value, createdAt: r.created_at };
  if (!isTargetKind(r.kind)) return null;
  return { id: r.id, name: r.name, kind: r.kind, config: null, problem: parsed.problem, createdAt: r.created_at };
}
