import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../common/atomicFile';

/**
 * How far a restore got, saved in its staging folder so an interrupted run resumes: the files
 * complete and verified, and how many chunks of the file being written are in its .part file.
 */
const progressSchema = z.object({
  root: z.string(),
  done: z.array(z.string()),
  current: z
    .object({
      path: z.string().min(1),
      chunks: z.number().int().nonnegative(),
      bytes: z.number().int().nonnegative(),
    })
    .nullable(),
});

export type RestoreProgress = z.infer<typeof progressSchema>;

const PROGRESS_FILE = 'restore-progress.json';

/**
 * The saved progress of a restore of `root`. No file, a torn write, a record that does not match
 * the schema or one for another snapshot all mean the same: start from the beginning (the files
 * already written are written again, and checked as every file is).
 */
export async function readRestoreProgress(staging: string, root: string): Promise<RestoreProgress> {
  try {
    const saved = progressSchema.safeParse(JSON.parse(await readFile(join(staging, PROGRESS_FILE), 'utf8')));
    if (saved.success && saved.data.root === root) return saved.data;
  } catch {
    // No progress yet, or not JSON.
  }
  return { root, done: [], current: null };
}

export async function writeRestoreProgress(staging: string, progress: RestoreProgress): Promise<void> {
  await writeFileAtomic(join(staging, PROGRESS_FILE), JSON.stringify(progress), 0o644);
}
