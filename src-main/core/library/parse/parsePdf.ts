import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as PdfJs from 'pdfjs-dist/legacy/build/pdf.mjs';
import { DocumentProblem, type Block, type ParsedDocument } from '../types';
import { NEEDS_OCR, type OcrLimits } from './ocr';
import type { ParseContext } from './parseFile';
import { pageLines, separateRunningLines, type Line, type PdfTextItem } from './pdfLines';
import { ocrPage } from './pdfOcr';
import { RUNNING_HEADING } from './runningText';

type PdfJsModule = typeof PdfJs;

/** A run of lines that belong together, before headings are told apart from body text. */
interface Paragraph {
  lines: Line[];
  size: number;
  page: number;
}

const BULLET = /^(?:[•◦▪▫‣⁃∙·●○■□➢➤►–-]|\(?\d{1,3}[.)]|\(?[a-z][.)])\s+/;

let pdfjsModule: Promise<PdfJsModule> | null = null;

/** Loaded on first use: most workers never see a PDF, and pdf.js is the heaviest import here. */
function loadPdfJs(): Promise<PdfJsModule> {
  pdfjsModule ??= import('pdfjs-dist/legacy/build/pdf.mjs');
  return pdfjsModule;
}

/**
 * PDF: the text layer of each page, its items joined into lines by position and lines into
 * paragraphs by spacing and font size; larger type becomes headings. A PDF without any text is
 * a scan, which only OCR could read.
 */
export async function parsePdf(bytes: Uint8Array, _path: string, context: ParseContext = { ocr: null }): Promise<ParsedDocument> {
  const pdfjs = await loadPdfJs();
  const task = pdfjs.getDocument({
    // A plain view, not a Buffer: pdf.js asks for Uint8Array and copies nothing then.
    data: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength),
    ...localResources(),
    // Read only what is in the file: no eval'd font code, no system or remote fonts, no fetching.
    isEvalSupported: false,
    useSystemFonts: false,
    disableFontFace: true,
    useWorkerFetch: false,
    disableAutoFetch: true,
    disableStream: true,
    disableRange: true,
    enableXfa: false,
    isOffscreenCanvasSupported: false,
    stopAtErrors: false,
    verbosity: pdfjs.VerbosityLevel.ERRORS,
  });
  try {
    let pdf;
    try {
      pdf = await task.promise;
    } catch (error) {
      throw openProblem(error);
    }
    const pages: Line[][] = [];
    const emptyPages: number[] = [];
    for (let number = 1; number <= pdf.numPages; number++) {
      const page = await pdf.getPage(number);
      const content = await page.getTextContent();
      page.cleanup();
      const lines = pageLines(content.items.flatMap((item): PdfTextItem[] => ('str' in item ? [item] : [])));
      if (lines.length === 0) emptyPages.push(number);
      pages.push(lines);
    }
    // Running headers and footers would repeat inside every page's text: they are read once, at the end.
    const { body, running } = separateRunningLines(pages);
    const paragraphs = body.flatMap((lines, index) => pageParagraphs(lines, index + 1));
    const scanned = context.ocr ? await ocrPages(pdf, emptyPages, context.ocr) : { blocks: [], unread: emptyPages, timedOut: false };
    if (paragraphs.length === 0 && running.length === 0 && scanned.blocks.length === 0) {
      throw new DocumentProblem('NO_TEXT', context.ocr ? (scanned.timedOut ? 'has no text layer, and OCR ran out of time before it found text' : 'has no text layer, and OCR found no text in it') : NEEDS_OCR);
    }
    // Pages read by OCR take their place among the pages with text.
    const blocks = [...toBlocks(paragraphs), ...scanned.blocks].map((block, i) => ({ block, i })).sort((a, b) => (a.block.page ?? 0) - (b.block.page ?? 0) || a.i - b.i).map(({ block }) => block);
    if (running.length > 0) {
      blocks.push({ kind: 'heading', level: 1, text: RUNNING_HEADING, page: running[0]?.page ?? 1 });
      for (const line of running) blocks.push({ kind: 'paragraph', text: line.text, page: line.page });
    }
    const warnings: string[] = [];
    const unread = scanned.unread;
    if (unread.length > 0) {
      const listed = unread.slice(0, 10).join(', ') + (unread.length > 10 ? ', ...' : '');
      const why = !context.ocr ? '(scanned images?) and were not indexed' : scanned.timedOut ? 'and OCR ran out of time before it read them' : 'and OCR found none in them';
      warnings.push(`${unread.length} of ${pdf.numPages} pages have no text ${why}: page${unread.length > 1 ? 's' : ''} ${listed}`);
    }
    const { info, metadata } = await pdf.getMetadata();
    const title = metadataTitle(info, metadata?.get('dc:title')) ?? blocks.find((block) => block.kind === 'heading' && block.text !== RUNNING_HEADING)?.text ?? null;
    return { format: 'pdf', title, blocks, pageCount: pdf.numPages, warnings };
  } finally {
    await task.destroy();
  }
}

/** Scanned pages read by OCR, one by one, until the deadline: their blocks, and the pages left without text. */
async function ocrPages(pdf: PdfJs.PDFDocumentProxy, numbers: readonly number[], limits: OcrLimits): Promise<{ blocks: Block[]; unread: number[]; timedOut: boolean }> {
  const blocks: Block[] = [];
  const unread: number[] = [];
  let timedOut = false;
  for (const number of numbers) {
    if (timedOut || Date.now() >= limits.deadline) {
      timedOut = true;
      unread.push(number);
      continue;
    }
    const read = await ocrPage(pdf, number, limits);
    if (read.length === 0) unread.push(number);
    blocks.push(...read);
  }
  return { blocks, unread, timedOut };
}

function openProblem(error: unknown): DocumentProblem {
  const name = error instanceof Error ? error.name : '';
  const message = error instanceof Error ? error.message : String(error);
  if (name === 'PasswordException') return new DocumentProblem('ENCRYPTED', 'is password-protected; Hearth cannot read it without the password');
  return new DocumentProblem('CORRUPT', `is not a readable PDF: ${message}`);
}

/**
 * pdf.js's own CMaps (for CJK text) and standard-font metrics, read from its package folder on
 * disk. Without them text in such fonts comes out garbled or badly spaced; nothing is fetched.
 */
function localResources(): { cMapUrl?: string; cMapPacked?: boolean; standardFontDataUrl?: string } {
  try {
    const root = dirname(createRequire(import.meta.url).resolve('pdfjs-dist/package.json'));
    return { cMapUrl: join(root, 'cmaps') + '/', cMapPacked: true, standardFontDataUrl: join(root, 'standard_fonts') + '/' };
  } catch {
    return {}; // bundled without the package folder: Latin text still reads fine
  }
}

function metadataTitle(info: unknown, xmpTitle: unknown): string | null {
  const infoTitle = typeof info === 'object' && info !== null && 'Title' in info ? (info as { Title: unknown }).Title : null;
  for (const candidate of [infoTitle, xmpTitle]) {
    // Word's PDF export names the source file, which is not a title.
    const title = typeof candidate === 'string' ? candidate.replace(/^Microsoft Word - /, '').trim() : '';
    if (title) return title;
  }
  return null;
}

/** Lines to paragraphs: a break where the gap between baselines is wide, the type size changes, or the text jumps up (a new column). */
function pageParagraphs(lines: Line[], page: number): Paragraph[] {
  const paragraphs: Paragraph[] = [];
  let current: Paragraph | null = null;
  let previous: Line | null = null;
  for (const line of lines) {
    const gap = previous ? previous.y - line.y : 0;
    const sizeChanged = current !== null && Math.abs(line.size - current.size) > 0.15 * current.size;
    const wideGap = previous !== null && (gap > 1.6 * Math.max(previous.size, line.size) || gap < -0.5 * line.size);
    if (!current || sizeChanged || wideGap || BULLET.test(line.text)) {
      current = { lines: [line], size: line.size, page };
      paragraphs.push(current);
    } else {
      current.lines.push(line);
    }
    previous = line;
  }
  return paragraphs;
}

/** Paragraphs to blocks; larger-than-body type up to a few lines long is a heading, the largest being level 1. */
function toBlocks(paragraphs: Paragraph[]): Block[] {
  const charsBySize = new Map<number, number>();
  for (const paragraph of paragraphs) {
    const size = Math.round(paragraph.size * 2) / 2;
    charsBySize.set(size, (charsBySize.get(size) ?? 0) + paragraph.lines.reduce((sum, line) => sum + line.text.length, 0));
  }
  const bodySize = [...charsBySize.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? 0;
  const isHeading = (paragraph: Paragraph): boolean =>
    paragraph.size >= bodySize * 1.15 && paragraph.lines.length <= 3 && joinLines(paragraph.lines).length <= 200;
  const headingSizes = [...new Set(paragraphs.filter(isHeading).map((paragraph) => Math.round(paragraph.size * 2) / 2))].sort((a, b) => b - a);

  const blocks: Block[] = [];
  for (const paragraph of paragraphs) {
    const text = joinLines(paragraph.lines);
    if (isHeading(paragraph)) {
      const level = Math.min(6, headingSizes.indexOf(Math.round(paragraph.size * 2) / 2) + 1);
      blocks.push({ kind: 'heading', level, text, page: paragraph.page });
      continue;
    }
    // Consecutive bullet or numbered paragraphs on one page read as one list.
    const item = BULLET.exec(text);
    const previous = blocks[blocks.length - 1];
    if (item) {
      const marker = /[\da-z]+/.exec(item[0])?.[0];
      const line = `${marker ? `${marker}.` : '-'} ${text.slice(item[0].length)}`;
      if (previous?.kind === 'list' && previous.page === paragraph.page) previous.text += `\n${line}`;
      else blocks.push({ kind: 'list', text: line, page: paragraph.page });
      continue;
    }
    blocks.push({ kind: 'paragraph', text, page: paragraph.page });
  }
  return blocks;
}

/** Lines of a paragraph on one line; a word hyphenated across a line break is joined back. */
function joinLines(lines: Line[]): string {
  let text = '';
  for (const line of lines) {
    if (!text) text = line.text;
    else if (/[a-z]-$/.test(text) && /^[a-z]/.test(line.text)) text = text.slice(0, -1) + line.text;
    else text += ` ${line.text}`;
  }
  return text;
}
