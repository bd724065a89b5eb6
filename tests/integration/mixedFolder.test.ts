import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import type { DocumentInfo } from '#contract/dto';
import { PDF_PAGES, writeDocFixtures, writeLargeText } from '../support/docFixtures';
import { createLibraryCore, indexPath } from '../support/libraryCore';
import { tempDir } from '../support/tempDir';

const runningAsRoot = process.getuid?.() === 0;

/**
 * A new user's folder: every format Hearth reads, and every kind of file that goes wrong —
 * scanned, password-protected, corrupt, truncated and empty documents, a 20 MB text file,
 * text in UTF-16 and windows-1252, deep nesting, a symlink loop, a broken link, a FIFO and an
 * unreadable file. One job indexes it; every file ends indexed, skipped or failed with a reason.
 */
describe('indexing a folder of mixed documents', () => {
  let core: Core;
  let root: string;
  let docs: DocumentInfo[];
  const cleanups: (() => Promise<void> | void)[] = [];
  const statusOf = (path: string) => {
    const doc = docs.find((d) => d.path === path);
    if (!doc) throw new Error(`${relative(root, path)} was not listed at all`);
    return doc;
  };

  beforeAll(async () => {
    // Files over 16 MB are refused before parsing (the default limit is 200 MB): the 20 MB file
    // must come back skipped with the reason, without minutes of embedding in the test run.
    const lib = await createLibraryCore({ parser: { maxBytes: 16 * 1024 * 1024 } });
    cleanups.push(lib.cleanup);
    core = lib.core;
    const dir = tempDir('hearth-mixed-');
    cleanups.push(dir.cleanup);
    root = dir.path;
    await writeDocFixtures(root);
    await writeLargeText(join(root, 'huge.txt'), 20 * 1024 * 1024);
    await writeLargeText(join(root, 'big.txt'), 64 * 1024);
    let deep = root;
    for (let i = 0; i < 40; i++) deep = join(deep, `level-${i}`);
    mkdirSync(deep, { recursive: true });
    writeFileSync(join(deep, 'bottom.md'), '# Bottom\n\nThe deepest note mentions a periscope.\n');
    mkdirSync(join(root, 'loop'));
    writeFileSync(join(root, 'loop', 'inside.txt'), 'A file inside the looping folder mentions a kaleidoscope.\n');
    symlinkSync(join(root, 'loop'), join(root, 'loop', 'again')); // loop/again -> loop
    symlinkSync(join(root, 'nowhere.md'), join(root, 'broken-link.md'));
    execFileSync('mkfifo', [join(root, 'pipe.txt')]);
    writeFileSync(join(root, 'secret.md'), '# Secret\n');
    chmodSync(join(root, 'secret.md'), 0o000);
    writeFileSync(join(root, 'photo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));

    await indexPath(core, root, 'Mixed');
    docs = core.library.documents({});
  }, 300_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('indexes every readable format', () => {
    for (const name of [
      'guide.md', 'notes-utf8.txt', 'notes-utf16le.txt', 'notes-utf16be.txt', 'notes-latin1.txt', 'handbook.pdf',
      'partly-scanned.pdf', 'survey.docx', 'cafe.html', 'almanac.epub', 'people.csv', 'tides.ts', 'shapes.py', 'big.txt',
    ]) {
      const doc = statusOf(join(root, name));
      expect(doc.status, `${name}: ${doc.reason}`).toBe('indexed');
      expect(doc.chunkCount, name).toBeGreaterThan(0);
    }
    expect(statusOf(join(root, 'big.txt')).chunkCount).toBeGreaterThan(50);
    expect(statusOf(join(root, 'handbook.pdf')).pageCount).toBe(3);
    expect(statusOf(join(root, 'partly-scanned.pdf')).reason).toMatch(/page/i);
  });

  it('reports every file that yields no text, with the reason', () => {
    const expectations: [string, 'skipped' | 'failed', string][] = [
      ['scanned.pdf', 'skipped', 'NO_TEXT'],
      ['locked.pdf', 'skipped', 'ENCRYPTED'],
      ['corrupt.pdf', 'failed', 'CORRUPT'],
      ['truncated.pdf', 'failed', 'CORRUPT'],
      ['empty.txt', 'skipped', 'EMPTY'],
      ['blank.txt', 'skipped', 'EMPTY'],
      ['photo.png', 'skipped', 'UNSUPPORTED'],
      ['pipe.txt', 'skipped', 'UNSUPPORTED'],
      ['broken-link.md', 'failed', 'UNREADABLE'],
      ['huge.txt', 'skipped', 'TOO_LARGE'],
    ];
    for (const [name, status, code] of expectations) {
      const doc = statusOf(join(root, name));
      expect({ name, status: doc.status, code: doc.reasonCode }).toEqual({ name, status, code });
      expect(doc.reason, name).toMatch(/\w{3,}/);
    }
    expect(statusOf(join(root, 'scanned.pdf')).reason).toMatch(/scanned|OCR/i);
    expect(statusOf(join(root, 'locked.pdf')).reason).toMatch(/password/i);
  });

  it('reads an unreadable file as failed (when not running as root, which can read anything)', () => {
    const doc = statusOf(join(root, 'secret.md'));
    if (runningAsRoot) expect(doc.status).toBe('indexed');
    else expect({ status: doc.status, code: doc.reasonCode }).toEqual({ status: 'failed', code: 'UNREADABLE' });
  });

  it('follows deep nesting and stops at a symlink loop', async () => {
    const deep = docs.find((d) => d.path.endsWith('bottom.md'));
    expect(deep?.status).toBe('indexed');
    const inside = docs.filter((d) => d.path.endsWith('inside.txt'));
    expect(inside.map((d) => relative(root, d.path))).toEqual([join('loop', 'inside.txt')]);
    expect(docs.find((d) => d.path === join(root, 'loop', 'again'))?.reason).toMatch(/already indexed/);
    expect((await core.library.search({ query: 'periscope', mode: 'bm25' }))[0]?.path).toBe(deep!.path);
  });

  it('keeps page numbers for PDF passages', async () => {
    for (const [i, page] of PDF_PAGES.entries()) {
      const hits = await core.library.search({ query: page.extra, mode: 'bm25', formats: ['pdf'] });
      const hit = hits.find((h) => h.path === join(root, 'handbook.pdf'));
      expect(hit?.location.pageStart, page.extra).toBe(i + 1);
    }
  });

  it('finds passages in every format', async () => {
    const probes: [string, string][] = [
      ['survey.docx', 'docx'],
      ['almanac.epub', 'epub'],
      ['cafe.html', 'html'],
      ['people.csv', 'csv'],
    ];
    for (const [name, format] of probes) {
      const hits = await core.library.search({ query: 'a', mode: 'vector', formats: [format as 'docx'] });
      expect(hits.map((h) => h.path), name).toContain(join(root, name));
    }
    const latin = await core.library.search({ query: 'café résumé', mode: 'bm25' });
    expect(latin.map((h) => h.path)).toContain(join(root, 'notes-latin1.txt'));
  });
});
