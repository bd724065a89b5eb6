import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { formatBytes } from '#contract/format';
import { HearthError } from '../common/hearthError';
import { moveWithoutReplacing } from '../common/moveWithoutReplacing';
import { moveError, notAModel } from './downloadErrors';
import { sha256File } from './modelFileHashes';
import { readFilePrefix, sniffGguf } from './sniffGguf';

/**
 * A finished download on its way into the models folder: checked (size, GGUF magic, sha256),
 * then moved in under a name no other file has, or found there already.
 */

/** Size, GGUF magic and sha256 of a finished download; a file that fails is deleted. */
export async function verifyDownload(path: string, params: { fileName: string; sha256: string | null }, expected: number | null, signal: AbortSignal): Promise<void> {
  const fail = async (error: HearthError): Promise<never> => {
    await rm(path, { force: true });
    await rm(`${path}.ipull`, { force: true });
    throw error;
  };
  const size = (await stat(path)).size;
  if (expected !== null && size < expected) {
    await fail(new HearthError('DOWNLOAD_INCOMPLETE', `${params.fileName} arrived incomplete: ${formatBytes(size)} of ${formatBytes(expected)}. It was removed; try again.`));
  }
  if (expected !== null && size > expected) {
    await fail(new HearthError('DOWNLOAD_FAILED', `${params.fileName} arrived larger than expected (${formatBytes(size)}, not ${formatBytes(expected)}). It was removed; try again.`));
  }
  const sniff = sniffGguf(await readFilePrefix(path, 16));
  if (!sniff.gguf) await fail(notAModel(sniff.problem));
  if (params.sha256) {
    const actual = await sha256File(path, signal);
    if (actual !== params.sha256) {
      await fail(
        new HearthError(
          'CHECKSUM_MISMATCH',
          `${params.fileName} is damaged: its sha256 is ${actual}, not the published ${params.sha256}. The download was removed; try again.`,
        ),
      );
    }
  }
}

/**
 * Moves the file into the models folder without ever replacing another file: the same
 * bytes already there are used as they are, a different file keeps its name and this one
 * becomes "name (2).gguf".
 */
export async function placeDownload(modelsDir: string, file: string, fileName: string, signal: AbortSignal): Promise<{ path: string; created: boolean }> {
  const size = (await stat(file)).size;
  let ownSha: string | null = null;
  for (let n = 1; n <= 100; ) {
    const candidate = candidatePath(modelsDir, fileName, n);
    if (existsSync(`${candidate}.partial`)) {
      n++; // the library is copying a file in under this name
      continue;
    }
    if (!existsSync(candidate)) {
      try {
        await moveWithoutReplacing(file, candidate);
        return { path: candidate, created: true };
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue; // appeared meanwhile: compare it
        throw moveError(error, candidate);
      }
    }
    if ((await stat(candidate)).size === size) {
      ownSha ??= await sha256File(file, signal);
      if ((await sha256File(candidate, signal)) === ownSha) {
        await rm(file, { force: true });
        return { path: candidate, created: false };
      }
    }
    n++;
  }
  throw new HearthError('DOWNLOAD_FAILED', `The models folder already holds 100 different files named like ${fileName}; remove some and try again.`);
}

/** A file in the models folder named for this download whose sha256 is the expected one. */
export async function findDownloaded(
modelsDir: string,
params: { fileName: string; sizeBytes: number | null; sha256: string | null },
signal: AbortSignal,
): Promise<string | null> {
  for (let n = 1; n <= 100; n++) {
    const candidate = candidatePath(modelsDir, params.fileName, n);
    let size: number;
    try {
      size = (await stat(candidate)).size;
    } catch {
      if (n > 1) return null; // names are taken in order, so the first gap ends the search
      continue;
    }
    if (params.sizeBytes !== null && size !== params.sizeBytes) continue;
    if ((await sha256File(candidate, signal)) === params.sha256) return candidate;
  }
  return null;
}

/** "name.gguf", then "name (2).gguf", "name (3).gguf"... in the models folder. */
function candidatePath(modelsDir: string, fileName: string, n: number): string {
  const stem = fileName.replace(/\.gguf$/i, '');
  return join(modelsDir, n === 1 ? `${stem}.gguf` : `${stem} (${n}).gguf`);
}
