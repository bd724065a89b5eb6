import type { ErrorCode } from '#contract/errors';
import { HearthError } from './hearthError';

/** What went wrong with a file, as far as what a person can do about it goes. */
export type FileProblem = 'diskFull' | 'notFound' | 'denied' | 'isFolder' | 'other';

/** The one mapping from file-system (and SQLite) error codes to contract codes. */
export const FILE_PROBLEM_CODES: Readonly<Record<FileProblem, ErrorCode>> = {
  diskFull: 'DISK_FULL',
  notFound: 'FILE_NOT_FOUND',
  denied: 'FILE_UNREADABLE',
  isFolder: 'FILE_UNREADABLE',
  other: 'FILE_UNREADABLE',
};

// A full quota is as full as a full disk; SQLite says SQLITE_FULL when its file cannot grow;
// DISK_FULL is one of ours already mapped (a HearthError), still a full disk.
const DISK_FULL = new Set(['ENOSPC', 'EDQUOT', 'SQLITE_FULL', 'DISK_FULL']);
const NOT_FOUND = new Set(['ENOENT', 'ENOTDIR']);
const DENIED = new Set(['EACCES', 'EPERM', 'EROFS']);

/** The errno-style code an error carries ("ENOENT", "SQLITE_FULL"), if any. */
export function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null | undefined)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** The problem a file-system error stands for; null for an error that carries no code. */
export function fileProblem(error: unknown): FileProblem | null {
  const code = errnoOf(error);
  if (code === undefined) return null;
  if (DISK_FULL.has(code)) return 'diskFull';
  if (NOT_FOUND.has(code)) return 'notFound';
  if (DENIED.has(code)) return 'denied';
  if (code === 'EISDIR') return 'isFolder';
  return 'other';
}

/** Whether the disk (or the user's quota, or a SQLite file) is full. */
export function isDiskFull(error: unknown): boolean {
  return fileProblem(error) === 'diskFull';
}

/**
 * The sentence for each problem at one site. `other` words every problem not worded itself,
 * except a full disk, whose own sentence (free some space) says more.
 */
export type FileErrorWording = Partial<Record<FileProblem, string>>;

/**
 * A file-system error as a HearthError with the contract code the one mapping gives and a
 * sentence a person can act on; a HearthError passes through unchanged.
 */
export function fileError(error: unknown, path: string, say: FileErrorWording = {}): HearthError {
  if (error instanceof HearthError) return error;
  const problem = fileProblem(error) ?? 'other';
  const sentence = say[problem] ?? (problem === 'diskFull' ? undefined : say.other) ?? defaultSentence(problem, path, error);
  return new HearthError(FILE_PROBLEM_CODES[problem], sentence, { cause: error });
}

function defaultSentence(problem: FileProblem, path: string, error: unknown): string {
  const code = errnoOf(error);
  switch (problem) {
    case 'diskFull':
      return `The disk holding ${path} is full; free some space and try again.`;
    case 'notFound':
      return `${path} does not exist.`;
    case 'denied':
      return `Hearth may not read or write ${path} (${code}); check its permissions.`;
    case 'isFolder':
      return `${path} is a folder, not a file.`;
    case 'other': {
      const message = error instanceof Error ? error.message : String(error);
      return code ? `Could not use ${path} (${code}): ${message}` : `Could not use ${path}: ${message}`;
    }
  }
}
