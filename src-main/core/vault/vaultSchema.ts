/**
 * The vault's bookkeeping lives in its own SQLite file, vault/vault.db, outside hearth.db:
 * snapshots capture hearth.db, and a record of the snapshot written into the file being
 * captured would change it every time (no snapshot of unchanged data could be empty).
 */
export const VAULT_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE targets (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    name       TEXT NOT NULL,
    config     TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE snapshots (
    cid               TEXT PRIMARY KEY,
    created_at        INTEGER NOT NULL,
    previous          TEXT,
    files             INTEGER NOT NULL,
    bytes             INTEGER NOT NULL,
    stored_bytes      INTEGER NOT NULL,
    new_bytes         INTEGER NOT NULL,
    include_models    INTEGER NOT NULL,
    include_documents INTEGER NOT NULL
  );

  -- Every block a snapshot references (root, manifest, lists, chunks), for publishing only
  -- what a target lacks and for deleting blocks no kept snapshot needs.
  CREATE TABLE snapshot_blocks (
    snapshot_cid TEXT NOT NULL REFERENCES snapshots (cid) ON DELETE CASCADE,
    block_cid    TEXT NOT NULL,
    size         INTEGER NOT NULL,
    PRIMARY KEY (snapshot_cid, block_cid)
  ) WITHOUT ROWID;
  CREATE INDEX snapshot_blocks_block ON snapshot_blocks (block_cid);

  -- Dedup index: keyed hash of a plaintext chunk -> the sealed block that holds it.
  CREATE TABLE chunks (
    id          TEXT PRIMARY KEY,
    block_cid   TEXT NOT NULL,
    sealed_size INTEGER NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE publications (
    snapshot_cid TEXT NOT NULL REFERENCES snapshots (cid) ON DELETE CASCADE,
    target_id    TEXT NOT NULL REFERENCES targets (id) ON DELETE CASCADE,
    location     TEXT NOT NULL,
    car_bytes    INTEGER NOT NULL,
    published_at INTEGER NOT NULL,
    PRIMARY KEY (snapshot_cid, target_id)
  );
  `,
  `
  -- The files cache: what the latest snapshot read from each file, by the file's identity on
  -- disk (filesCache.ts), so the next one skips files whose identity has not changed.
  CREATE TABLE file_cache (
    path     TEXT PRIMARY KEY,
    address  TEXT NOT NULL,
    identity TEXT NOT NULL,
    size     INTEGER NOT NULL,
    sha256   TEXT NOT NULL,
    chunks   TEXT NOT NULL
  ) WITHOUT ROWID;

  -- A chunk inside a pack block (small files packed together) starts at this plaintext offset.
  ALTER TABLE chunks ADD COLUMN pack_offset INTEGER;

  -- Plaintext bytes the snapshot read from disk (unchanged files skipped by the cache are not).
  ALTER TABLE snapshots ADD COLUMN read_bytes INTEGER NOT NULL DEFAULT 0;
  `,
  `
  -- A block only files under models/ reference: it may live on a target instead of here.
  ALTER TABLE snapshot_blocks ADD COLUMN bulk INTEGER NOT NULL DEFAULT 0;

  -- Blocks deleted from vault/blocks because a target holds them (keepModelBlocks off): publish
  -- and the next snapshot treat them as stored; a publish elsewhere fetches them from there.
  CREATE TABLE remote_blocks (
    block_cid TEXT PRIMARY KEY,
    target_id TEXT NOT NULL REFERENCES targets (id) ON DELETE CASCADE
  ) WITHOUT ROWID;
  `,
];

/** vault.db's schema version (PRAGMA user_version) once every migration ran. */
export const VAULT_SCHEMA_VERSION = VAULT_MIGRATIONS.length;
