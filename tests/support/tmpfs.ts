import { spawnSync } from 'node:child_process';
import { closeSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './tempDir';

export interface Tmpfs {
  path: string;
  /** Fills the file system to the last byte with one file (errors other than ENOSPC throw). */
  fill(): void;
  /** Deletes what fill() wrote. */
  free(): void;
  freeBytes(): number;
  unmount(): void;
}

/**
 * A real small file system (tmpfs) to fill up. Needs root (tests and CI run as root): a
 * mount that fails fails the test with the reason, it is never skipped.
 */
export function mountTmpfs(sizeMb: number): Tmpfs {
  const dir = tempDir('hearth-tmpfs-');
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeMb}m,mode=0755`, 'tmpfs', dir.path], { encoding: 'utf8' });
  if (mounted.status !== 0) {
    dir.cleanup();
    throw new Error(`Cannot mount a ${sizeMb} MB tmpfs (these tests need root, as in CI): ${mounted.stderr || mounted.error?.message || `exit ${mounted.status}`}`);
  }
  const filler = join(dir.path, 'filler.bin');
  return {
    path: dir.path,
    fill() {
      const fd = openSync(filler, 'a');
      try {
        for (const size of [1 << 20, 64 << 10, 4 << 10, 512, 1]) {
          const chunk = Buffer.alloc(size, 7);
          for (;;) {
            try {
              if (writeSync(fd, chunk) < size) break;
            } catch (error) {
              if ((error as NodeJS.ErrnoException).code !== 'ENOSPC') throw error;
              break;
            }
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    freeBytes() {
      const stats = statfsSync(dir.path);
      return stats.bavail * stats.bsize;
    },
    unmount() {
      // A file closed a moment ago (a child process exiting, a native handle let go) can keep the
      // mount busy briefly: try for a few seconds, then say what still holds it.
      const deadline = Date.now() + 10_000;
      for (;;) {
        const result = spawnSync('umount', [dir.path], { encoding: 'utf8' });
        if (result.status === 0) break;
        if (Date.now() > deadline) {
          const holders = spawnSync('fuser', ['-vm', dir.path], { encoding: 'utf8' });
          throw new Error(`Cannot unmount ${dir.path}: ${result.stderr}${holders.stderr ?? ''}${holders.stdout ?? ''}`);
        }
        spawnSync('sleep', ['0.2']);
      }
      dir.cleanup();
    },
  };
}
