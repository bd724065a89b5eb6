import type { Block, ParsedDocument } from '../types';
import { decodeText } from './decodeText';
import { isBlank, splitLines } from './parsePlainText';

/** A block this large ends at the next blank line even inside a construct, and at any line past twice this. */
const SOFT_LIMIT_CHARS = 3000;
/** Lines that close a construct; a blank line before them does not start a new block. */
const CLOSER = /^(?:[}\])]|end\b|fi\b|done\b|esac\b|<\/)/;

/**
 * Source code: blocks break at a blank line followed by a top-level (unindented) line, which in
 * most languages is where one function, class or statement group ends and the next begins.
 */
export function parseCode(bytes: Uint8Array, _path: string): ParsedDocument {
  const { text, encoding } = decodeText(bytes);
  return { format: 'code', title: null, blocks: codeBlocks(splitLines(text)), encoding, warnings: [] };
}

function codeBlocks(lines: readonly string[]): Block[] {
  const blocks: Block[] = [];
  let start = -1;
  let last = -1; // last non-blank line of the open block
  let size = 0;
  let blankBefore = false;
  const close = (): void => {
    if (start >= 0) blocks.push({ kind: 'code', text: lines.slice(start, last + 1).join('\n'), lineStart: start + 1, lineEnd: last + 1 });
    start = -1;
    size = 0;
  };
  lines.forEach((line, i) => {
    if (isBlank(line)) {
      blankBefore = true;
      return;
    }
    const topLevel = !/^\s/.test(line) && !CLOSER.test(line);
    if (start >= 0 && ((blankBefore && (topLevel || size >= SOFT_LIMIT_CHARS)) || size >= 2 * SOFT_LIMIT_CHARS)) close();
    if (start < 0) start = i;
    last = i;
    size += line.length + 1;
    blankBefore = false;
  });
  close();
  return blocks;
}
