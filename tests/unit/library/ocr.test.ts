import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseFile } from '../../../src-main/core/library/parse/parseFile';
import { DocumentProblem, type ParsedDocument } from '../../../src-main/core/library/types';
import { writeDocFixtures, type DocFixtures } from '../../support/docFixtures';
import { SCANNED_LINES, TYPED_LINE, writeOcrFixtures, type OcrFixtures } from '../../support/ocrFixtures';
import { tempDir } from '../../support/tempDir';

const MAX_BYTES = 50 * 1024 * 1024;
const withOcr = (path: string, deadline = Date.now() + 180_000): Promise<ParsedDocument> =>
  parseFile(path, { maxBytes: MAX_BYTES, ocr: { deadline, maxRssBytes: 4096 * 1024 * 1024 } });
const withoutOcr = (path: string): Promise<ParsedDocument> => parseFile(path, { maxBytes: MAX_BYTES });

async function problemOf(promise: Promise<unknown>): Promise<DocumentProblem> {
  const error: unknown = await promise.then(
    () => new Error('expected a DocumentProblem, but the parse succeeded'),
    (caught: unknown) => caught,
  );
  if (error instanceof DocumentProblem) return error;
  throw error;
}

/** Words as OCR may space them: lower case, letters and digits only. */
const words = (text: string): string => text.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();

/** OCR in the parser: tesseract.js with its English data from node_modules, offline; pdf.js renders scanned pages. */
describe('OCR', () => {
  let dir: ReturnType<typeof tempDir>;
  let fixtures: OcrFixtures;
  let docs: DocFixtures;
  beforeAll(async () => {
    dir = tempDir();
    fixtures = await writeOcrFixtures(dir.path);
    docs = await writeDocFixtures(dir.path);
  });
  afterAll(() => dir.cleanup());

  it('reads an image-only PDF page into text on that page', async () => {
    const started = Date.now();
    const doc = await withOcr(fixtures.scannedPdf);
    console.log(`OCR of one scanned A4 page: ${Date.now() - started} ms (tesseract start-up included)`);
    expect(doc).toMatchObject({ format: 'pdf', pageCount: 1, warnings: [] });
    expect(doc.blocks.every((block) => block.page === 1)).toBe(true);
    expect(words(doc.blocks.map((block) => block.text).join(' '))).toBe(words(SCANNED_LINES.join(' ')));
  }, 240_000);

  it('keeps typed pages as they are and reads the scanned page in its place', async () => {
    const doc = await withOcr(fixtures.mixedPdf);
    expect(doc.blocks[0]).toEqual({ kind: 'paragraph', text: TYPED_LINE, page: 1 });
    expect(words(doc.blocks.slice(1).map((block) => block.text).join(' '))).toBe(words(SCANNED_LINES.join(' ')));
    expect(doc.blocks.slice(1).every((block) => block.page === 2)).toBe(true);
  }, 240_000);

  it('reads PNG images as documents; a file named .jpg that is no image is CORRUPT', async () => {
    const doc = await withOcr(fixtures.png);
    expect(doc.format).toBe('image');
    expect(words(doc.blocks.map((block) => block.text).join(' '))).toBe(words(SCANNED_LINES.join(' ')));
    expect(await problemOf(withOcr(fixtures.fakeJpeg))).toMatchObject({ code: 'CORRUPT' });
  }, 240_000);

  it('a picture without text is still NO_TEXT, saying OCR found none; past the deadline pages are left unread, with a warning', async () => {
    expect(await problemOf(withOcr(docs.scannedPdf))).toMatchObject({ code: 'NO_TEXT', message: expect.stringMatching(/OCR found no text/) });
    const late = await withOcr(fixtures.mixedPdf, Date.now() - 1);
    expect(late.blocks).toEqual([{ kind: 'paragraph', text: TYPED_LINE, page: 1 }]);
    expect(late.warnings).toEqual([expect.stringMatching(/^1 of 2 pages have no text and OCR ran out of time before it read them: page 2$/)]);
  }, 240_000);

  it('past the memory limit (resident memory, which holds the WebAssembly memory outside the JavaScript heap) it is OUT_OF_MEMORY', async () => {
    const tight = parseFile(fixtures.png, { maxBytes: MAX_BYTES, ocr: { deadline: Date.now() + 180_000, maxRssBytes: 1024 * 1024 } });
    expect(await problemOf(tight)).toMatchObject({ code: 'OUT_OF_MEMORY', message: expect.stringMatching(/1 MB the parser may use for OCR/) });
    // The recognizer it stopped is not reused: the next file starts a fresh one.
    expect((await withOcr(fixtures.png)).format).toBe('image');
  }, 240_000);

  it('with OCR off (the default) scans are NO_TEXT and images UNSUPPORTED, both saying how to turn it on', async () => {
    expect(await problemOf(withoutOcr(fixtures.scannedPdf))).toMatchObject({ code: 'NO_TEXT', message: expect.stringMatching(/turn on OCR/) });
    expect(await problemOf(withoutOcr(fixtures.png))).toMatchObject({ code: 'UNSUPPORTED', message: expect.stringMatching(/image; turn on OCR/) });
  });
});
