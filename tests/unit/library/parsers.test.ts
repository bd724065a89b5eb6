import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import iconv from 'iconv-lite';
import JSZip from 'jszip';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatFor, languageFor } from '../../../src-main/core/library/parse/detectFormat';
import { htmlToBlocks } from '../../../src-main/core/library/parse/htmlToBlocks';
import { parseCsv } from '../../../src-main/core/library/parse/parseCsv';
import { parseFile } from '../../../src-main/core/library/parse/parseFile';
import { parseHtml } from '../../../src-main/core/library/parse/parseHtml';
import { parseMarkdown } from '../../../src-main/core/library/parse/parseMarkdown';
import { DocumentProblem, type Block, type DocumentProblemCode } from '../../../src-main/core/library/types';
import {
  ENCRYPTED_PDF_PASSWORD,
  LATIN1_TEXT,
  PDF_TITLE,
  UTF16_TEXT,
  UTF8_TEXT,
  writeDocFixtures,
  type DocFixtures,
} from '../../support/docFixtures';
import { tempDir } from '../../support/tempDir';

const MAX_BYTES = 200 * 1024 * 1024;

async function problemOf(promise: Promise<unknown>): Promise<DocumentProblem> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof DocumentProblem) return error;
    throw error;
  }
  throw new Error('expected a DocumentProblem, but the parse succeeded');
}

async function expectProblem(path: string, code: DocumentProblemCode, message?: RegExp, maxBytes = MAX_BYTES): Promise<void> {
  const problem = await problemOf(parseFile(path, { maxBytes }));
  expect(problem.code).toBe(code);
  if (message) expect(problem.message).toMatch(message);
}

const parse = (path: string) => parseFile(path, { maxBytes: MAX_BYTES });
const bytes = (text: string) => Buffer.from(text);

describe('document parsers', () => {
  let dir: ReturnType<typeof tempDir>;
  let fixtures: DocFixtures;
  beforeAll(async () => {
    dir = tempDir();
    fixtures = await writeDocFixtures(dir.path);
  });
  afterAll(() => dir.cleanup());

  describe('markdown', () => {
    it('keeps headings with levels, lists, code, tables and source line ranges; front matter is skipped', async () => {
      const doc = await parse(fixtures.markdown);
      expect(doc.format).toBe('markdown');
      expect(doc.title).toBe('Field Guide to Tidepools');
      expect(doc.encoding).toBe('UTF-8');
      expect(doc.blocks).toEqual<Block[]>([
        { kind: 'heading', level: 1, text: 'Tidepool Basics', lineStart: 6, lineEnd: 6 },
        { kind: 'paragraph', text: 'Tidepools form where the ocean\nmeets rocky shores.', lineStart: 8, lineEnd: 9 },
        { kind: 'heading', level: 2, text: 'Creatures', lineStart: 11, lineEnd: 11 },
        { kind: 'list', text: '- Sea anemone\n- Hermit crab\n  - Blue-banded hermit\n- Ochre star', lineStart: 13, lineEnd: 16 },
        { kind: 'list', text: '1. Check the tide table\n2. Wear grippy shoes', lineStart: 18, lineEnd: 19 },
        { kind: 'code', text: 'echo "low tide at 6:40"', lineStart: 21, lineEnd: 23 },
        { kind: 'table', text: 'Creature | Zone\nAnemone | Middle\nBarnacle | High', lineStart: 25, lineEnd: 28 },
        { kind: 'heading', level: 2, text: 'Safety Notes', lineStart: 30, lineEnd: 31 },
        { kind: 'paragraph', text: 'Leave every rock as you found it.', lineStart: 33, lineEnd: 33 },
      ]);
    });

    it('reads setext h1, indented code, nested ordered lists, CRLF endings, unclosed fences and MDX statements', () => {
      const source = [
        "import Chart from './chart'", // 1 (MDX only)
        '',
        'Release Notes', // 3
        '=============', // 4
        '',
        '3. third', // 6
        '4. fourth',
        '   1. nested one',
        '', // 9: a loose list continues
        '5. fifth', // 10
        '',
        'Text before code.', // 12
        '',
        '    const x = 1;', // 14
        '', // 15
        '    return x;', // 16
        '',
        '```', // 18
        'never closed', // 19
      ].join('\r\n');
      const doc = parseMarkdown(bytes(source), 'notes.mdx');
      expect(doc.title).toBe('Release Notes');
      expect(doc.blocks).toEqual<Block[]>([
        { kind: 'heading', level: 1, text: 'Release Notes', lineStart: 3, lineEnd: 4 },
        { kind: 'list', text: '3. third\n4. fourth\n  1. nested one\n5. fifth', lineStart: 6, lineEnd: 10 },
        { kind: 'paragraph', text: 'Text before code.', lineStart: 12, lineEnd: 12 },
        { kind: 'code', text: 'const x = 1;\n\nreturn x;', lineStart: 14, lineEnd: 16 },
        { kind: 'code', text: 'never closed', lineStart: 18, lineEnd: 19 },
      ]);
    });
  });

  describe('plain text', () => {
    it('splits paragraphs at blank lines with line ranges', async () => {
      const doc = await parse(fixtures.utf8Text);
      expect(doc).toMatchObject({ format: 'text', title: null, encoding: 'UTF-8' });
      expect(doc.blocks).toEqual<Block[]>([
        { kind: 'paragraph', text: UTF8_TEXT.split('\n')[0] ?? '', lineStart: 1, lineEnd: 1 },
        { kind: 'paragraph', text: 'Second paragraph about lighthouses.\nIt spans two lines.', lineStart: 3, lineEnd: 4 },
      ]);
    });

    it('decodes UTF-16 (both byte orders) and Windows-1252', async () => {
      for (const [path, encoding] of [
        [fixtures.utf16le, 'UTF-16LE'],
        [fixtures.utf16be, 'UTF-16BE'],
      ] as const) {
        const doc = await parse(path);
        expect(doc.encoding).toBe(encoding);
        expect(doc.blocks.map((block) => block.text).join('\n\n')).toBe(UTF16_TEXT.trim());
      }
      const latin = await parse(fixtures.latin1Text);
      expect(latin.encoding).toBe('windows-1252');
      expect(latin.blocks[0]?.text).toBe('Le café du coin sert un croissant délicieux, naïve résumé – “quotes” included.');
      expect(latin.blocks.map((block) => block.text).join('\n\n')).toBe(LATIN1_TEXT.trim());
    });
  });

  describe('PDF', () => {
    it('reads the text layer page by page, with headings, the page count and the metadata title', async () => {
      const doc = await parse(fixtures.pdf);
      expect(doc).toMatchObject({ format: 'pdf', title: PDF_TITLE, pageCount: 3, warnings: [] });
      expect(doc.blocks.every((block) => typeof block.page === 'number')).toBe(true);
      expect(doc.blocks.filter((block) => block.kind === 'heading')).toEqual<Block[]>([
        { kind: 'heading', level: 1, text: 'Chapter One: The Lamp', page: 1 },
        { kind: 'heading', level: 1, text: 'Chapter Two: The Foghorn', page: 2 },
        { kind: 'heading', level: 1, text: 'Chapter Three: The Logbook', page: 3 },
      ]);
      // Two drawn lines with normal spacing are one paragraph; the wider gap starts another.
      expect(doc.blocks).toContainEqual<Block>({ kind: 'paragraph', text: 'Sound the foghorn every thirty seconds while visibility stays under one nautical mile.', page: 2 });
      expect(doc.blocks).toContainEqual<Block>({ kind: 'paragraph', text: 'Check the compressor pressure each hour.', page: 2 });
      expect(doc.blocks.find((block) => block.text.includes('logbook records'))?.page).toBe(3);
    });

    it('warns about pages without text among pages with text', async () => {
      const doc = await parse(fixtures.partlyScannedPdf);
      expect(doc.pageCount).toBe(3);
      expect(doc.blocks.map((block) => [block.text, block.page])).toEqual([
        ['Typed cover letter', 1],
        ['Typed appendix', 3],
      ]);
      expect(doc.warnings).toEqual([expect.stringMatching(/^1 of 3 pages have no text.*page 2$/)]);
    });

    it('a scanned (image-only) PDF is NO_TEXT, saying it would need OCR', async () => {
      await expectProblem(fixtures.scannedPdf, 'NO_TEXT', /scanned.*OCR/);
    });

    it('a password-protected PDF is ENCRYPTED; the fixture really is encrypted with its password', async () => {
      await expectProblem(fixtures.encryptedPdf, 'ENCRYPTED', /password/);
      const pdfjs = await import('pdfjs-dist/legacy/build/pdf.mjs');
      const data = async () => new Uint8Array(await readFile(fixtures.encryptedPdf));
      const pdf = await pdfjs.getDocument({ data: await data(), password: ENCRYPTED_PDF_PASSWORD, isEvalSupported: false, verbosity: 0 }).promise;
      const content = await (await pdf.getPage(2)).getTextContent();
      expect(content.items.map((item) => ('str' in item ? item.str : '')).join(' ')).toContain('Sound the foghorn');
      expect((await pdf.getMetadata()).info).toMatchObject({ Title: PDF_TITLE, EncryptFilterName: 'Standard' });
      await pdf.destroy();
      await expect(pdfjs.getDocument({ data: await data(), password: 'wrong', verbosity: 0 }).promise).rejects.toMatchObject({ name: 'PasswordException' });
    });

    it('a corrupt or truncated PDF is CORRUPT', async () => {
      await expectProblem(fixtures.corruptPdf, 'CORRUPT', /PDF/);
      await expectProblem(fixtures.truncatedPdf, 'CORRUPT');
    });
  });

  describe('DOCX', () => {
    it('keeps the title, headings, nested and numbered lists and tables', async () => {
      const doc = await parse(fixtures.docx);
      expect(doc).toMatchObject({ format: 'docx', title: 'Harbour Survey 2024', warnings: [] });
      expect(doc.blocks).toEqual<Block[]>([
        { kind: 'heading', level: 1, text: 'Harbour Survey' },
        { kind: 'heading', level: 1, text: 'Tide tables' },
        { kind: 'paragraph', text: 'The north pier floods at spring tide.' },
        { kind: 'heading', level: 2, text: 'Mooring rules' },
        { kind: 'list', text: '- Use two bow lines\n  - Fenders on the seaward side\n- Log every arrival' },
        { kind: 'list', text: '1. Radio the harbour master\n2. Wait for the green light' },
        { kind: 'table', text: 'Berth | Depth\nA1 | 4.2 m\nB7 | 6.0 m' },
      ]);
    });

    it('a file that is not a zip is CORRUPT; an encrypted Office file is ENCRYPTED', async () => {
      const notZip = join(dir.path, 'not-a-zip.docx');
      writeFileSync(notZip, 'this is plain text, not a Word document');
      await expectProblem(notZip, 'CORRUPT', /not a zip/);
      const brokenZip = join(dir.path, 'broken.docx');
      writeFileSync(brokenZip, Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(200, 7)]));
      await expectProblem(brokenZip, 'CORRUPT');
      const encrypted = join(dir.path, 'locked.docx');
      const ole = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]);
      writeFileSync(encrypted, Buffer.concat([ole, Buffer.alloc(504), Buffer.from('EncryptionInfo\0EncryptedPackage', 'utf16le'), Buffer.alloc(512)]));
      await expectProblem(encrypted, 'ENCRYPTED', /password/);
    });
  });

  describe('HTML', () => {
    it('decodes the declared windows-1252 charset and keeps only the article, without boilerplate', async () => {
      const doc = await parse(fixtures.html);
      expect(doc).toMatchObject({ format: 'html', title: 'Café Guide – Lisbon', encoding: 'windows-1252' });
      expect(doc.blocks).toEqual<Block[]>([
        { kind: 'heading', level: 1, text: 'Café culture in Lisbon' },
        { kind: 'paragraph', text: 'The pastéis de nata are best “warm” – never cold.' },
        { kind: 'heading', level: 2, text: 'Where to go' },
        { kind: 'list', text: '- Café A Brasileira\n- Pastelaria Versailles' },
        { kind: 'table', text: 'Café | Opens\nBrasileira | 8:00' },
      ]);
      expect(JSON.stringify(doc.blocks)).not.toMatch(/BOILERPLATE/);
    });

    it('without <main> or <article> reads the body, still dropping page header, nav, footer, scripts and forms', () => {
      const html = `<html><head><meta http-equiv="Content-Type" content="text/html; charset=ISO-8859-1"></head><body>
        <header>Site header</header><nav>Menu</nav>
        <div><h3>Résumé</h3><p>First line<br>second   line</p>
        <ol start="3"><li>three<ul><li>sub</li></ul></li><li value="7">seven</li></ol>
        <pre>  indented\n    code</pre><form><input name="q"><button>Search</button></form>
        <section><header><h2>Section title</h2></header><p>In section.</p></section></div>
        <script>alert(1)</script><footer>Footer</footer></body></html>`;
      const doc = parseHtml(iconv.encode(html, 'latin1'), 'page.html');
      expect(doc.encoding).toBe('windows-1252');
      expect(doc.title).toBeNull(); // no <title>, no h1
      expect(doc.blocks).toEqual<Block[]>([
        { kind: 'heading', level: 3, text: 'Résumé' },
        { kind: 'paragraph', text: 'First line\nsecond line' },
        { kind: 'list', text: '3. three\n  - sub\n7. seven' },
        { kind: 'code', text: '  indented\n    code' },
        { kind: 'heading', level: 2, text: 'Section title' },
        { kind: 'paragraph', text: 'In section.' },
      ]);
    });

    it('htmlToBlocks reads layout tables as blocks and data tables as rows', () => {
      expect(htmlToBlocks('<table><tr><td><h2>Side</h2><p>Body text</p></td></tr></table><table><caption>Prices</caption><thead><tr><th>Item</th><th>Cost</th></tr></thead><tbody><tr><td>Tea</td><td>2</td></tr></tbody></table>')).toEqual<Block[]>([
        { kind: 'heading', level: 2, text: 'Side' },
        { kind: 'paragraph', text: 'Body text' },
        { kind: 'paragraph', text: 'Prices' },
        { kind: 'table', text: 'Item | Cost\nTea | 2' },
      ]);
    });
  });

  describe('EPUB', () => {
    it('reads chapters in spine order, each under a level-1 heading with its table-of-contents title', async () => {
      const doc = await parse(fixtures.epub);
      expect(doc).toMatchObject({ format: 'epub', title: 'The Lighthouse Almanac', warnings: [] });
      expect(doc.blocks).toEqual<Block[]>([
        // The chapter's own h1 says the same as its TOC entry, so it is not repeated.
        { kind: 'heading', level: 1, text: 'Keepers of the Flame' },
        { kind: 'paragraph', text: 'The first keepers burned whale oil.' },
        { kind: 'heading', level: 3, text: 'Daily duties' },
        { kind: 'list', text: '- Trim the wick\n- Polish the lens' },
        { kind: 'heading', level: 1, text: 'Chapter 2: Storm Season' },
        { kind: 'heading', level: 2, text: 'Storm Season' },
        { kind: 'paragraph', text: 'Storms arrive in November & December.' },
        { kind: 'paragraph', text: 'Keep the shutters closed.' },
      ]);
    });

    it('falls back to the first heading without a table of contents; broken books are CORRUPT', async () => {
      const zip = new JSZip();
      zip.file('mimetype', 'application/epub+zip', { compression: 'STORE' });
      zip.file('META-INF/container.xml', '<container><rootfiles><rootfile full-path="book.opf"/></rootfiles></container>');
      zip.file(
        'book.opf',
        '<package xmlns="http://www.idpf.org/2007/opf"><metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Bare</dc:title></metadata><manifest><opf:item xmlns:opf="http://www.idpf.org/2007/opf" id="a" href="a.html" media-type="application/xhtml+xml"/></manifest><spine><itemref idref="a"/></spine></package>',
      );
      zip.file('a.html', '<html><body><h2>Only Chapter</h2><p>Text.</p></body></html>');
      const bare = join(dir.path, 'bare.epub');
      writeFileSync(bare, await zip.generateAsync({ type: 'nodebuffer' }));
      const doc = await parse(bare);
      expect(doc.title).toBe('Bare');
      expect(doc.blocks).toEqual<Block[]>([
        { kind: 'heading', level: 1, text: 'Only Chapter' },
        { kind: 'paragraph', text: 'Text.' },
      ]);

      zip.remove('META-INF/container.xml');
      const noContainer = join(dir.path, 'no-container.epub');
      writeFileSync(noContainer, await zip.generateAsync({ type: 'nodebuffer' }));
      await expectProblem(noContainer, 'CORRUPT', /package document/);
      const notZip = join(dir.path, 'not-zip.epub');
      writeFileSync(notZip, 'plain text');
      await expectProblem(notZip, 'CORRUPT', /zip/);
    });
  });

  describe('CSV', () => {
    it('reads RFC 4180 quoting (commas and newlines in fields); each row is a table block with the header and its lines', async () => {
      const doc = await parse(fixtures.csv);
      const header = 'name | city | notes';
      expect(doc.blocks).toEqual<Block[]>([
        { kind: 'table', text: 'name: Ada Lovelace; city: London; notes: Wrote the first program, in 1843', header, lineStart: 2, lineEnd: 2 },
        { kind: 'table', text: 'name: Grace Hopper; city: New York; notes: Found a moth\nin the relay', header, lineStart: 3, lineEnd: 4 },
        { kind: 'table', text: 'name: Alan Turing; city: Wilmslow; notes: Computing Machinery', header, lineStart: 5, lineEnd: 5 },
      ]);
    });

    it('sniffs semicolons and tabs, and handles escaped quotes, blank lines and CRLF', () => {
      const semicolons = parseCsv(bytes('city;price\r\n\r\n"Paris ""centre""";3,50\r\nLyon;2,90'), 'prices.csv');
      expect(semicolons.blocks).toEqual<Block[]>([
        { kind: 'table', text: 'city: Paris "centre"; price: 3,50', header: 'city | price', lineStart: 3, lineEnd: 3 },
        { kind: 'table', text: 'city: Lyon; price: 2,90', header: 'city | price', lineStart: 4, lineEnd: 4 },
      ]);
      const tabs = parseCsv(bytes('a\tb\n1\t2, with comma\n'), 'data.tsv');
      expect(tabs.blocks.map((block) => block.text)).toEqual(['a: 1; b: 2, with comma']);
    });
  });

  describe('source code', () => {
    it('splits at blank lines between top-level constructs, with line ranges (TypeScript)', async () => {
      const doc = await parse(fixtures.typescript);
      expect(doc.format).toBe('code');
      expect(doc.blocks.map((block) => [block.kind, block.lineStart, block.lineEnd])).toEqual([
        ['code', 1, 1],
        ['code', 3, 6],
        ['code', 8, 15],
        ['code', 17, 19],
      ]);
      expect(doc.blocks[2]?.text).toMatch(/^export function highest[\s\S]*return best;\n}$/);
    });

    it('keeps an indented blank-line gap inside one block (Python)', async () => {
      const doc = await parse(fixtures.python);
      expect(doc.blocks.map((block) => [block.lineStart, block.lineEnd, block.text.split('\n')[0]])).toEqual([
        [1, 2, 'import math'],
        [5, 8, 'def circle_area(radius):'],
        [11, 17, '@dataclass'],
      ]);
    });
  });

  describe('files that cannot be indexed', () => {
    it('EMPTY for zero-byte and whitespace-only files', async () => {
      await expectProblem(fixtures.empty, 'EMPTY');
      await expectProblem(fixtures.whitespace, 'EMPTY');
    });

    it('UNSUPPORTED for unknown extensions and binary content; TOO_LARGE past maxBytes; UNREADABLE when missing or not a file', async () => {
      const unknown = join(dir.path, 'disk.iso');
      writeFileSync(unknown, 'x');
      await expectProblem(unknown, 'UNSUPPORTED');
      const binary = join(dir.path, 'binary.txt');
      writeFileSync(binary, Buffer.from([0x00, 0x01, 0x02, 0x03, 0xff, 0x00, 0x13, 0x37, 0x00, 0x00, 0x42, 0x99]));
      await expectProblem(binary, 'UNSUPPORTED', /binary/);
      await expectProblem(fixtures.pdf, 'TOO_LARGE', /limit/, 1000);
      await expectProblem(join(dir.path, 'missing.md'), 'UNREADABLE', /ENOENT/);
      const folder = join(dir.path, 'folder.md');
      mkdirSync(folder);
      await expectProblem(folder, 'UNREADABLE', /not a regular file/);
    });
  });

  it('formatFor and languageFor go by extension and well-known names', () => {
    expect(['a.md', 'a.MDX', 'a.txt', 'a.log', 'a.pdf', 'a.docx', 'a.htm', 'a.epub', 'a.tsv', 'a.ts', 'x/Dockerfile', 'a.doc'].map(formatFor)).toEqual([
      'markdown',
      'markdown',
      'text',
      'text',
      'pdf',
      'docx',
      'html',
      'epub',
      'csv',
      'code',
      'code',
      null,
    ]);
    expect(languageFor('src/app.tsx')).toBe('typescript');
    expect(languageFor('main.PY')).toBe('python');
    expect(languageFor('notes.md')).toBeNull();
  });
});
