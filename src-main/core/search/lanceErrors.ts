import { isDiskFull } from '../common/fsErrors';
import { HearthError } from '../common/hearthError';

// LanceDB's errors come from Rust as plain Errors: a full disk shows only in the text
// ("No space left on device (os error 28)", "Disk quota exceeded (os error 122)").
const DISK_FULL_TEXT = /no space left on device|os error 28\b|disk quota exceeded|os error 122\b|\bENOSPC\b|\bEDQUOT\b/i;

/** Whether a LanceDB (or file-system) error says the disk is full. */
export function isLanceDiskFull(error: unknown): boolean {
  if (isDiskFull(error)) return true;
  return error instanceof Error && DISK_FULL_TEXT.test(error.message);
}

/** A write to the index in `dir` that failed: a full disk becomes DISK_FULL naming the folder; anything else passes unchanged. */
export function lanceWriteError(error: unknown, dir: string): unknown {
  if (error instanceof HearthError || !isLanceDiskFull(error)) return error;
  return new HearthError('DISK_FULL', `The disk holding ${dir} is full; free some space and try again.`, { cause: error });
}
