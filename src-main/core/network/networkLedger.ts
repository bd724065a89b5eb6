import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { NetworkHostTotal, NetworkLedgerView, NetworkRequest } from '#contract/dto';
import { isMember, NETWORK_PURPOSES, type NetworkPurpose } from '#contract/vocabulary';
import type { Logger } from '../common/logger';
import { openDatabase, type Db } from '../storage/database';
import { PRIVATE_DIR_MODE } from '../storage/privateDataDir';
import { listenToEgress, type EgressRecord } from './egressHook';

/**
 * The ledger lives in its own SQLite file, network/ledger.db, outside hearth.db: it is about
 * this machine, so snapshots leave it out (a publish would otherwise change the next snapshot)
 * and a restore never brings another machine's record.
 */
const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE state (key TEXT PRIMARY KEY, value TEXT NOT NULL);

  CREATE TABLE requests (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    at          INTEGER NOT NULL,
    host        TEXT NOT NULL,
    local       INTEGER NOT NULL,
    purpose     TEXT NOT NULL,
    method      TEXT NOT NULL,
    status      INTEGER,
    bytes_out   INTEGER NOT NULL,
    bytes_in    INTEGER NOT NULL,
    duration_ms INTEGER NOT NULL,
    error       TEXT
  );
  CREATE INDEX requests_at ON requests (at);

  -- Running totals per host and purpose since the ledger began; pruning requests keeps them.
  CREATE TABLE totals (
    host      TEXT NOT NULL,
    purpose   TEXT NOT NULL,
    local     INTEGER NOT NULL,
    requests  INTEGER NOT NULL,
    bytes_out INTEGER NOT NULL,
    bytes_in  INTEGER NOT NULL,
    first_at  INTEGER NOT NULL,
    last_at   INTEGER NOT NULL,
    PRIMARY KEY (host, purpose)
  ) WITHOUT ROWID;
  `,
];

export interface NetworkLedgerOptions {
  /** The ledger's SQLite file (network/ledger.db in the data directory). */
  file: string;
  logger: Logger;
  sqliteNativeBinding?: string;
  /** Requests kept one by one; older ones are pruned (their totals stay). */
  maxRequests?: number;
  maxAgeDays?: number;
  now?: () => number;
}

const DEFAULT_MAX_REQUESTS = 20_000;
const DEFAULT_MAX_AGE_DAYS = 90;
/** Pruning runs at open and after this many new records, not on every insert. */
const PRUNE_EVERY = 250;

interface RequestRow {
  id: number;
  at: number;
  host: string;
  local: number;
  purpose: string;
  method: string;
  status: number | null;
  bytes_out: number;
  bytes_in: number;
  duration_ms: number;
  error: string | null;
}

interface TotalRow {
  host: string;
  purpose: string;
  local: number;
  requests: number;
  bytes_out: number;
  bytes_in: number;
  first_at: number;
  last_at: number;
}

/**
 * Every outbound HTTP request this process sends, recorded when it ends: host, purpose, bytes
 * each way, status and time. Opening it starts listening (egressHook); close() stops.
 */
export class NetworkLedger {
  private readonly maxRequests: number;
  private readonly maxAgeDays: number;
  private readonly now: () => number;
  private readonly stop: () => void;
  private sinceLastPrune = 0;
  private closed = false;

  private constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    options: NetworkLedgerOptions,
  ) {
    this.maxRequests = options.maxRequests ?? DEFAULT_MAX_REQUESTS;
    this.maxAgeDays = options.maxAgeDays ?? DEFAULT_MAX_AGE_DAYS;
    this.now = options.now ?? Date.now;
    db.prepare('INSERT OR IGNORE INTO state (key, value) VALUES (?, ?)').run('since', String(this.now()));
    this.prune();
    this.stop = listenToEgress((record) => this.record(record));
  }

  static open(options: NetworkLedgerOptions): NetworkLedger {
    mkdirSync(dirname(options.file), { recursive: true, mode: PRIVATE_DIR_MODE });
    const db = openDatabase(options.file, { nativeBinding: options.sqliteNativeBinding, migrations: MIGRATIONS });
    return new NetworkLedger(db, options.logger, options);
  }

  /** Stores one ended request and adds it to its host's totals. */
  record(record: EgressRecord): void {
    if (this.closed) return;
    try {
      this.insert(record);
      if (++this.sinceLastPrune >= PRUNE_EVERY) this.prune();
    } catch (error) {
      this.logger.warn(`could not record a request to ${record.host} in the network ledger`, error);
    }
  }

  /** The totals, and the newest requests (all, or only those to other machines). */
  view(options: { limit?: number; remoteOnly?: boolean } = {}): NetworkLedgerView {
    const limit = Math.max(1, Math.min(10_000, Math.floor(options.limit ?? 200)));
    const rows = this.db
      .prepare(`SELECT * FROM requests ${options.remoteOnly ? 'WHERE local = 0' : ''} ORDER BY at DESC, id DESC LIMIT ?`)
      .all(limit) as RequestRow[];
    const totals = this.db.prepare('SELECT * FROM totals ORDER BY local, last_at DESC').all() as TotalRow[];
    const hosts = totals.map(toTotal);
    const remote = hosts.filter((h) => !h.local);
    const since = Number((this.db.prepare("SELECT value FROM state WHERE key = 'since'").get() as { value: string } | undefined)?.value);
    return {
      since: Number.isFinite(since) ? since : this.now(),
      remote: {
        requests: remote.reduce((sum, h) => sum + h.requests, 0),
        bytesOut: remote.reduce((sum, h) => sum + h.bytesOut, 0),
        bytesIn: remote.reduce((sum, h) => sum + h.bytesIn, 0),
      },
      hosts,
      requests: rows.map(toRequest),
      retention: { maxRequests: this.maxRequests, maxAgeDays: this.maxAgeDays },
    };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.stop();
    this.db.close();
  }

  private insert(record: EgressRecord): void {
    const local = record.local ? 1 : 0;
    this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO requests (at, host, local, purpose, method, status, bytes_out, bytes_in, duration_ms, error)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(record.at, record.host, local, record.purpose, record.method, record.status, record.bytesOut, record.bytesIn, record.durationMs, record.error);
      this.db
        .prepare(
          `INSERT INTO totals (host, purpose, local, requests, bytes_out, bytes_in, first_at, last_at) VALUES (?, ?, ?, 1, ?, ?, ?, ?)
           ON CONFLICT (host, purpose) DO UPDATE SET requests = requests + 1, bytes_out = bytes_out + excluded.bytes_out,
             bytes_in = bytes_in + excluded.bytes_in, last_at = max(last_at, excluded.last_at), first_at = min(first_at, excluded.first_at)`,
        )
        .run(record.host, record.purpose, local, record.bytesOut, record.bytesIn, record.at, record.at);
    })();
  }

  /** Keeps the newest maxRequests requests of the last maxAgeDays days. */
  private prune(): void {
    this.sinceLastPrune = 0;
    const cutoff = this.now() - this.maxAgeDays * 24 * 60 * 60 * 1000;
    this.db.prepare('DELETE FROM requests WHERE at < ?').run(cutoff);
    this.db.prepare('DELETE FROM requests WHERE id NOT IN (SELECT id FROM requests ORDER BY id DESC LIMIT ?)').run(this.maxRequests);
  }
}

function purposeOf(value: string): NetworkPurpose {
  return isMember(NETWORK_PURPOSES, value) ? value : 'unattributed';
}

function toRequest(row: RequestRow): NetworkRequest {
  return {
    id: row.id,
    at: row.at,
    host: row.host,
    local: row.local === 1,
    purpose: purposeOf(row.purpose),
    method: row.method,
    status: row.status,
    bytesOut: row.bytes_out,
    bytesIn: row.bytes_in,
    durationMs: row.duration_ms,
    error: row.error,
  };
}

function toTotal(row: TotalRow): NetworkHostTotal {
  return {
    host: row.host,
    local: row.local === 1,
    purpose: purposeOf(row.purpose),
    requests: row.requests,
    bytesOut: row.bytes_out,
    bytesIn: row.bytes_in,
    firstAt: row.first_at,
    lastAt: row.last_at,
  };
}

/**
 * For a command that runs without a core, and so without a ledger open (the CLI's restore,
 * whose data directory only exists once it is done): keeps the requests sent from now on in
 * memory, to be written into a ledger once there is one (writeTo never throws: it logs).
 */
export function holdRequests(): { stop(): void; writeTo(file: string, logger: Logger, sqliteNativeBinding?: string): void } {
  const held: EgressRecord[] = [];
  const stop = listenToEgress((record) => held.push(record));
  return {
    stop,
    writeTo(file, logger, sqliteNativeBinding) {
      stop();
      if (held.length === 0) return;
      // The work it records is done: a ledger that cannot be written is said, never a failure of that work.
      try {
        const ledger = NetworkLedger.open({ file, logger, sqliteNativeBinding });
        try {
          for (const record of held) ledger.record(record);
        } finally {
          ledger.close();
        }
      } catch (error) {
        logger.warn(`could not write ${held.length} requests into the network ledger ${file}`, error);
      }
    },
  };
}
