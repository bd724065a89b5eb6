/** The chunker's text helpers: where to cut, lines and offsets, and the pages and lines of blocks. */

import type { LineRange, Prepared, Segment } from './chunkShapes';
import type { Block } from './types';

// Finer and finer places to cut prose: sentences, lines, words, then characters.
export const SENTENCE = 0;
export const LINE = 1;
export const WORD = 2;
export const CHARACTER = 3;
export const CUT_AFTER: Readonly<Record<number, RegExp>> = {
  // Sentence ends (closing quotes and brackets stay with their sentence), CJK full stops, blank lines.
  [SENTENCE]: /[.!?…]+["'”’»)\]]*\s+|[。！？]+["'”’」』)\]]*\s*|\n[ \t]*\n\s*/g,
  [LINE]: /\n/g,
  [WORD]: /\s+/g,
};

export const LIST_MARKER = /^\s*(?:[-*+•◦▪‣]|\d{1,9}[.)])(?:\s|$)/;
export const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$/;
export const LEADING_BLANK_LINES = /^(?:[ \t]*\r?\n)+/;
export const BLANK_LINES_AT = /(?:[ \t]*\r?\n)+/y;
export const NON_SPACE = /\S/;

/** The text of segments [from, to) without blank segments at either end; null when all are blank. */
export function buildPiece(text: string, segments: Segment[], from: number, to: number, mode: 'prose' | 'lines'): ({ text: string } & LineRange) | null {
  let first = from;
  while (first < to && segments[first]!.blank) first++;
  if (first === to) return null;
  let last = to - 1;
  while (segments[last]!.blank) last--;
  const slice = text.slice(segments[first]!.start, segments[last]!.end);
  const body = mode === 'prose' ? slice.trim() : trimLines(slice);
  if (!body) return null;
  return { text: body, lineStart: segments[first]!.lineStart, lineEnd: segments[last]!.lineEnd };
}

/** Offsets just after each match (ends of sentences, lines or spaces), ending with text.length. */
export function cutPoints(text: string, pattern: RegExp): number[] {
  const cuts: number[] = [];
  pattern.lastIndex = 0;
  for (let match = pattern.exec(text); match !== null; match = pattern.exec(text)) {
    const cut = match.index + match[0].length;
    if (cut > 0 && cut < text.length) cuts.push(cut);
  }
  cuts.push(text.length);
  return cuts;
}

/** `offset`, moved forward one unit if it would separate a surrogate pair. */
export function codePointBoundary(text: string, offset: number, end: number): number {
  if (offset > 0 && offset < end) {
    const before = text.charCodeAt(offset - 1);
    if (before >= 0xd800 && before <= 0xdbff) return offset + 1;
  }
  return offset;
}

/**
 * The source line of block.text's first line, when the text's lines are the source's lines:
 * the counts agree, or differ by exactly what a format leaves out of the text (a fenced code
 * block's two fence lines, a CSV header kept in `header`). Null when they cannot be matched.
 */
export function textFirstLine(part: Prepared): number | null {
  const { lineStart, lineEnd } = part;
  if (lineStart === null || lineEnd === null) return null;
  const raw = part.block.text;
  const lines = countNewlines(raw, 0, raw.length) + (raw.endsWith('\n') ? 0 : 1);
  const span = lineEnd - lineStart + 1;
  if (lines === span) return lineStart;
  if (part.mode === 'code' && lines === span - 2) return lineStart + 1;
  if (part.mode === 'rows' && part.header !== null && part.headerOffset < 0 && lines === span - 1) return lineStart + 1;
  return null;
}

export function countNewlines(text: string, start: number, end: number): number {
  let newlines = 0;
  for (let i = text.indexOf('\n', start); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) newlines++;
  return newlines;
}

export function lineAt(text: string, start: number): { text: string; start: number; next: number } {
  const newline = text.indexOf('\n', start);
  const next = newline === -1 ? text.length : newline + 1;
  return { text: text.slice(start, newline === -1 ? text.length : newline), start, next };
}

export function skipBlankLines(text: string, start: number): number {
  BLANK_LINES_AT.lastIndex = start;
  return BLANK_LINES_AT.test(text) ? BLANK_LINES_AT.lastIndex : start;
}

/** Trims lines of code, a list or a table: leading blank lines and trailing space go, indentation stays. */
export function trimLines(text: string): string {
  return text.replace(LEADING_BLANK_LINES, '').trimEnd();
}

export function pageOf(block: Block): number | null {
  return typeof block.page === 'number' && Number.isFinite(block.page) ? block.page : null;
}

export function lineRangeOf(block: Block): LineRange {
  const valid = (line: number | undefined): number | null => (typeof line === 'number' && Number.isInteger(line) && line >= 1 ? line : null);
  return { lineStart: valid(block.lineStart), lineEnd: valid(block.lineEnd) };
}

export function spanOf(lines: readonly LineRange[]): LineRange {
  return { lineStart: firstDefined(lines, 0, lines.length, (line) => line.lineStart), lineEnd: lastDefined(lines, 0, lines.length, (line) => line.lineEnd) };
}

export function firstDefined<T>(items: readonly T[], start: number, end: number, pick: (item: T) => number | null): number | null {
  for (let i = start; i < end; i++) {
    const value = pick(items[i]!);
    if (value !== null) return value;
  }
  return null;
}

export function lastDefined<T>(items: readonly T[], start: number, end: number, pick: (item: T) => number | null): number | null {
  for (let i = end - 1; i >= start; i--) {
    const value = pick(items[i]!);
    if (value !== null) return value;
  }
  return null;
}
