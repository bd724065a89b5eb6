// Whether out/ is an up-to-date build of the sources, so `npm start` can skip `npm run build`.
// Compares modification times: every input the build reads against the oldest build output.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/** What the build reads: source folders (walked) and single files. */
export const BUILD_INPUTS = [
  'src-main',
  'src-preload',
  'src-renderer',
  'electron.vite.config.ts',
  'package.json',
  'package-lock.json',
  'tsconfig.base.json',
  'tsconfig.json',
  'tsconfig.web.json',
  'tsconfig.electron.json',
];

/** What a complete build leaves in out/ (one file per entry). */
export const BUILD_OUTPUTS = ['out/main/cli.js', 'out/main/index.js', 'out/main/parseWorker.js', 'out/preload/index.cjs', 'out/renderer/index.html'];

function mtimeOrNull(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return null;
  }
}

/** The newest file under path (a file or a folder), as [mtimeMs, path]; null when absent. */
function newest(path) {
  let info;
  try {
    info = statSync(path);
  } catch {
    return null;
  }
  if (!info.isDirectory()) return [info.mtimeMs, path];
  let best = null;
  for (const entry of readdirSync(path)) {
    if (entry === 'node_modules' || entry.startsWith('.')) continue;
    const found = newest(join(path, entry));
    if (found && (!best || found[0] > best[0])) best = found;
  }
  return best;
}

/**
 * Why `root`'s build must be redone (a sentence), or null when out/ is newer than every input.
 * @param {string} root the repository root
 * @returns {string | null}
 */
export function staleReason(root) {
  let oldestOutput = Infinity;
  for (const output of BUILD_OUTPUTS) {
    const mtime = mtimeOrNull(join(root, output));
    if (mtime === null) return `${output} is missing`;
    oldestOutput = Math.min(oldestOutput, mtime);
  }
  for (const input of BUILD_INPUTS) {
    const found = newest(join(root, input));
    if (found && found[0] > oldestOutput) return `${relative(root, found[1])} changed since the last build`;
  }
  return null;
}
