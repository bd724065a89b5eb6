import { lstat, opendir, realpath, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { DocumentReasonCode, SourceKind } from '#contract/vocabulary';

/** A file a scan found, with what decides whether it changed. */
export interface ScannedFile {
  path: string;
  sizeBytes: number;
  mtimeMs: number;
}

/** Something under the folder that could not be listed or is not a file Hearth can read. */
export interface ScanProblem {
  path: string;
  code: Extract<DocumentReasonCode, 'UNREADABLE' | 'UNSUPPORTED'>;
  message: string;
}

export interface ScanResult {
  files: ScannedFile[];
  problems: ScanProblem[];
}

/** Folders never worth indexing: tool caches and version control. Hidden entries are skipped too. */
const IGNORED_DIRS = new Set(['node_modules', '__pycache__', 'venv', '.venv', 'target', 'dist-electron']);

export function isIgnoredName(name: string): boolean {
  return name.startsWith('.') || IGNORED_DIRS.has(name);
}

/**
 * Lists the files under a folder (or the one file a source names). Iterative, so deep
 * nesting cannot overflow the stack; symbolic links to folders are followed once each (a link
 * back up the tree is a loop, noticed by real path and reported, not followed); sockets,
 * FIFOs and devices are reported, never opened (reading a FIFO would block forever).
 */
export async function scanSource(root: string, kind: SourceKind, signal?: AbortSignal): Promise<ScanResult> {
  const files: ScannedFile[] = [];
  const problems: ScanProblem[] = [];
  if (kind === 'file') {
    await visitFile(root, files, problems);
    return { files, problems };
  }
  const seen = new Set<string>();
  const stack = [root];
  while (stack.length > 0) {
    signal?.throwIfAborted();
    const dir = stack.pop()!;
    let real: string;
    try {
      real = await realpath(dir);
    } catch (error) {
      problems.push({ path: dir, code: 'UNREADABLE', message: `cannot open the folder: ${reason(error)}` });
      continue;
    }
    if (seen.has(real)) {
      if (dir !== root) problems.push({ path: dir, code: 'UNSUPPORTED', message: `a link to a folder already indexed (${real}); not followed again` });
      continue;
    }
    seen.add(real);
    let handle;
    try {
      handle = await opendir(dir);
    } catch (error) {
      problems.push({ path: dir, code: 'UNREADABLE', message: `cannot list the folder: ${reason(error)}` });
      continue;
    }
    const subdirs: string[] = [];
    for await (const entry of handle) {
      if (isIgnoredName(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) subdirs.push(path);
      else if (entry.isSymbolicLink()) {
        const target = await stat(path).catch((error: unknown) => error as Error);
        if (target instanceof Error) problems.push({ path, code: 'UNREADABLE', message: `a broken link: ${reason(target)}` });
        else if (target.isDirectory()) subdirs.push(path);
        else await visitFile(path, files, problems);
      } else await visitFile(path, files, problems);
    }
    // Sorted, so files come out in a stable order whatever the file system's listing order.
    stack.push(...subdirs.sort().reverse());
  }
  files.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { files, problems };
}

async function visitFile(path: string, files: ScannedFile[], problems: ScanProblem[]): Promise<void> {
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      const what = info.isFIFO() ? 'a pipe (FIFO)' : info.isSocket() ? 'a socket' : info.isDirectory() ? 'a folder' : 'a device';
      problems.push({ path, code: 'UNSUPPORTED', message: `${what}, not a regular file` });
      return;
    }
    files.push({ path, sizeBytes: info.size, mtimeMs: Math.trunc(info.mtimeMs) });
  } catch (error) {
    const link = await lstat(path).catch(() => null);
    const what = link?.isSymbolicLink() ? 'a broken link' : 'cannot read it';
    problems.push({ path, code: 'UNREADABLE', message: `${what}: ${reason(error)}` });
  }
}

function reason(error: unknown): string {
  const e = error as NodeJS.ErrnoException;
  return e.code ? `${e.code} (${basename(e.path ?? '') || 'file'})` : String(e.message ?? e);
}
