/**
 * Error codes are part of the contract: stable strings the UI, the CLI and scripts can
 * branch on. Messages are for people and may change; codes may not.
 */
export const ERROR_CODES = [
  'BAD_INPUT',
  'NOT_FOUND',
  'FILE_NOT_FOUND',
  'FILE_UNREADABLE',
  /** A path named a FIFO, a socket or a device where a file was expected; Hearth never opens one. */
  'NOT_A_REGULAR_FILE',
  /** A file-system step on a user-named path (stat, open, read) took longer than its time limit. */
  'FILE_TIMEOUT',
  'CORRUPT_FILE',
  'MODEL_NOT_FOUND',
  'MODEL_NOT_LOADED',
  'MODEL_LOAD_FAILED',
  'INSUFFICIENT_MEMORY',
  'THREAD_NOT_FOUND',
  'MESSAGE_NOT_FOUND',
  'MESSAGE_TOO_LARGE',
  /** A chat import is not a Hearth JSON export or a ChatGPT conversations.json, or is damaged there; nothing was imported. */
  'IMPORT_INVALID',
  'CONTEXT_OVERFLOW',
  'BUSY',
  'CANCELLED',
  'JOB_NOT_FOUND',
  /** A job's parameters or saved progress, read back from disk, do not have the shape its kind expects. */
  'JOB_RECORD_INVALID',
  'UNSUPPORTED',
  'UNAUTHORIZED',
  /** An API token is valid but lacks the scope (or the collection) a request needs. */
  'FORBIDDEN',
  'MODEL_GATED',
  'DOWNLOAD_FAILED',
  'DOWNLOAD_INCOMPLETE',
  'NOT_A_MODEL',
  'CHECKSUM_MISMATCH',
  'DISK_FULL',
  'NETWORK_ERROR',
  'COLLECTION_NOT_FOUND',
  'SOURCE_NOT_FOUND',
  'DOCUMENT_NOT_FOUND',
  'EMBEDDING_MODEL_MISSING',
  'RERANKER_UNAVAILABLE',
  'INDEX_ERROR',
  /** The document index (index/) is gone or lacks its tables; index.rebuild makes it again. */
  'INDEX_MISSING',
  /** hearth.db (or vault.db) is damaged; the message says how to save what is left. */
  'DATABASE_CORRUPT',
  /** The data directory cannot be written (a read-only mount, no permission). */
  'DATA_DIR_READ_ONLY',
  'WRONG_PASSPHRASE',
  'INTEGRITY_ERROR',
  'SIGNATURE_INVALID',
  /** An answer receipt (stored, or read from a file) is malformed or its fields do not match its hash. */
  'RECEIPT_INVALID',
  'VAULT_NOT_SET_UP',
  'VAULT_LOCKED',
  'TARGET_NOT_FOUND',
  /**
   * A target's latest-snapshot record is older than one this machine has seen there, or than a
   * newer snapshot the target holds (an old record put back): restore by CID on purpose.
   */
  'STALE_POINTER',
  /** Another process holds a cross-process lock (a snapshot, publish, restore or gc of the same vault) past the wait; the message names it. */
  'LOCK_HELD',
  /** A running Hearth (app, server or command) has this data directory open, so it cannot be restored over. */
  'DATA_DIR_IN_USE',
  /** A snapshot's capture did not match the live data it was taken from (a row count or a file size); nothing was recorded. */
  'CAPTURE_DAMAGED',
  /** The page's connection to the Hearth server dropped, or the server cannot be reached (the WebSocket client's own error). */
  'CONNECTION_LOST',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The shape every error has once it crosses a boundary (IPC, WebSocket, CLI --json). */
export interface ErrorData {
  code: ErrorCode;
  message: string;
}

export type Result<T> = { ok: true; value: T } | { ok: false; error: ErrorData };

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && (ERROR_CODES as readonly string[]).includes(value);
}
