import { constants, existsSync } from 'node:fs';
import { copyFile, link, rename, rm, unlink } from 'node:fs/promises';

/**
 * Moves a file to a path no file holds yet, failing with EEXIST rather than replacing one that
 * appeared meanwhile (rename would replace it). link + unlink does it atomically; across file
 * systems the copy goes under `${to}.partial` first (a name a folder scan skips), and where the
 * file system has no hard links (FAT, some network shares) the check and the rename are as close
 * together as they can be.
 */
export async function moveWithoutReplacing(from: string, to: string): Promise<void> {
  try {
    await link(from, to);
    await unlink(from);
    return;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw error;
    if (code === 'EXDEV') {
      const partial = `${to}.partial`;
      try {
        await copyFile(from, partial, constants.COPYFILE_EXCL);
        if (existsSync(to)) throw exists(to);
        await rename(partial, to);
      } finally {
        await rm(partial, { force: true });
      }
      await unlink(from);
      return;
    }
    if (existsSync(to)) throw exists(to);
    await rename(from, to);
  }
}

function exists(path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${path} exists`), { code: 'EEXIST' });
}
