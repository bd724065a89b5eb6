/**
 * What parsers hand the chunker and the chunker hands the index. Plain data, so a parsed
 * document can cross from the parser worker to the main thread by structured clone.
 */

import type { DocumentFormatName, DocumentReasonCode } from '#contract/vocabulary';

export { DOCUMENT_FORMATS } from '#contract/vocabulary';
/** The formats Hearth reads (the contract's list). `code` covers source files, chosen by extension. */
export type DocumentFormat = DocumentFormatName;

export type BlockKind = 'heading' | 'paragraph' | 'list' | 'code' | 'table';

/** One structural unit of a document, in reading order. */
export interface Block {
  kind: BlockKind;
  /** The block's text. A list keeps one item per line ("- item"); a table one row per line ("a | b"). */
  text: string;
  /** Headings only: 1 (top) to 6. */
  level?: number;
  /** 1-based page the block starts on (PDF), when the format has pages. */
  page?: number;
  /** 1-based line range in the source file, for formats that are lines of text (text, markdown, code, CSV). */
  lineStart?: number;
  lineEnd?: number;
  /** CSV only: the header row, repeated in every chunk of rows so each chunk reads alone. */
  header?: string;
}

export interface ParsedDocument {
  format: DocumentFormat;
  /** From the document's metadata or first heading; null when it has none. */
  title: string | null;
  blocks: Block[];
  /** Text formats: the encoding the bytes were decoded from (e.g. "UTF-8", "UTF-16LE", "windows-1252"). */
  encoding?: string;
  /** PDF: the number of pages. */
  pageCount?: number;
  /** Things worth telling the user that did not stop the parse (e.g. "2 pages had no text"). */
  warnings: string[];
}

/** Why a file was not indexed: the contract's reason codes. */
export type DocumentProblemCode = DocumentReasonCode;

/** The codes that leave a file `skipped` (it is fine, there is just nothing to index); the rest leave it `failed`. */
export const SKIP_CODES: readonly DocumentProblemCode[] = ['UNSUPPORTED', 'EMPTY', 'NO_TEXT', 'ENCRYPTED', 'TOO_LARGE'];

/** Thrown by parsers and the parser sandbox: a code for the status, a sentence for the user. */
export class DocumentProblem extends Error {
  constructor(
    readonly code: DocumentProblemCode,
    message: string,
  ) {
    super(message);
    this.name = 'DocumentProblem';
  }
}

/** A piece of a document sized for embedding, with where it came from. */
export interface Chunk {
  /** 0-based position in the document; with the document id it makes the chunk id. */
  ordinal: number;
  text: string;
  /** The headings above the chunk, outermost first (for EPUB the chapter title comes first). */
  headingPath: string[];
  pageStart: number | null;
  pageEnd: number | null;
  lineStart: number | null;
  lineEnd: number | null;
  /** Tokens in `text`, by the counter the chunker was given. */
  tokenCount: number;
}

export interface ChunkOptions {
  /** Largest chunk, in tokens. */
  maxTokens: number;
  /** Tokens repeated from the end of one chunk at the start of the next, when a long block is split. */
  overlapTokens: number;
  /** Counts tokens the way the embedding model will. */
  countTokens(text: string): number;
}
