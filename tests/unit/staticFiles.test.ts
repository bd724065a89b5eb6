import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { contentTypeFor, StaticFiles } from '../../src-main/cli/staticFiles';
import { tempDir } from '../support/tempDir';

describe('StaticFiles', () => {
  const dir = tempDir('hearth-static-');
  const root = join(dir.path, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html>');
  writeFileSync(join(root, 'assets', 'app.js'), '');
  writeFileSync(join(dir.path, 'secret.txt'), 'secret');
  symlinkSync(join(dir.path, 'secret.txt'), join(root, 'assets', 'link.txt'));
  const files = new StaticFiles(root);
  afterAll(() => dir.cleanup());

  it('maps / to index.html and paths to files inside the root', async () => {
    expect((await files.lookup('/'))?.isIndex).toBe(true);
    const asset = await files.lookup('/assets/app.js');
    expect(asset?.contentType).toBe('text/javascript; charset=utf-8');
    expect(asset?.isIndex).toBe(false);
    expect(await files.lookup('/assets/%61pp.js')).not.toBeNull();
  });

  it('finds nothing outside the root, however the path is spelled', async () => {
    for (const path of ['/../secret.txt', '/..%2fsecret.txt', '/assets/..%2F..%2Fsecret.txt', '/%2e%2e/secret.txt', '/..%5csecret.txt']) {
      expect(await files.lookup(path), path).toBeNull();
    }
    expect(files.resolvePath('/..%2fsecret.txt')).toBeNull();
  });

  it('does not follow a symlink out of the root', async () => {
    expect(await files.lookup('/assets/link.txt')).toBeNull();
  });

  it('rejects folders, missing files, NUL bytes and broken escapes', async () => {
    for (const path of ['/assets', '/assets/', '/missing.js', '/index.html%00.js', '/%E0%A4%A', 'relative']) {
      expect(await files.lookup(path), path).toBeNull();
    }
  });

  it('knows the content types the renderer uses', () => {
    expect(contentTypeFor('a.css')).toBe('text/css; charset=utf-8');
    expect(contentTypeFor('a.SVG')).toBe('image/svg+xml');
    expect(contentTypeFor('a.woff2')).toBe('font/woff2');
    expect(contentTypeFor('a.unknown')).toBe('application/octet-stream');
  });

  it('serves nothing when the UI is not built', async () => {
    expect(await new StaticFiles(join(dir.path, 'missing')).lookup('/')).toBeNull();
  });
});
