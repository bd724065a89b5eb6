import { realpathSync } from 'node:fs';
import { realpath, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';

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

export interface StaticFile {
  path: string;
  size: number;
  contentType: string;
  /** The app's entry page: never cached, since it is what a new build changes. */
  isIndex: boolean;
}

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
      return { path: real, size: info.size, contentType: contentTypeFor(real), isIndex: real === resolve(this.root, 'index.html') };
    } catch {
      return null;
    }
  }

  private contains(path: string): boolean {
    return path.startsWith(this.root.endsWith(sep) ? this.root : this.root + sep);
  }
}
