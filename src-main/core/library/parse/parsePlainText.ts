import { DocumentProblem, type Block, type ParsedDocument } from '../types';
import { decodeText } from './decodeText';
import { memoryBudget } from './memoryBudget';

/** Long runs of text without blank lines (logs, hard-wrapped prose) are cut near this size so a line range still points somewhere useful. */
const MAX_PARAGRAPH_CHARS = 2000;

/** Plain text: paragraphs are runs of lines between blank lines, each with its 1-based line range. */
export function parsePlainText(bytes: Uint8Array, _path: string): ParsedDocument {
  const { text, encoding } = decodeText(bytes);
  return { format: 'text', title: null, blocks: paragraphBlocks(splitLines(text), 1), encoding, warnings: [] };
}

/**
 * Splits on every line ending editors count (CRLF, LF, lone CR), so line numbers match theirs.
 * A loop rather than String.split: the worker can be stopped between lines, and a file of
 * millions of empty lines is refused at the budget instead of growing one giant array.
 */
export function splitLines(text: string): string[] {
  const budget = memoryBudget().lines;
  const lines: string[] = [];
  const lineEnd = /\r\n?|\n/g;
  let start = 0;
  for (let match = lineEnd.exec(text); match; match = lineEnd.exec(text)) {
    lines.push(text.slice(start, match.index));
    start = match.index + match[0].length;
    if (lines.length > budget) throw tooManyLines(budget);
  }
  lines.push(text.slice(start));
  return lines;
}

export function tooManyLines(budget: number): DocumentProblem {
  return new DocumentProblem('TOO_LARGE', `has more than ${budget.toLocaleString('en-US')} lines, more than the parser can hold`);
}

export function isBlank(line: string): boolean {
  return line.trim().length === 0;
}

/** Paragraph blocks from `lines`, numbering `lines[0]` as line `firstLine`. */
export function paragraphBlocks(lines: readonly string[], firstLine: number): Block[] {
  const blocks: Block[] = [];
  let start = -1;
  let size = 0;
  const close = (end: number): void => {
    if (start < 0) return;
    blocks.push({ kind: 'paragraph', text: lines.slice(start, end + 1).join('\n'), lineStart: start + firstLine, lineEnd: end + firstLine });
    start = -1;
    size = 0;
  };
  lines.forEach((line, i) => {
    if (isBlank(line)) {
      close(i - 1);
      return;
    }
    if (start >= 0 && size + line.length > MAX_PARAGRAPH_CHARS) close(i - 1);
    if (start < 0) start = i;
    size += line.length + 1;
  });
  close(lines.length - 1);
  return blocks;
}
