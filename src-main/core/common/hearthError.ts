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
  return { code: 'INTERNAL', message: message || 'Unexpected error' };
}
