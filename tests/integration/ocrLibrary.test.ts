import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Core } from '../../src-main/core/createCore';
import { createLibraryCore, indexPath, waitUntil } from '../support/libraryCore';
import { writeOcrFixtures, type OcrFixtures } from '../support/ocrFixtures';
import { tempDir } from '../support/tempDir';

/**
 * OCR as a user meets it: off by default, so a scanned PDF and a photo of a notice are skipped
 * with a reason that says how to read them; turning the setting on reads them again at once, in
 * the parser process, and their words become searchable.
 */
describe('OCR in the library', () => {
  let core: Core;
  let fixtures: OcrFixtures;
  const cleanups: (() => Promise<void> | void)[] = [];
  const doc = (path: string) => core.library.documents({}).find((candidate) => candidate.path === path);

  beforeAll(async () => {
    // A scanned A4 page takes seconds on an idle machine and far longer on a loaded one; the time-out is for hostile files.
    const lib = await createLibraryCore({ parser: { timeoutMs: 240_000 } });
    cleanups.push(lib.cleanup);
    core = lib.core;
    const dir = tempDir('hearth-ocr-');
    cleanups.push(dir.cleanup);
    fixtures = await writeOcrFixtures(dir.path);
    await indexPath(core, dir.path, 'Scans');
  }, 120_000);

  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });

  it('is off by default: scans and images are skipped, saying how to turn it on', () => {
    expect(core.settings.get().ocr).toBe(false);
    expect(doc(fixtures.scannedPdf)).toMatchObject({ status: 'skipped', reasonCode: 'NO_TEXT', reason: expect.stringMatching(/turn on OCR/) });
    expect(doc(fixtures.png)).toMatchObject({ status: 'skipped', reasonCode: 'UNSUPPORTED', reason: expect.stringMatching(/turn on OCR/) });
    expect(doc(join(fixtures.scannedPdf, '..', 'photo.jpg'))).toMatchObject({ status: 'skipped', reasonCode: 'UNSUPPORTED' });
  });

  it('turned on, it reads the skipped scan and image again, and a scanned-only PDF becomes searchable', async () => {
    core.settings.update({ ocr: true });
    await waitUntil(() => doc(fixtures.scannedPdf)?.status === 'indexed' && doc(fixtures.png)?.status === 'indexed', 'the scans to be read by OCR', 240_000);
    expect(doc(fixtures.scannedPdf)).toMatchObject({ pageCount: 1 });
    expect(doc(fixtures.fakeJpeg)).toMatchObject({ status: 'failed', reasonCode: 'CORRUPT' });
    const hits = await core.library.search({ query: 'lighthouse keeper trims the lamp', mode: 'bm25', limit: 5 });
    expect(hits.map((hit) => hit.path)).toEqual(expect.arrayContaining([fixtures.scannedPdf, fixtures.png]));
    expect(hits.find((hit) => hit.path === fixtures.scannedPdf)?.location.pageStart).toBe(1);
  }, 300_000);
});
