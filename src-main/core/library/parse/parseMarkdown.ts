import { extname } from 'node:path';
import type { Block, ParsedDocument } from '../types';
import { decodeText } from './decodeText';
import { isBlank, splitLines } from './parsePlainText';

/**
 * Markdown by lines, so every block keeps its source line range: ATX and setext headings,
 * fenced and indented code, lists (nesting by indentation), GFM tables, block quotes,
 * paragraphs. Front matter is skipped (its `title` is used); inline markup is left as written.
 */
export function parseMarkdown(bytes: Uint8Array, path: string): ParsedDocument {
  const { text, encoding } = decodeText(bytes);
  const lines = splitLines(text);
  const front = frontMatter(lines);
  const body = lines.slice(front.end);
  const blocks = new MarkdownReader(body, front.end + 1, extname(path).toLowerCase() === '.mdx').read();
  const headings = blocks.filter((block) => block.kind === 'heading');
  const title = front.title ?? (headings.find((block) => block.level === 1) ?? headings[0])?.text ?? null;
  return { format: 'markdown', title, blocks, encoding, warnings: [] };
}

const FENCE = /^( {0,3})(`{3,}|~{3,})(.*)$/;
const ATX = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$/;
const SETEXT = /^ {0,3}(=+|-+)[ \t]*$/;
const RULE = /^ {0,3}(?:(?:\*[ \t]*){3,}|(?:-[ \t]*){3,}|(?:_[ \t]*){3,})$/;
const LIST_ITEM = /^([ \t]*)([-+*]|\d{1,9}[.)])(?:([ \t]+)(.*))?$/;
const QUOTE = /^ {0,3}> ?(.*)$/;
const TABLE_DELIMITER = /^ {0,3}\|?[ \t]*:?-+:?[ \t]*(?:\|[ \t]*:?-+:?[ \t]*)*\|?[ \t]*$/;
const INDENTED_CODE = /^(?: {4}|\t)/;
const MDX_STATEMENT = /^(?:import|export)\s/;

interface ListMatch {
  indent: number;
  marker: string;
  /** Column where the item's text starts; lines indented this far belong to the item. */
  contentIndent: number;
  text: string;
}

class MarkdownReader {
  private readonly blocks: Block[] = [];
  private i = 0;

  /** `firstLine`: the 1-based source line of `lines[0]`. */
  constructor(
    private readonly lines: readonly string[],
    private readonly firstLine: number,
    private readonly mdx: boolean,
  ) {}

  read(): Block[] {
    while (this.i < this.lines.length) {
      const line = this.lines[this.i] ?? '';
      if (isBlank(line)) this.i++;
      else if (FENCE.test(line)) this.fencedCode();
      else if (ATX.test(line)) this.atxHeading();
      else if (RULE.test(line)) this.i++;
      else if (listItem(line, true)) this.list();
      else if (QUOTE.test(line)) this.quote();
      else if (INDENTED_CODE.test(line)) this.indentedCode();
      else if (line.trimStart().startsWith('<!--')) this.comment();
      else if (this.mdx && MDX_STATEMENT.test(line)) this.i++;
      else if (this.isTableStart(this.i)) this.table();
      else this.paragraph();
    }
    return this.blocks;
  }

  private push(block: Block, start: number, end: number): void {
    this.blocks.push({ ...block, lineStart: start + this.firstLine, lineEnd: end + this.firstLine });
  }

  private fencedCode(): void {
    const start = this.i;
    const open = FENCE.exec(this.lines[start] ?? '');
    const indent = open?.[1]?.length ?? 0;
    const fence = open?.[2] ?? '```';
    const close = new RegExp(`^ {0,3}${fence[0] === '`' ? '`' : '~'}{${fence.length},}[ \\t]*$`);
    let end = start + 1;
    while (end < this.lines.length && !close.test(this.lines[end] ?? '')) end++;
    const content = this.lines.slice(start + 1, end).map((line) => stripIndent(line, indent));
    const text = content.join('\n').replace(/\s+$/, '');
    const last = Math.min(end, this.lines.length - 1); // an unclosed fence runs to the end of the file
    if (text.trim()) this.push({ kind: 'code', text }, start, last);
    this.i = last + 1;
  }

  private atxHeading(): void {
    const match = ATX.exec(this.lines[this.i] ?? '');
    const level = match?.[1]?.length ?? 1;
    const text = (match?.[2] ?? '').replace(/(?:^|[ \t]+)#+$/, '').trim();
    if (text) this.push({ kind: 'heading', level, text }, this.i, this.i);
    this.i++;
  }

  private list(): void {
    const start = this.i;
    const out: string[] = [];
    const stack: number[] = []; // content columns of the open items, outermost first
    let current: { depth: number; marker: string; parts: string[] } | null = null;
    const ordered = isOrdered(listItem(this.lines[start] ?? '', true)?.marker ?? '-');
    let last = start;
    const emit = (): void => {
      if (!current) return;
      const text = current.parts.join(' ').trim();
      const bullet = isOrdered(current.marker) ? `${Number.parseInt(current.marker, 10)}.` : '-';
      if (text) out.push(`${'  '.repeat(current.depth)}${bullet}${text ? ` ${text}` : ''}`);
      current = null;
    };
    let j = start;
    while (j < this.lines.length) {
      const line = this.lines[j] ?? '';
      if (isBlank(line)) {
        let k = j + 1;
        while (k < this.lines.length && isBlank(this.lines[k] ?? '')) k++;
        const next = this.lines[k];
        if (next === undefined) break;
        const continues = (listItem(next, false) !== null && !RULE.test(next)) || indentOf(next) >= (stack[0] ?? 2);
        if (!continues) break;
        j = k;
        continue;
      }
      const item = RULE.test(line) ? null : listItem(line, false);
      if (item && (stack.length > 0 || item.indent <= 3)) {
        while (stack.length > 0 && item.indent < (stack[stack.length - 1] ?? 0)) stack.pop();
        // As in CommonMark, switching between bullets and numbers at the top starts another list.
        if (stack.length === 0 && out.length + (current ? 1 : 0) > 0 && isOrdered(item.marker) !== ordered) break;
        emit();
        current = { depth: stack.length, marker: item.marker, parts: [item.text] };
        stack.push(item.contentIndent);
      } else {
        // A new top-level block ends the list; anything else continues the current item.
        const topLevel = indentOf(line) < (stack[0] ?? 2);
        if (topLevel && (ATX.test(line) || FENCE.test(line) || RULE.test(line) || QUOTE.test(line))) break;
        current?.parts.push(line.trim());
      }
      last = j;
      j++;
    }
    emit();
    if (out.length > 0) this.push({ kind: 'list', text: out.join('\n') }, start, last);
    this.i = last + 1;
  }

  private quote(): void {
    const start = this.i;
    const inner: string[] = [];
    let j = start;
    while (j < this.lines.length) {
      const line = this.lines[j] ?? '';
      const quoted = QUOTE.exec(line);
      if (quoted) inner.push(quoted[1] ?? '');
      else if (!isBlank(line) && inner.length > 0 && !isBlank(inner[inner.length - 1] ?? '')) inner.push(line); // lazy continuation
      else break;
      j++;
    }
    // The quote's lines map one to one onto the source, so its blocks keep true line numbers.
    this.blocks.push(...new MarkdownReader(inner, start + this.firstLine, this.mdx).read());
    this.i = j;
  }

  private indentedCode(): void {
    const start = this.i;
    let last = start;
    let j = start;
    while (j < this.lines.length) {
      const line = this.lines[j] ?? '';
      if (INDENTED_CODE.test(line)) last = j;
      else if (!isBlank(line)) break;
      j++;
    }
    const text = this.lines
      .slice(start, last + 1)
      .map((line) => stripIndent(line, 4))
      .join('\n');
    this.push({ kind: 'code', text }, start, last);
    this.i = last + 1;
  }

  private comment(): void {
    let j = this.i;
    while (j < this.lines.length && !(this.lines[j] ?? '').includes('-->')) j++;
    this.i = j + 1;
  }

  private isTableStart(i: number): boolean {
    const header = this.lines[i] ?? '';
    const delimiter = this.lines[i + 1] ?? '';
    return header.includes('|') && delimiter.includes('|') && TABLE_DELIMITER.test(delimiter);
  }

  private table(): void {
    const start = this.i;
    const rows = [tableCells(this.lines[start] ?? '')];
    let j = start + 2;
    while (j < this.lines.length && !isBlank(this.lines[j] ?? '') && (this.lines[j] ?? '').includes('|')) {
      rows.push(tableCells(this.lines[j] ?? ''));
      j++;
    }
    const text = rows
      .filter((cells) => cells.some((cell) => cell.length > 0))
      .map((cells) => cells.join(' | '))
      .join('\n');
    this.push({ kind: 'table', text }, start, j - 1);
    this.i = j;
  }

  private paragraph(): void {
    const start = this.i;
    const parts = [(this.lines[start] ?? '').trim()];
    let j = start + 1;
    while (j < this.lines.length) {
      const line = this.lines[j] ?? '';
      const setext = SETEXT.exec(line);
      if (setext) {
        this.push({ kind: 'heading', level: setext[1]?.startsWith('=') ? 1 : 2, text: parts.join(' ') }, start, j);
        this.i = j + 1;
        return;
      }
      if (isBlank(line) || this.interruptsParagraph(line)) break;
      parts.push(line.trim());
      j++;
    }
    this.push({ kind: 'paragraph', text: parts.join('\n') }, start, j - 1);
    this.i = j;
  }

  private interruptsParagraph(line: string): boolean {
    if (FENCE.test(line) || ATX.test(line) || RULE.test(line) || QUOTE.test(line)) return true;
    const item = listItem(line, true);
    // As in CommonMark, only a bullet or a list starting at 1 can interrupt a paragraph.
    return item !== null && item.text.length > 0 && (!/^\d/.test(item.marker) || Number.parseInt(item.marker, 10) === 1);
  }
}

/** A list item line; `topLevel` requires the marker within the first three columns. */
function listItem(line: string, topLevel: boolean): ListMatch | null {
  const match = LIST_ITEM.exec(line);
  if (!match) return null;
  const indent = columns(match[1] ?? '');
  if (topLevel && indent > 3) return null;
  const marker = match[2] ?? '-';
  const gap = columns(match[3] ?? ' ');
  return { indent, marker, contentIndent: indent + marker.length + (gap > 4 ? 1 : Math.max(gap, 1)), text: (match[4] ?? '').trim() };
}

function isOrdered(marker: string): boolean {
  return /^\d/.test(marker);
}

function indentOf(line: string): number {
  return columns(/^[ \t]*/.exec(line)?.[0] ?? '');
}

/** Width of leading whitespace, tabs to the next multiple of four as CommonMark counts them. */
function columns(whitespace: string): number {
  let width = 0;
  for (const char of whitespace) width = char === '\t' ? width + 4 - (width % 4) : width + 1;
  return width;
}

function stripIndent(line: string, count: number): string {
  let i = 0;
  let width = 0;
  while (i < line.length && width < count && (line[i] === ' ' || line[i] === '\t')) {
    width = line[i] === '\t' ? width + 4 - (width % 4) : width + 1;
    i++;
  }
  return line.slice(i);
}

/** A table row's cells: outer pipes dropped, escaped pipes kept as text. */
function tableCells(line: string): string[] {
  const cells = line
    .trim()
    .replace(/^\|/, '')
    .replace(/(?<!\\)\|$/, '')
    .split(/(?<!\\)\|/)
    .map((cell) => cell.trim().replace(/\\\|/g, '|'));
  return cells;
}

/** Where YAML (---) or TOML (+++) front matter ends, and its title if it has one. */
function frontMatter(lines: readonly string[]): { end: number; title: string | null } {
  const fence = lines[0]?.trimEnd();
  if (fence !== '---' && fence !== '+++') return { end: 0, title: null };
  for (let i = 1; i < lines.length; i++) {
    const line = (lines[i] ?? '').trimEnd();
    if (line === fence || (fence === '---' && line === '...')) {
      let title: string | null = null;
      for (const entry of lines.slice(1, i)) {
        const match = /^title\s*[:=]\s*(.+)$/.exec(entry.trim());
        if (match?.[1]) title = match[1].trim().replace(/^(["'])(.*)\1$/, '$2').trim() || null;
        if (title) break;
      }
      return { end: i + 1, title };
    }
  }
  return { end: 0, title: null };
}
