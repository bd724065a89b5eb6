import { statfs, stat } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Bytes free to this user on the file system holding `dir` (the folder need not exist yet:
 * its nearest existing parent is asked). Null where the platform cannot say.
 */
export async function freeDiskBytes(dir: string): Promise<number | null> {
  for (let path = dir; ; path = dirname(path)) {
    try {
      const fs = await statfs(path);
      return Number(fs.bavail) * Number(fs.bsize);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== 'ENOENT' && code !== 'ENOTDIR') || dirname(path) === path) return null;
    }
  }
}

/**
 * Bytes a file really occupies on disk: a partial download is sparse (pieces land where they
 * belong), so its length overstates what it holds. Zero when it does not exist.
 */
export async function allocatedBytes(path: string): Promise<number> {
  try {
    const info = await stat(path);
    // Where no block count is reported, the length is the best there is.
    return Number.isFinite(info.blocks) ? Math.min(info.size, info.blocks * 512) : info.size;
  } catch {
    return 0;
  }
}
