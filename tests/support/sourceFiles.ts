import { readdirSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';

/** The repository's root, for architecture tests that read its sources. */
export const repoRoot = join(__dirname, '..', '..');

/** A path with forward slashes, as the architecture tests name files. */
export const posix = (path: string): string => path.split(sep).join('/');

/**
 * Every file under `dir` (relative to the repository's root) whose name matches `pattern`,
 * as repository-relative posix paths; `.d.ts` declaration files are left out unless asked for.
 */
export function sourceFiles(dir: string, pattern: RegExp, options: { declarations?: boolean } = {}): string[] {
  const out: string[] = [];
  for (const name of readdirSync(join(repoRoot, dir))) {
    const path = join(dir, name);
    if (statSync(join(repoRoot, path)).isDirectory()) out.push(...sourceFiles(path, pattern, options));
    else if (pattern.test(name) && (options.declarations || !name.endsWith('.d.ts'))) out.push(posix(path));
  }
  return out;
}
