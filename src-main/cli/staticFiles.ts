import { realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { basename, extname, resolve, sep } from 'node:path';

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.gif': 'image/gif',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.ttf': 'font/ttf',
  '.otf': 'font/otf',
  '.wasm': 'application/wasm',
};

export function contentTypeFor(path: string): string {
  return CONTENT_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/** The encodings a build may precompress a file into, as siblings `<file>.br` and `<file>.gz`. */
export const PRECOMPRESSED = [
  { encoding: 'br', suffix: '.br' },
  { encoding: 'gzip', suffix: '.gz' },
] as const;
export type ContentEncoding = (typeof PRECOMPRESSED)[number]['encoding'];

export interface StaticFile {
  path: string;
  size: number;
  contentType: string;
  /** The app's entry page: never cached, since it is what a new build changes. */
  isIndex: boolean;
  /** A build asset whose name carries its content hash: it never changes, so a browser may keep it for good. */
  immutable: boolean;
  /** Precompressed copies (no older than the file itself), best first. */
  variants: { encoding: ContentEncoding; path: string; size: number }[];
}

/** Vite's hashed asset names: assets/<name>-<8+ hash characters>.<ext>. */
const HASHED_ASSET = /^[^/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

/**
 * Files of one folder (the built renderer), looked up by URL path. Anything that would
 * resolve outside the folder, through "..", encoded separators or a symlink, is not found.
 */
export class StaticFiles {
  private readonly root: string;

  constructor(rootDir: string) {
    const absolute = resolve(rootDir);
    // The real path, so the containment check below compares like with like.
    try {
      this.root = realpathSync(absolute);
    } catch {
      this.root = absolute; // not built yet: every lookup is a 404 until it is
    }
  }

  /** Maps a URL pathname (still percent-encoded) to a file inside the root, or null. */
  resolvePath(pathname: string): string | null {
    let decoded: string;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return null;
    }
    if (decoded.includes('\0') || !decoded.startsWith('/')) return null;
    const relative = decoded === '/' ? 'index.html' : decoded.slice(1);
    const path = resolve(this.root, relative);
    return this.contains(path) ? path : null;
  }

  async lookup(pathname: string): Promise<StaticFile | null> {
    const path = this.resolvePath(pathname);
    if (!path) return null;
    try {
      const real = await realpath(path);
      if (!this.contains(real)) return null;
      const info = await stat(real);
      if (!info.isFile()) return null;
      const inAssets = real.startsWith(resolve(this.root, 'assets') + sep);
      return {
        path: real,
        size: info.size,
        contentType: contentTypeFor(real),
        isIndex: real === resolve(this.root, 'index.html'),
        immutable: inAssets && HASHED_ASSET.test(basename(real)),
        variants: await this.variants(real, info.mtimeMs),
      };
    } catch {
      return null;
    }
  }

  /** The precompressed siblings of a file; a stale one (older than the file) is ignored. */
  private async variants(path: string, mtimeMs: number): Promise<StaticFile['variants']> {
    const found: StaticFile['variants'] = [];
    for (const { encoding, suffix } of PRECOMPRESSED) {
      // Held to the same rule as the file: a copy that is a link out of the root is not served.
      const real = await realpath(path + suffix).catch(() => null);
      if (!real || !this.contains(real)) continue;
      const info = await stat(real).catch(() => null);
      if (info?.isFile() && info.mtimeMs >= mtimeMs) found.push({ encoding, path: real, size: info.size });
    }
    return found;
  }

  private contains(path: string): boolean {
    return path.startsWith(this.root.endsWith(sep) ? this.root : this.root + sep);
  }
}
