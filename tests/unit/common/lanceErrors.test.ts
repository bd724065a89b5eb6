import { describe, expect, it } from 'vitest';
import { isDiskFull } from '../../../src-main/core/common/fsErrors';
import { HearthError } from '../../../src-main/core/common/hearthError';
import { isLanceDiskFull, lanceWriteError } from '../../../src-main/core/search/lanceErrors';

describe('a full disk, as LanceDB words it', () => {
  it('reads "no space" text from LanceDB (its errors carry no code) as DISK_FULL naming the index folder', () => {
    // The text LanceDB's Rust side gives for a failed write (the real failure is in tests/integration/fullDisk.test.ts).
    const lance = new Error('lance error: LanceError(IO): Generic LocalFileSystem error: Unable to copy data to file: No space left on device (os error 28)');
    expect(isLanceDiskFull(lance)).toBe(true);
    const mapped = lanceWriteError(lance, '/data/index');
    expect(mapped).toBeInstanceOf(HearthError);
    expect((mapped as HearthError).code).toBe('DISK_FULL');
    expect((mapped as HearthError).message).toContain('/data/index');
    expect(isLanceDiskFull(new Error('Disk quota exceeded (os error 122)'))).toBe(true);
  });

  it('passes every other error through unchanged', () => {
    const other = new Error('lance error: Invalid user input: no such column');
    expect(lanceWriteError(other, '/data/index')).toBe(other);
    const coded = new HearthError('NOT_FOUND', 'No chunk table named x');
    expect(lanceWriteError(coded, '/data/index')).toBe(coded);
  });

  it('a DISK_FULL already mapped is still a full disk to isDiskFull', () => {
    expect(isDiskFull(new HearthError('DISK_FULL', 'The disk holding /x is full'))).toBe(true);
    expect(isDiskFull(new HearthError('INTERNAL', 'no'))).toBe(false);
  });
});
