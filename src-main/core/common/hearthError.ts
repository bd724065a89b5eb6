import type { ErrorCode, ErrorData } from '#contract/errors';

/** Every error the core raises on purpose carries a stable code from the contract. */
export class HearthError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HearthError';
    this.code = code;
  }

  toData(): ErrorData {
    return { code: this.code, message: this.message };
  }
}

export function isAbortError(error: unknown): boolean {
  return (
    error instanceof Error &&
    (error.name === 'AbortError' || (error instanceof HearthError && error.code === 'CANCELLED'))
  );
}

/** Turns anything thrown into contract error data; unknown errors become INTERNAL. */
export function toErrorData(error: unknown): ErrorData {
  if (error instanceof HearthError) return error.toData();
  if (isAbortError(error)) return { code: 'CANCELLED', message: 'Cancelled' };
  const message = error instanceof Error ? error.message : String(error);
  return storageProblem(error, message) ?? { code: 'INTERNAL', message: message || 'Unexpected error' };
}

/**
 * SQLite's own words for a file damaged, or made read-only, while Hearth runs (at start,
 * openDatabase says which file and what to do): a code a person can act on, not INTERNAL.
 */
function storageProblem(error: unknown, message: string): ErrorData | null {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return null;
  if (/^SQLITE_(CORRUPT|NOTADB)/.test(code)) {
    return {
      code: 'DATABASE_CORRUPT',
      message: `A Hearth database is damaged (${message}). Quit and start Hearth again: it checks its files at start and says which one is damaged and how to save what is left or restore a snapshot.`,
    };
  }
  if (/^SQLITE_READONLY/.test(code)) {
    return {
      code: 'DATA_DIR_READ_ONLY',
      message: `The data directory can no longer be written (${message}): was its disk remounted read-only, or its permissions changed? Make it writable again, or start Hearth with another --data-dir.`,
    };
  }
  return null;
}
