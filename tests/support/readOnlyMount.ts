import { spawnSync } from 'node:child_process';
import { tempDir } from './tempDir';

export interface ReadOnlyMount {
  path: string;
  /** Remounts the file system read-only: writes then fail with EROFS, even for root. */
  makeReadOnly(): void;
  unmount(): void;
}

function mount(args: string[], what: string): void {
  const done = spawnSync('mount', args, { encoding: 'utf8' });
  if (done.status !== 0) throw new Error(`Cannot ${what} (these tests need root, as in CI): ${done.stderr || done.error?.message || `exit ${done.status}`}`);
}

/**
 * A real tmpfs to write into and then remount read-only: the way to test a read-only data
 * directory as root, which file modes do not stop. A mount that fails fails the test.
 */
export function mountWritableTmpfs(sizeMb = 64): ReadOnlyMount {
  const dir = tempDir('hearth-ro-');
  try {
    mount(['-t', 'tmpfs', '-o', `size=${sizeMb}m`, 'tmpfs', dir.path], `mount a ${sizeMb} MB tmpfs`);
  } catch (error) {
    dir.cleanup();
    throw error;
  }
  return {
    path: dir.path,
    makeReadOnly: () => mount(['-o', 'remount,ro', dir.path], 'remount the tmpfs read-only'),
    unmount() {
      spawnSync('umount', ['-l', dir.path]);
      dir.cleanup();
    },
  };
}
