import { stat } from 'node:fs/promises';
import { readRegularFile } from '../../common/regularFile';
import { DocumentProblem, type DocumentFormat, type ParsedDocument } from '../types';
import { formatFor } from './detectFormat';
import { NEEDS_OCR, type OcrLimits } from './ocr';
import { parseCode } from './parseCode';
import { parseCsv } from './parseCsv';
import { parseDocx } from './parseDocx';
import { parseEpub } from './parseEpub';
import { parseHtml } from './parseHtml';
import { parseImage } from './parseImage';
import { parseMarkdown } from './parseMarkdown';
import { parsePdf } from './parsePdf';
import { parsePlainText } from './parsePlainText';

export interface ParseFileOptions {
  /** Larger files are refused (TOO_LARGE) before they are read. */
  maxBytes: number;
  /** Read scanned PDF pages and images by OCR, within these limits; null (the default): OCR is off. */
  ocr?: OcrLimits | null;
}

/** What a parser may use besides the file: OCR's limits when OCR is on. */
export interface ParseContext {
  ocr: OcrLimits | null;
}

type Parser = (bytes: Uint8Array, path: string, context: ParseContext) => ParsedDocument | Promise<ParsedDocument>;

const PARSERS: Readonly<Record<DocumentFormat, Parser>> = {
  markdown: parseMarkdown,
  text: parsePlainText,
  pdf: parsePdf,
  docx: parseDocx,
  html: parseHtml,
  epub: parseEpub,
  csv: parseCsv,
  code: parseCode,
  image: parseImage,
};

/**
 * Reads one file into blocks, or throws a DocumentProblem saying why it cannot be indexed.
 * Runs inside the parser worker; anything a parser throws unexpectedly is reported as CORRUPT.
 */
export async function parseFile(path: string, options: ParseFileOptions): Promise<ParsedDocument> {
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new DocumentProblem('UNREADABLE', 'is not a regular file');
    size = info.size;
  } catch (error) {
    throw error instanceof DocumentProblem ? error : unreadable(error);
  }
  const format = formatFor(path);
  // Checked before size: "not a kind of file Hearth reads" is the more useful answer for a 4 GB disk image.
  if (format === null) throw new DocumentProblem('UNSUPPORTED', 'is not a kind of file Hearth reads');
  if (size === 0) throw new DocumentProblem('EMPTY', 'is empty');
  if (size > options.maxBytes) throw new DocumentProblem('TOO_LARGE', `is ${megabytes(size)}, more than the ${megabytes(options.maxBytes)} limit`);

  let bytes: Uint8Array;
  try {
    // Opened non-blocking and checked again: a FIFO swapped in after the stat is refused, not read.
    bytes = await readRegularFile(path);
  } catch (error) {
    throw unreadable(error);
  }

  let doc: ParsedDocument;
  try {
    doc = await PARSERS[format](bytes, path, { ocr: options.ocr ?? null });
  } catch (error) {
    if (error instanceof DocumentProblem) throw error;
    throw new DocumentProblem('CORRUPT', `could not parse: ${error instanceof Error ? error.message : String(error)}`);
  }
  doc.blocks = doc.blocks.filter((block) => block.text.trim().length > 0);
  if (doc.blocks.length === 0) {
    if (format === 'pdf') throw new DocumentProblem('NO_TEXT', options.ocr ? 'has no text layer, and OCR found no text in it' : NEEDS_OCR);
    if (format === 'image') throw new DocumentProblem('NO_TEXT', 'has no text that OCR could read');
    throw new DocumentProblem('EMPTY', 'has no text');
  }
  return doc;
}

function unreadable(error: unknown): DocumentProblem {
  const reason = error instanceof Error ? error.message : String(error);
  return new DocumentProblem('UNREADABLE', `cannot be read: ${reason}`);
}

function megabytes(bytes: number): string {
  return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
}
