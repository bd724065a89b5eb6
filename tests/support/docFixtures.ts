/**
 * Real documents of every kind Hearth parses, generated with the libraries that write them
 * (pdf-lib, docx, jszip, iconv-lite), with known content for the parser tests to look for.
 */
import { createHash } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { constants as zlibConstants, crc32, deflateRawSync, deflateSync } from 'node:zlib';
import { AlignmentType, Document, HeadingLevel, LevelFormat, Packer, Paragraph, Table, TableCell, TableRow, TextRun } from 'docx';
import iconv from 'iconv-lite';
import JSZip from 'jszip';
import { PDFArray, PDFDict, PDFDocument, PDFHexString, PDFName, PDFRawStream, PDFString, StandardFonts, type PDFObject, type PDFRef } from 'pdf-lib';

export interface DocFixtures {
  markdown: string;
  utf8Text: string;
  utf16le: string;
  utf16be: string;
  latin1Text: string;
  pdf: string;
  scannedPdf: string;
  /** Text on pages 1 and 3, only an image on page 2. */
  partlyScannedPdf: string;
  encryptedPdf: string;
  corruptPdf: string;
  truncatedPdf: string;
  docx: string;
  html: string;
  epub: string;
  csv: string;
  typescript: string;
  python: string;
  empty: string;
  whitespace: string;
}

export const ENCRYPTED_PDF_PASSWORD = 'secret';

/** Line numbers in the comments are what the parser must report. */
export const MARKDOWN_SOURCE = [
  '---', // 1 front matter
  'title: Field Guide to Tidepools',
  'tags: [nature]',
  '---',
  '',
  '# Tidepool Basics', // 6
  '',
  'Tidepools form where the ocean', // 8
  'meets rocky shores.', // 9
  '',
  '## Creatures', // 11
  '',
  '- Sea anemone', // 13
  '- Hermit crab',
  '  - Blue-banded hermit',
  '- Ochre star', // 16
  '',
  '1. Check the tide table', // 18
  '2. Wear grippy shoes', // 19
  '',
  '```bash', // 21
  'echo "low tide at 6:40"',
  '```', // 23
  '',
  '| Creature | Zone |', // 25
  '| --- | --- |',
  '| Anemone | Middle |',
  '| Barnacle | High |', // 28
  '',
  'Safety Notes', // 30
  '------------', // 31
  '',
  '> Leave every rock as you found it.', // 33
  '',
].join('\n');

export const UTF8_TEXT = 'Plain notes in UTF-8: naïve façade, 日本語のテキスト, waves 🌊.\n\nSecond paragraph about lighthouses.\nIt spans two lines.\n';
export const UTF16_TEXT = 'Ünïcödé sixteen: Zürich façade, Ελληνικά, 中文.\n\nA second paragraph.\n';
export const LATIN1_TEXT =
  'Le café du coin sert un croissant délicieux, naïve résumé – “quotes” included.\n\n' +
  'À côté, la pâtisserie française propose des crêpes et des éclairs très appréciés.\n' +
  'Déjà vu: où est la bibliothèque? Voilà, c’est à gauche après l’église.\n';

export const PDF_TITLE = 'Lighthouse Keeper Handbook';
/** Distinct words per page, so a test can tell which page a block came from. */
export const PDF_PAGES = [
  { heading: 'Chapter One: The Lamp', body: ['The lamp must be trimmed at dusk every evening', 'before the first ship passes the northern reef.'], extra: 'Spare wicks are kept in the oak cabinet.' },
  { heading: 'Chapter Two: The Foghorn', body: ['Sound the foghorn every thirty seconds while', 'visibility stays under one nautical mile.'], extra: 'Check the compressor pressure each hour.' },
  { heading: 'Chapter Three: The Logbook', body: ['Every entry in the logbook records the wind,', 'the weather and each vessel that was sighted.'], extra: 'Sign each page at the end of the watch.' },
] as const;

export const CSV_SOURCE = 'name,city,notes\nAda Lovelace,London,"Wrote the first program, in 1843"\nGrace Hopper,"New York","Found a moth\nin the relay"\nAlan Turing,Wilmslow,Computing Machinery\n';

export const TYPESCRIPT_SOURCE = [
  "import { readFile } from 'node:fs/promises';", // 1
  '',
  'export interface Tide {', // 3
  '  height: number;',
  '  time: string;',
  '}', // 6
  '',
  'export function highest(tides: Tide[]): Tide | undefined {', // 8
  '  let best: Tide | undefined;',
  '',
  '  for (const tide of tides) {',
  '    if (!best || tide.height > best.height) best = tide;',
  '  }',
  '  return best;',
  '}', // 15
  '',
  'export async function loadTides(path: string): Promise<Tide[]> {', // 17
  "  return JSON.parse(await readFile(path, 'utf8')) as Tide[];",
  '}', // 19
  '',
].join('\n');

export const PYTHON_SOURCE = [
  'import math', // 1
  'from dataclasses import dataclass', // 2
  '',
  '',
  'def circle_area(radius):', // 5
  '    """Area of a circle."""',
  '',
  '    return math.pi * radius ** 2', // 8
  '',
  '',
  '@dataclass', // 11
  'class Lighthouse:',
  '    name: str',
  '    height_m: float',
  '',
  '    def beam_range(self):',
  '        return 2.1 * math.sqrt(self.height_m)', // 17
  '',
].join('\n');

export const HTML_SOURCE = `<!DOCTYPE html>
<html lang="pt">
<head>
<meta charset="windows-1252">
<title>Café Guide – Lisbon</title>
<style>body { font-family: serif; }</style>
<script>var tracking = "SCRIPT_BOILERPLATE";</script>
</head>
<body>
<header><a href="/">Home</a> SITE_HEADER_BOILERPLATE</header>
<nav><ul><li><a href="/a">NAV_BOILERPLATE</a></li></ul></nav>
<article>
<h1>Café culture in Lisbon</h1>
<p>The pastéis de nata are best “warm” – never cold.</p>
<h2>Where to go</h2>
<ul><li>Café A Brasileira</li><li>Pastelaria Versailles</li></ul>
<table><tr><th>Café</th><th>Opens</th></tr><tr><td>Brasileira</td><td>8:00</td></tr></table>
</article>
<aside>SIDEBAR_BOILERPLATE</aside>
<footer>© 2024 FOOTER_BOILERPLATE</footer>
</body>
</html>
`;

export const EPUB_TITLE = 'The Lighthouse Almanac';

/** Writes every fixture into `dir` and returns their absolute paths. */
export async function writeDocFixtures(dir: string): Promise<DocFixtures> {
  const path = (name: string): string => join(dir, name);
  const fixtures: DocFixtures = {
    markdown: path('guide.md'),
    utf8Text: path('notes-utf8.txt'),
    utf16le: path('notes-utf16le.txt'),
    utf16be: path('notes-utf16be.txt'),
    latin1Text: path('notes-latin1.txt'),
    pdf: path('handbook.pdf'),
    scannedPdf: path('scanned.pdf'),
    partlyScannedPdf: path('partly-scanned.pdf'),
    encryptedPdf: path('locked.pdf'),
    corruptPdf: path('corrupt.pdf'),
    truncatedPdf: path('truncated.pdf'),
    docx: path('survey.docx'),
    html: path('cafe.html'),
    epub: path('almanac.epub'),
    csv: path('people.csv'),
    typescript: path('tides.ts'),
    python: path('shapes.py'),
    empty: path('empty.txt'),
    whitespace: path('blank.txt'),
  };
  const pdf = await textPdf();
  await Promise.all([
    writeFile(fixtures.markdown, MARKDOWN_SOURCE),
    writeFile(fixtures.utf8Text, UTF8_TEXT),
    writeFile(fixtures.utf16le, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(UTF16_TEXT, 'utf16le')])),
    writeFile(fixtures.utf16be, Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(UTF16_TEXT, 'utf16le').swap16()])),
    writeFile(fixtures.latin1Text, iconv.encode(LATIN1_TEXT, 'windows-1252')),
    writeFile(fixtures.pdf, pdf),
    writeFile(fixtures.scannedPdf, await scannedPdf()),
    writeFile(fixtures.partlyScannedPdf, await partlyScannedPdf()),
    writeFile(fixtures.encryptedPdf, await encryptPdf(await textPdf(), ENCRYPTED_PDF_PASSWORD, 'owner-password')),
    writeFile(fixtures.corruptPdf, Buffer.concat([Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1'), pseudoRandomBytes(4096, 7)])),
    writeFile(fixtures.truncatedPdf, pdf.subarray(0, Math.floor(pdf.length / 3))),
    writeFile(fixtures.docx, await docx()),
    writeFile(fixtures.html, iconv.encode(HTML_SOURCE, 'windows-1252')),
    writeFile(fixtures.epub, await epub()),
    writeFile(fixtures.csv, CSV_SOURCE),
    writeFile(fixtures.typescript, TYPESCRIPT_SOURCE),
    writeFile(fixtures.python, PYTHON_SOURCE),
    writeFile(fixtures.empty, ''),
    writeFile(fixtures.whitespace, '  \n\t\n   \r\n\n'),
  ]);
  return fixtures;
}

const WORDS = (
  'harbour lantern tide keeper beacon granite shoreline current gull compass storm anchor ' +
  'mariner channel reef signal horizon drift brass rope ledger watch evening morning pier ' +
  'fog whistle island north south pilot vessel cargo timber salt kelp cliff barometer'
).split(' ');

/** A text file of about `bytes` bytes of varied sentences in paragraphs, written in 1 MB pieces. */
export async function writeLargeText(path: string, bytes: number): Promise<void> {
  const random = mulberry32(42);
  const pick = (): string => WORDS[Math.floor(random() * WORDS.length)] ?? 'tide';
  const file = await open(path, 'w');
  try {
    let written = 0;
    let sentence = 0;
    while (written < bytes) {
      const parts: string[] = [];
      let size = 0;
      while (size < 1024 * 1024 && written + size < bytes) {
        const length = 6 + Math.floor(random() * 12);
        const words = Array.from({ length }, pick);
        const first = words[0] ?? 'the';
        words[0] = first[0]?.toUpperCase() + first.slice(1);
        sentence++;
        const line = `${words.join(' ')} number ${sentence}.${sentence % 5 === 0 ? '\n\n' : '\n'}`;
        parts.push(line);
        size += line.length;
      }
      const chunk = parts.join('');
      await file.write(chunk);
      written += Buffer.byteLength(chunk);
    }
  } finally {
    await file.close();
  }
}

/**
 * A .docx whose word/document.xml inflates to `uncompressedMb` MB of repetitive XML while the
 * file stays small: a zip bomb. The deflate stream is one compressed megabyte repeated, which
 * is valid because each copy ends in a full flush (byte-aligned, no references across).
 */
export async function writeZipBombDocx(path: string, uncompressedMb: number): Promise<void> {
  const prefix = Buffer.from(
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>',
  );
  const unit = '<w:p><w:r><w:t>all work and no play makes the parser a dull boy</w:t></w:r></w:p>';
  const chunk = Buffer.from(unit.repeat(Math.floor((1024 * 1024) / unit.length)));
  const suffix = Buffer.from('</w:body></w:document>');
  const flushed = { level: 9, finishFlush: zlibConstants.Z_FULL_FLUSH };
  const chunkDeflated = deflateRawSync(chunk, flushed);
  const deflated = Buffer.concat([deflateRawSync(prefix, flushed), ...Array.from({ length: uncompressedMb }, () => chunkDeflated), deflateRawSync(suffix)]);
  let crc = crc32(prefix);
  for (let i = 0; i < uncompressedMb; i++) crc = crc32(chunk, crc);
  crc = crc32(suffix, crc);
  const size = prefix.length + chunk.length * uncompressedMb + suffix.length;

  const contentTypes =
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>' +
    '<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>';
  const rels =
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">' +
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>';
  await writeFile(
    path,
    zipArchive([
      storedEntry('[Content_Types].xml', Buffer.from(contentTypes)),
      storedEntry('_rels/.rels', Buffer.from(rels)),
      { name: 'word/document.xml', method: 8, crc, size, data: deflated },
    ]),
  );
}

// ---------------------------------------------------------------------------------------------
// PDF

async function textPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  doc.setTitle(PDF_TITLE);
  const font = await doc.embedFont(StandardFonts.Helvetica);
  for (const content of PDF_PAGES) {
    const page = doc.addPage([595, 842]);
    page.drawText(content.heading, { x: 56, y: 770, size: 20, font });
    content.body.forEach((line, i) => page.drawText(line, { x: 56, y: 730 - i * 15, size: 11, font }));
    page.drawText(content.extra, { x: 56, y: 680, size: 11, font });
  }
  // No object streams: every object stays a plain indirect object, which encryptPdf relies on.
  return doc.save({ useObjectStreams: false });
}

async function scannedPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const image = await doc.embedPng(grayPng(64, 64));
  const page = doc.addPage([595, 842]);
  page.drawImage(image, { x: 50, y: 400, width: 400, height: 400 });
  return doc.save();
}

async function partlyScannedPdf(): Promise<Uint8Array> {
  const doc = await PDFDocument.create();
  const font = await doc.embedFont(StandardFonts.Helvetica);
  const image = await doc.embedPng(grayPng(16, 16));
  doc.addPage([595, 842]).drawText('Typed cover letter', { x: 56, y: 770, size: 11, font });
  doc.addPage([595, 842]).drawImage(image, { x: 50, y: 400, width: 300, height: 300 });
  doc.addPage([595, 842]).drawText('Typed appendix', { x: 56, y: 770, size: 11, font });
  return doc.save();
}

/** A small grayscale PNG (a diagonal gradient), built by hand: signature, IHDR, IDAT, IEND. */
function grayPng(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const length = Buffer.alloc(4);
    length.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([length, body, crc]);
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 0; // grayscale
  const rows = Buffer.alloc((width + 1) * height);
  for (let y = 0; y < height; y++) {
    rows[y * (width + 1)] = 0; // filter: none
    for (let x = 0; x < width; x++) rows[y * (width + 1) + 1 + x] = ((x + y) * 2) % 256;
  }
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', header), chunk('IDAT', deflateSync(rows)), chunk('IEND', Buffer.alloc(0))]);
}

const PASSWORD_PADDING = Buffer.from('28bf4e5e4e758a4164004e56fffa01082e2e00b6d0683e802f0ca9fe6453697a', 'hex');

/**
 * Encrypts a PDF with the standard security handler, revision 3 (RC4, 128-bit key), following
 * the PDF 1.7 spec's algorithms 1-5. Every string and stream is encrypted with its object's key.
 */
export async function encryptPdf(plain: Uint8Array, userPassword: string, ownerPassword: string): Promise<Uint8Array> {
  const doc = await PDFDocument.load(plain, { updateMetadata: false });
  const context = doc.context;
  const fileId = md5(Buffer.from('hearth-encrypted-fixture'));
  const permissions = Buffer.alloc(4);
  permissions.writeInt32LE(-4);

  // Algorithm 3: the O entry.
  let ownerKey = md5(padPassword(ownerPassword));
  for (let i = 0; i < 50; i++) ownerKey = md5(ownerKey);
  let owner = rc4(ownerKey, padPassword(userPassword));
  for (let i = 1; i <= 19; i++) owner = rc4(xorKey(ownerKey, i), owner);
  // Algorithm 2: the file key.
  let key = md5(padPassword(userPassword), owner, permissions, fileId);
  for (let i = 0; i < 50; i++) key = md5(key);
  // Algorithm 5: the U entry.
  let user = rc4(key, md5(PASSWORD_PADDING, fileId));
  for (let i = 1; i <= 19; i++) user = rc4(xorKey(key, i), user);
  user = Buffer.concat([user, Buffer.alloc(16)]);

  // Algorithm 1: each object's strings and streams with a key from the file key and its number.
  for (const [ref, object] of context.enumerateIndirectObjects()) {
    const objectKey = md5(key, littleEndian(ref.objectNumber, 3), littleEndian(ref.generationNumber, 2)).subarray(0, 16);
    const encrypted = encryptObject(object, objectKey);
    if (encrypted !== object) context.assign(ref, encrypted);
  }
  const encrypt = context.obj({ Filter: 'Standard', V: 2, R: 3, Length: 128, P: -4 });
  encrypt.set(PDFName.of('O'), PDFHexString.of(owner.toString('hex')));
  encrypt.set(PDFName.of('U'), PDFHexString.of(user.toString('hex')));
  const trailer = context.trailerInfo as { Encrypt?: PDFObject; ID?: PDFObject };
  trailer.Encrypt = context.register(encrypt) satisfies PDFRef;
  trailer.ID = context.obj([PDFHexString.of(fileId.toString('hex')), PDFHexString.of(fileId.toString('hex'))]);
  return doc.save({ useObjectStreams: false });
}

function encryptObject(object: PDFObject, key: Buffer): PDFObject {
  if (object instanceof PDFString || object instanceof PDFHexString) return PDFHexString.of(rc4(key, Buffer.from(object.asBytes())).toString('hex'));
  if (object instanceof PDFRawStream) {
    encryptObject(object.dict, key);
    return PDFRawStream.of(object.dict, rc4(key, Buffer.from(object.contents)));
  }
  if (object instanceof PDFDict) {
    for (const [name, value] of object.entries()) {
      const encrypted = encryptObject(value, key);
      if (encrypted !== value) object.set(name, encrypted);
    }
  } else if (object instanceof PDFArray) {
    for (let i = 0; i < object.size(); i++) {
      const value = object.get(i);
      const encrypted = encryptObject(value, key);
      if (encrypted !== value) object.set(i, encrypted);
    }
  }
  return object;
}

function padPassword(password: string): Buffer {
  return Buffer.concat([Buffer.from(password, 'latin1'), PASSWORD_PADDING]).subarray(0, 32);
}

function md5(...parts: Uint8Array[]): Buffer {
  const hash = createHash('md5');
  for (const part of parts) hash.update(part);
  return hash.digest();
}

function xorKey(key: Buffer, value: number): Buffer {
  return Buffer.from(key.map((byte) => byte ^ value));
}

function littleEndian(value: number, bytes: number): Buffer {
  const out = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) out[i] = (value >> (8 * i)) & 0xff;
  return out;
}

/** RC4, by hand: node's OpenSSL 3 no longer offers it. */
function rc4(key: Uint8Array, data: Uint8Array): Buffer {
  const s = Array.from({ length: 256 }, (_, i) => i);
  let j = 0;
  for (let i = 0; i < 256; i++) {
    j = (j + (s[i] ?? 0) + (key[i % key.length] ?? 0)) & 0xff;
    [s[i], s[j]] = [s[j] ?? 0, s[i] ?? 0];
  }
  const out = Buffer.alloc(data.length);
  let i = 0;
  j = 0;
  for (let n = 0; n < data.length; n++) {
    i = (i + 1) & 0xff;
    j = (j + (s[i] ?? 0)) & 0xff;
    [s[i], s[j]] = [s[j] ?? 0, s[i] ?? 0];
    out[n] = (data[n] ?? 0) ^ (s[((s[i] ?? 0) + (s[j] ?? 0)) & 0xff] ?? 0);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// DOCX, EPUB

async function docx(): Promise<Buffer> {
  const cell = (text: string): TableCell => new TableCell({ children: [new Paragraph(text)] });
  const doc = new Document({
    title: 'Harbour Survey 2024',
    numbering: {
      config: [{ reference: 'steps', levels: [{ level: 0, format: LevelFormat.DECIMAL, text: '%1.', alignment: AlignmentType.START }] }],
    },
    sections: [
      {
        children: [
          new Paragraph({ text: 'Harbour Survey', heading: HeadingLevel.TITLE }),
          new Paragraph({ text: 'Tide tables', heading: HeadingLevel.HEADING_1 }),
          new Paragraph({ children: [new TextRun('The '), new TextRun({ text: 'north', bold: true }), new TextRun(' pier floods at spring tide.')] }),
          new Paragraph({ text: 'Mooring rules', heading: HeadingLevel.HEADING_2 }),
          new Paragraph({ text: 'Use two bow lines', bullet: { level: 0 } }),
          new Paragraph({ text: 'Fenders on the seaward side', bullet: { level: 1 } }),
          new Paragraph({ text: 'Log every arrival', bullet: { level: 0 } }),
          new Paragraph({ text: 'Radio the harbour master', numbering: { reference: 'steps', level: 0 } }),
          new Paragraph({ text: 'Wait for the green light', numbering: { reference: 'steps', level: 0 } }),
          new Table({
            rows: [new TableRow({ children: [cell('Berth'), cell('Depth')] }), new TableRow({ children: [cell('A1'), cell('4.2 m')] }), new TableRow({ children: [cell('B7'), cell('6.0 m')] })],
          }),
        ],
      },
    ],
  });
  return Packer.toBuffer(doc);
}

async function epub(): Promise<Buffer> {
  const xhtml = (title: string, body: string, extraNs = ''): string =>
    `<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html>\n<html xmlns="http://www.w3.org/1999/xhtml"${extraNs}><head><title>${title}</title><link rel="stylesheet" href="../style.css"/></head><body>${body}</body></html>`;
  const zip = new JSZip();
  // The mimetype must come first and be stored, so tools can sniff the format from byte 30.
  zip.file('mimetype', 'application/epub+zip', { compression: 'STORE' });
  zip.file(
    'META-INF/container.xml',
    '<?xml version="1.0"?><container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>',
  );
  zip.file(
    'OEBPS/content.opf',
    `<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="bookid">
  <metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
    <dc:identifier id="bookid">urn:uuid:0b7f6a52-1d7e-4c3e-9d57-2f7a3c1d9e11</dc:identifier>
    <dc:title>${EPUB_TITLE}</dc:title>
    <dc:language>en</dc:language>
  </metadata>
  <manifest>
    <item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
    <item id="css" href="style.css" media-type="text/css"/>
    <item id="cover" href="text/cover.xhtml" media-type="application/xhtml+xml"/>
    <item id="ch1" href="text/chapter%201.xhtml" media-type="application/xhtml+xml"/>
    <item id="ch2" href="text/chapter2.xhtml" media-type="application/xhtml+xml"/>
  </manifest>
  <spine>
    <itemref idref="cover"/>
    <itemref idref="ch1"/>
    <itemref idref="ch2"/>
  </spine>
</package>`,
  );
  zip.file('OEBPS/style.css', 'body { margin: 1em; }');
  zip.file(
    'OEBPS/nav.xhtml',
    xhtml(
      'Contents',
      '<nav epub:type="toc"><h1>Contents</h1><ol><li><a href="text/chapter%201.xhtml">Keepers of the Flame</a></li><li><a href="text/chapter2.xhtml#start">Chapter 2: Storm Season</a></li></ol></nav>',
      ' xmlns:epub="http://www.idpf.org/2007/ops"',
    ),
  );
  zip.file('OEBPS/text/cover.xhtml', xhtml('Cover', '<div><img src="cover.png" alt=""/></div>'));
  zip.file(
    'OEBPS/text/chapter 1.xhtml',
    xhtml('Chapter 1', '<h1>Keepers of the Flame</h1><p>The first keepers burned whale oil.</p><h2>Daily duties</h2><ul><li>Trim the wick</li><li>Polish the lens</li></ul>'),
  );
  zip.file(
    'OEBPS/text/chapter2.xhtml',
    xhtml('Chapter 2', '<section id="start"><header><h1>Storm Season</h1></header><p>Storms arrive in November &amp; December.</p><br/><p>Keep the shutters closed.</p></section>'),
  );
  return zip.generateAsync({ type: 'nodebuffer', compression: 'DEFLATE' });
}

// ---------------------------------------------------------------------------------------------
// Small helpers

interface ZipEntry {
  name: string;
  method: 0 | 8;
  crc: number;
  size: number;
  data: Buffer;
}

function storedEntry(name: string, data: Buffer): ZipEntry {
  return { name, method: 0, crc: crc32(data), size: data.length, data };
}

/** A plain zip archive (no data descriptors, no zip64), enough for the bomb. */
function zipArchive(entries: ZipEntry[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(entry.method, 8);
    local.writeUInt16LE(0x21, 12); // 1980-01-01
    local.writeUInt32LE(entry.crc >>> 0, 14);
    local.writeUInt32LE(entry.data.length, 18);
    local.writeUInt32LE(entry.size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4); // version made by
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(entry.method, 10);
    central.writeUInt16LE(0x21, 14);
    central.writeUInt32LE(entry.crc >>> 0, 16);
    central.writeUInt32LE(entry.data.length, 20);
    central.writeUInt32LE(entry.size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, entry.data);
    centrals.push(central, name);
    offset += local.length + name.length + entry.data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

function pseudoRandomBytes(length: number, seed: number): Buffer {
  const random = mulberry32(seed);
  return Buffer.from(Array.from({ length }, () => Math.floor(random() * 256)));
}

/** A small seeded PRNG, so generated fixtures are the same on every run. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
