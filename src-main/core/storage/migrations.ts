/**
 * Schema migrations, applied in order. Never edit a migration that has shipped: append one.
 * Timestamps are milliseconds since the epoch.
 */
export const migrations: readonly string[] = [
  /* 1: settings, models, threads, messages (with full-text search), jobs */ `
  CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
  );

  CREATE TABLE models (
    id                TEXT PRIMARY KEY,
    path              TEXT NOT NULL UNIQUE,
    name              TEXT NOT NULL,
    size_bytes        INTEGER NOT NULL,
    architecture      TEXT,
    context_length    INTEGER,
    has_chat_template INTEGER NOT NULL DEFAULT 0,
    added_at          INTEGER NOT NULL
  );

  CREATE TABLE threads (
    id            TEXT PRIMARY KEY,
    title         TEXT NOT NULL,
    system_prompt TEXT NOT NULL DEFAULT '',
    context_json  TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
  );

  CREATE TABLE messages (
    id            TEXT PRIMARY KEY,
    thread_id     TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
    content       TEXT NOT NULL,
    status        TEXT NOT NULL,
    model_name    TEXT,
    error_code    TEXT,
    error_message TEXT,
    created_at    INTEGER NOT NULL,
    UNIQUE (thread_id, seq)
  );

  CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='rowid');
  CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
  END;
  CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
  END;
  CREATE TRIGGER messages_au AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.rowid, old.content);
    INSERT INTO messages_fts(rowid, content) VALUES (new.rowid, new.content);
  END;

  CREATE TABLE jobs (
    id            TEXT PRIMARY KEY,
    kind          TEXT NOT NULL,
    title         TEXT NOT NULL,
    params_json   TEXT NOT NULL,
    checkpoint_json TEXT,
    status        TEXT NOT NULL,
    progress      REAL,
    detail        TEXT,
    error_code    TEXT,
    error_message TEXT,
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
  );
  CREATE INDEX jobs_status ON jobs(status);
  `,
  /* 2: byte counts for jobs that move data (downloads) */ `
  ALTER TABLE jobs ADD COLUMN bytes_json TEXT;
  `,
  /* 3: model metadata, per-model GPU layers, files Hearth manages, defaults per purpose */ `
  ALTER TABLE models ADD COLUMN kind TEXT NOT NULL DEFAULT 'generative';
  ALTER TABLE models ADD COLUMN parameters INTEGER;
  ALTER TABLE models ADD COLUMN quantization TEXT;
  ALTER TABLE models ADD COLUMN gpu_layers INTEGER;
  ALTER TABLE models ADD COLUMN managed INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE model_defaults (
    purpose  TEXT PRIMARY KEY CHECK (purpose IN ('chat', 'embedding', 'rerank')),
    model_id TEXT NOT NULL REFERENCES models(id) ON DELETE CASCADE
  );
  `,
  /* 4: your documents: collections, sources, documents with content hashes, chat scopes, cited sources */ `
  CREATE TABLE collections (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE COLLATE NOCASE,
    created_at INTEGER NOT NULL
  );

  CREATE TABLE sources (
    id            TEXT PRIMARY KEY,
    collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    path          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('folder', 'file')),
    added_at      INTEGER NOT NULL,
    last_scan_at  INTEGER,
    UNIQUE (collection_id, path)
  );

  -- One row per file seen under a source. content_hash is the sha256 of the bytes last read;
  -- index_key names the LanceDB table holding its chunks (model + dimension), so a document
  -- is indexed for the current model only when status = 'indexed' and index_key matches.
  CREATE TABLE documents (
    id           TEXT PRIMARY KEY,
    source_id    TEXT NOT NULL REFERENCES sources(id) ON DELETE CASCADE,
    path         TEXT NOT NULL,
    format       TEXT,
    size_bytes   INTEGER NOT NULL DEFAULT 0,
    mtime_ms     INTEGER NOT NULL DEFAULT 0,
    content_hash TEXT,
    status       TEXT NOT NULL CHECK (status IN ('pending', 'indexed', 'skipped', 'failed')),
    reason_code  TEXT,
    reason       TEXT,
    chunk_count  INTEGER NOT NULL DEFAULT 0,
    title        TEXT,
    page_count   INTEGER,
    index_key    TEXT,
    updated_at   INTEGER NOT NULL,
    UNIQUE (source_id, path)
  );
  CREATE INDEX documents_status ON documents(status);

  CREATE TABLE thread_collections (
    thread_id     TEXT NOT NULL REFERENCES threads(id) ON DELETE CASCADE,
    collection_id TEXT NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    PRIMARY KEY (thread_id, collection_id)
  );

  ALTER TABLE messages ADD COLUMN sources_json TEXT;
  `,
  /* 5: answer receipts stored with their replies; model files' sha256, computed once */ `
  ALTER TABLE messages ADD COLUMN receipt_json TEXT;

  -- A file's sha256, valid while its size and modification time are these (a changed file is hashed again).
  CREATE TABLE file_hashes (
    path       TEXT PRIMARY KEY,
    size_bytes INTEGER NOT NULL,
    mtime_ms   INTEGER NOT NULL,
    sha256     TEXT NOT NULL,
    hashed_at  INTEGER NOT NULL
  );
  `,
  /* 6: API tokens for the local API and MCP: only a sha256 of each token is kept */ `
  CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    token_sha256 TEXT NOT NULL UNIQUE,
    scopes_json  TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    last_used_at INTEGER,
    revoked_at   INTEGER
  );
  `,
  /* 7: a chat's own sampling values (temperature, top-p, ...), over the saved defaults */ `
  CREATE TABLE thread_generation (
    thread_id   TEXT PRIMARY KEY REFERENCES threads(id) ON DELETE CASCADE,
    params_json TEXT NOT NULL,
    updated_at  INTEGER NOT NULL
  );
  `,
  /* 8: regenerated replies kept as alternates: versions of one reply share alt_group; the ones not chosen are hidden */ `
  ALTER TABLE messages ADD COLUMN alt_group TEXT;
  ALTER TABLE messages ADD COLUMN hidden INTEGER NOT NULL DEFAULT 0;
  CREATE INDEX messages_alt_group ON messages(thread_id, alt_group) WHERE alt_group IS NOT NULL;
  `,
];
