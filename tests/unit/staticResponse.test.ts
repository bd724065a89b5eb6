import { mkdirSync, utimesSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { StaticFiles } from '../../src-main/cli/staticFiles';
import { acceptedEncodings, staticReply } from '../../src-main/cli/staticResponse';
import { tempDir } from '../support/tempDir';

const requestWith = (acceptEncoding?: string) => ({ headers: acceptEncoding === undefined ? {} : { 'accept-encoding': acceptEncoding } }) as IncomingMessage;

describe('static responses: precompressed copies and caching', () => {
  const dir = tempDir('hearth-static-reply-');
  const root = join(dir.path, 'renderer');
  mkdirSync(join(root, 'assets'), { recursive: true });
  writeFileSync(join(root, 'index.html'), '<!doctype html>');
  writeFileSync(join(root, 'favicon.svg'), '<svg/>');
  writeFileSync(join(root, 'assets', 'index-BCL9eA9O.js'), 'x'.repeat(5000));
  writeFileSync(join(root, 'assets', 'index-BCL9eA9O.js.br'), 'b'.repeat(10));
  writeFileSync(join(root, 'assets', 'index-BCL9eA9O.js.gz'), 'g'.repeat(20));
  writeFileSync(join(root, 'assets', 'index-DdgMOE-S.css'), 'body{}');
  writeFileSync(join(root, 'assets', 'index-DdgMOE-S.css.gz'), 'stale');
  // A copy older than its file (left over from an earlier build) must not be sent.
  utimesSync(join(root, 'assets', 'index-DdgMOE-S.css.gz'), new Date(2000, 0, 1), new Date(2000, 0, 1));
  const files = new StaticFiles(root);
  afterAll(() => dir.cleanup());

  it('reads Accept-Encoding with q-values and wildcards', () => {
    expect([...acceptedEncodings('gzip, deflate, br')].sort()).toEqual(['br', 'gzip']);
    expect([...acceptedEncodings('gzip;q=1, br;q=0')]).toEqual(['gzip']);
    expect([...acceptedEncodings('*')].sort()).toEqual(['br', 'gzip']);
    expect([...acceptedEncodings('*;q=0.5, br;q=0')]).toEqual(['gzip']);
    expect([...acceptedEncodings('identity')]).toEqual([]);
    expect([...acceptedEncodings(undefined)]).toEqual([]);
  });

  it('sends brotli, else gzip, else the file itself, with its own length and Vary', async () => {
    const js = (await files.lookup('/assets/index-BCL9eA9O.js'))!;
    const br = staticReply(requestWith('gzip, br'), js);
    expect(br.path.endsWith('.js.br')).toBe(true);
    expect(br.headers).toMatchObject({ 'Content-Encoding': 'br', 'Content-Length': '10', Vary: 'Accept-Encoding', 'Content-Type': 'text/javascript; charset=utf-8' });
    const gz = staticReply(requestWith('gzip'), js);
    expect(gz.headers).toMatchObject({ 'Content-Encoding': 'gzip', 'Content-Length': '20' });
    const plain = staticReply(requestWith(), js);
    expect(plain.path.endsWith('.js')).toBe(true);
    expect(plain.headers['Content-Encoding']).toBeUndefined();
    expect(plain.headers['Content-Length']).toBe('5000');
  });

  it('keeps hashed assets for a year, revalidates other files and never caches the page', async () => {
    expect(staticReply(requestWith(), (await files.lookup('/assets/index-BCL9eA9O.js'))!).headers['Cache-Control']).toBe(
      'private, max-age=31536000, immutable',
    );
    expect(staticReply(requestWith(), (await files.lookup('/favicon.svg'))!).headers['Cache-Control']).toBe('private, no-cache');
    const page = staticReply(requestWith('br'), (await files.lookup('/'))!);
    expect(page.headers['Cache-Control']).toBe('no-store');
    expect(page.headers.Vary).toBeUndefined();
  });

  it('ignores a stale precompressed copy', async () => {
    const css = (await files.lookup('/assets/index-DdgMOE-S.css'))!;
    expect(css.variants).toEqual([]);
    expect(staticReply(requestWith('gzip'), css).headers['Content-Encoding']).toBeUndefined();
  });
});
