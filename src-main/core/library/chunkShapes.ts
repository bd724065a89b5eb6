/** The chunker's settings, and the shapes of what it plans with: prepared blocks, headings, segments. */

import { HearthError } from '../common/hearthError';
import type { Block, ChunkOptions } from './types';

export interface Settings {
  maxTokens: number;
  overlapTokens: number;
  /** The most tokens repeated between pieces, or a heading/header may take of a chunk. */
  halfChunk: number;
  count: (text: string) => number;
  /** Cost of the "\n\n" between merged blocks and of the "\n" after a heading or header line. */
  blankLineTokens: number;
  newlineTokens: number;
}

export function resolveSettings(options: ChunkOptions): Settings {
  const { maxTokens, overlapTokens, countTokens } = options;
  if (!Number.isFinite(maxTokens) || maxTokens < 1) {
    throw new HearthError('BAD_INPUT', `maxTokens must be at least 1, not ${maxTokens}.`);
  }
  if (!Number.isFinite(overlapTokens) || overlapTokens < 0) {
    throw new HearthError('BAD_INPUT', `overlapTokens must be 0 or more, not ${overlapTokens}.`);
  }
  const max = Math.floor(maxTokens);
  const halfChunk = Math.floor(max / 2);
  const count = (text: string): number => countTokens(text);
  return {
    maxTokens: max,
    overlapTokens: Math.min(Math.floor(overlapTokens), halfChunk),
    halfChunk,
    count,
    blankLineTokens: count('\n\n'),
    newlineTokens: count('\n'),
  };
}

/** How a block's text is cut when it is too big: prose by sentences, the rest by lines. */
export type Mode = 'prose' | 'code' | 'list' | 'rows';

/** A block ready to merge or split. */
export interface Prepared {
  block: Block;
  mode: Mode;
  /** Tables: the header row(s) repeated on every piece (CSV `header`, or a markdown table's first two lines). */
  header: string | null;
  headerTokens: number;
  /** Where in block.text the header was found (-1 when it came from `block.header`). */
  headerOffset: number;
  /** Where in block.text the body (everything but the header) starts. */
  bodyOffset: number;
  body: string;
  bodyTokens: number;
  page: number | null;
  lineStart: number | null;
  lineEnd: number | null;
}

export interface HeadingLine {
  text: string;
  tokens: number;
  level: number;
  page: number | null;
  lineStart: number | null;
  lineEnd: number | null;
}

/** The heading lines that open a section's first chunk. */
export interface Prefix {
  lines: HeadingLine[];
  text: string;
  tokens: number;
  lineStart: number | null;
  lineEnd: number | null;
}

/** A slice [start, end) of the text being split; consecutive segments tile it. */
export interface Segment {
  start: number;
  end: number;
  tokens: number;
  blank: boolean;
  lineStart: number | null;
  lineEnd: number | null;
}

export interface LineRange {
  lineStart: number | null;
  lineEnd: number | null;
}

export interface PackLayout {
  /** Prose pieces are trimmed; line pieces keep the first line's indentation. */
  mode: 'prose' | 'lines';
  prefix: Prefix | null;
  header: { text: string; tokens: number; everyPiece: boolean } | null;
  /** Where the first piece starts when its header row(s) came from the text itself. */
  firstLineStart: number | null;
  page: number | null;
}
