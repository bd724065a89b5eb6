import { HearthError } from '../common/hearthError';
import type { Block, Chunk, ChunkOptions, ParsedDocument } from './types';

/**
 * Cuts a parsed document into chunks sized for the embedding model. Structure first:
 * headings and pages are hard boundaries and a block that fits stays whole. Then size:
 * small neighbours are merged; a block over the limit is split at sentence, line, item or
 * row boundaries, and its pieces overlap a little so a thought cut in two is found from
 * either side.
 *
 * The counter may be the model's own tokenizer, which is slow, so every unit (block,
 * sentence, line, row) is counted once, chunks are planned from the sum of their units'
 * counts, and each finished chunk is counted once more for its exact `tokenCount`.
 * Tokenizers are close to additive, so that last count almost never disagrees with the
 * plan; when it does, the chunk gives units back rather than break the limit.
 */
export function chunkDocument(doc: ParsedDocument, options: ChunkOptions): Chunk[] {
  const assembler = new ChunkAssembler(resolveSettings(options));
  for (const block of doc.blocks) assembler.add(block);
  return assembler.finish();
}

/**
 * A cheap token estimate for tests and for when no model tokenizer is at hand: 4 ASCII
 * characters per token (the usual figure for English and code under BPE tokenizers) and one
 * token per non-ASCII UTF-16 unit (CJK scripts run near one token per character). Counting
 * characters rather than words keeps a long run without spaces (base64, minified code,
 * Chinese) from looking small; it overcounts accented Latin and Cyrillic text, which only
 * makes chunks smaller, never too big. It is subadditive (count(a + b) <= count(a) +
 * count(b)), so chunks planned from the sum of their parts' counts never exceed the plan.
 */
export function approximateTokenCount(text: string): number {
  let ascii = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) if (text.charCodeAt(i) < 0x80) ascii++;
  return Math.ceil(ascii / 4) + (length - ascii);
}

interface Settings {
  maxTokens: number;
  overlapTokens: number;
  /** The most tokens repeated between pieces, or a heading/header may take of a chunk. */
  halfChunk: number;
  count: (text: string) => number;
  /** Cost of the "\n\n" between merged blocks and of the "\n" after a heading or header line. */
  blankLineTokens: number;
  newlineTokens: number;
}

function resolveSettings(options: ChunkOptions): Settings {
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
type Mode = 'prose' | 'code' | 'list' | 'rows';

/** A block ready to merge or split. */
interface Prepared {
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

interface HeadingLine {
  text: string;
  tokens: number;
  level: number;
  page: number | null;
  lineStart: number | null;
  lineEnd: number | null;
}

/** The heading lines that open a section's first chunk. */
interface Prefix {
  lines: HeadingLine[];
  text: string;
  tokens: number;
  lineStart: number | null;
  lineEnd: number | null;
}

/** A slice [start, end) of the text being split; consecutive segments tile it. */
interface Segment {
  start: number;
  end: number;
  tokens: number;
  blank: boolean;
  lineStart: number | null;
  lineEnd: number | null;
}

interface LineRange {
  lineStart: number | null;
  lineEnd: number | null;
}

interface PackLayout {
  /** Prose pieces are trimmed; line pieces keep the first line's indentation. */
  mode: 'prose' | 'lines';
  prefix: Prefix | null;
  header: { text: string; tokens: number; everyPiece: boolean } | null;
  /** Where the first piece starts when its header row(s) came from the text itself. */
  firstLineStart: number | null;
  page: number | null;
}

// Finer and finer places to cut prose: sentences, lines, words, then characters.
const SENTENCE = 0;
const LINE = 1;
const WORD = 2;
const CHARACTER = 3;
const CUT_AFTER: Readonly<Record<number, RegExp>> = {
  // Sentence ends (closing quotes and brackets stay with their sentence), CJK full stops, blank lines.
  [SENTENCE]: /[.!?…]+["'”’»)\]]*\s+|[。！？]+["'”’」』)\]]*\s*|\n[ \t]*\n\s*/g,
  [LINE]: /\n/g,
  [WORD]: /\s+/g,
};

const LIST_MARKER = /^\s*(?:[-*+•◦▪‣]|\d{1,9}[.)])(?:\s|$)/;
const TABLE_RULE = /^\s*\|?\s*:?-+:?\s*(?:\|\s*:?-+:?\s*)*\|?\s*$/;
const LEADING_BLANK_LINES = /^(?:[ \t]*\r?\n)+/;
const BLANK_LINES_AT = /(?:[ \t]*\r?\n)+/y;
const NON_SPACE = /\S/;

class ChunkAssembler {
  private readonly chunks: Chunk[] = [];
  /** The open headings, outermost first. */
  private readonly headings: { level: number; text: string }[] = [];
  /** Headings whose section has produced no chunk yet: the next chunk opens with them. */
  private pending: HeadingLine[] = [];
  /** Whole blocks waiting to be merged into one chunk, all of one section and page. */
  private parts: Prepared[] = [];
  private partsPrefix: Prefix | null = null;
  private partsTokens = 0;
  private partsPage: number | null = null;

  constructor(private readonly settings: Settings) {}

  add(block: Block): void {
    if (block.kind === 'heading') this.addHeading(block);
    else this.addBody(block);
  }

  finish(): Chunk[] {
    this.flush();
    this.emitHeadingsAlone(this.pending);
    this.pending = [];
    return this.chunks;
  }

  private addHeading(block: Block): void {
    // A heading's text is one line in the chunk and one entry in the path.
    const text = block.text.replace(/\s+/g, ' ').trim();
    if (!text) return; // an empty heading (an "#" alone) names nothing: parse noise, not a boundary
    this.flush();
    const level = Math.min(6, Math.max(1, Math.floor(block.level ?? 1) || 1));
    // The pending headings' sections ended without a body of their own. A deeper heading
    // carries them into its first chunk; a sibling or higher one closes them, so they become
    // a chunk alone rather than vanish from full-text search.
    const last = this.pending.at(-1);
    if (last && level <= last.level) {
      this.emitHeadingsAlone(this.pending);
      this.pending = [];
    }
    while ((this.headings.at(-1)?.level ?? 0) >= level) this.headings.pop();
    this.headings.push({ level, text });
    this.pending.push({ text, tokens: this.settings.count(text), level, page: pageOf(block), ...lineRangeOf(block) });
  }

  private addBody(block: Block): void {
    const prepared = this.prepare(block);
    if (!prepared) return;
    const { maxTokens } = this.settings;
    if (this.parts.length > 0 && (prepared.page !== this.partsPage || this.partsTokens + this.joinCost(prepared) > maxTokens)) {
      this.flush();
    }
    if (this.parts.length > 0) {
      this.partsTokens += this.joinCost(prepared);
      this.parts.push(prepared);
      return;
    }
    const prefix = this.takePrefix();
    const tokens = (prefix ? prefix.tokens + this.settings.newlineTokens : 0) + this.wholeTokens(prepared);
    if (tokens > maxTokens) {
      this.split(prepared, prefix);
      return;
    }
    this.parts = [prepared];
    this.partsPrefix = prefix;
    this.partsTokens = tokens;
    this.partsPage = prepared.page;
  }

  private prepare(block: Block): Prepared | null {
    const raw = block.text;
    const mode: Mode = block.kind === 'code' ? 'code' : block.kind === 'list' ? 'list' : block.kind === 'table' ? 'rows' : 'prose';
    let header: string | null = null;
    let headerOffset = -1;
    let bodyOffset = 0;
    if (mode === 'rows') {
      const first = lineAt(raw, skipBlankLines(raw, 0));
      const given = block.header?.trim();
      if (given) {
        header = given;
        if (first.text.trim() === given) {
          headerOffset = first.start;
          bodyOffset = first.next;
        }
      } else if (first.text.includes('|') && first.next < raw.length) {
        const second = lineAt(raw, first.next);
        if (second.text.includes('-') && TABLE_RULE.test(second.text)) {
          header = `${first.text.trim()}\n${second.text.trim()}`;
          headerOffset = first.start;
          bodyOffset = second.next;
        }
      }
    }
    let body = mode === 'prose' ? raw.trim() : trimLines(bodyOffset > 0 ? raw.slice(bodyOffset) : raw);
    if (!body) {
      if (header === null) return null;
      // A table that is all header: the header is its body.
      body = header;
      header = null;
      bodyOffset = headerOffset;
      headerOffset = -1;
    }
    const { count } = this.settings;
    return {
      block,
      mode,
      header,
      headerTokens: header === null ? 0 : count(header),
      headerOffset,
      bodyOffset,
      body,
      bodyTokens: count(body),
      page: pageOf(block),
      ...lineRangeOf(block),
    };
  }

  private wholeTokens(part: Prepared): number {
    return part.header === null ? part.bodyTokens : part.headerTokens + this.settings.newlineTokens + part.bodyTokens;
  }

  /** Tokens `part` adds after the last waiting part: more rows of the same table need no second header. */
  private joinCost(part: Prepared): number {
    const last = this.parts.at(-1);
    if (last && part.header !== null && last.header === part.header) return this.settings.newlineTokens + part.bodyTokens;
    return this.settings.blankLineTokens + this.wholeTokens(part);
  }

  /** Hands over the pending headings as the opening lines of the next chunk. */
  private takePrefix(): Prefix | null {
    const lines = this.pending;
    if (lines.length === 0) return null;
    this.pending = [];
    const tokens = lines.reduce((sum, line) => sum + line.tokens, 0) + this.settings.newlineTokens * (lines.length - 1);
    if (tokens > this.settings.halfChunk) {
      // Headings this long would crowd out the text they head: give them a chunk of their own.
      this.emitHeadingsAlone(lines);
      return null;
    }
    return { lines, text: lines.map((line) => line.text).join('\n'), tokens, ...spanOf(lines) };
  }

  /** Emits the waiting blocks as one chunk (or more, if the exact count disagrees with the plan). */
  private flush(): void {
    const parts = this.parts;
    if (parts.length === 0) return;
    let prefix = this.partsPrefix;
    const page = this.partsPage;
    this.parts = [];
    this.partsPrefix = null;
    this.partsTokens = 0;
    let start = 0;
    while (start < parts.length) {
      let end = parts.length;
      for (;;) {
        const text = this.mergeText(prefix, parts, start, end);
        const only = parts[start]!;
        // A single block with nothing added was counted as it is: no need to count it again.
        const tokens = !prefix && end - start === 1 && only.header === null ? only.bodyTokens : this.settings.count(text);
        if (tokens <= this.settings.maxTokens) {
          const lineStart = prefix?.lineStart ?? firstDefined(parts, start, end, (part) => part.lineStart);
          const lineEnd = lastDefined(parts, start, end, (part) => part.lineEnd) ?? prefix?.lineEnd ?? null;
          this.emit(text, tokens, page, lineStart, lineEnd);
          break;
        }
        if (end - start > 1) {
          end--; // the tokenizer is not quite additive here: give the last block to the next chunk
          continue;
        }
        // One block that only breaks the limit with its heading or header line: split it.
        this.split(only, prefix);
        break;
      }
      prefix = null;
      start = end;
    }
  }

  private mergeText(prefix: Prefix | null, parts: Prepared[], start: number, end: number): string {
    let text = prefix ? `${prefix.text}\n` : '';
    for (let i = start; i < end; i++) {
      const part = parts[i]!;
      const previous = i > start ? parts[i - 1] : undefined;
      if (previous && part.header !== null && previous.header === part.header) {
        text += `\n${part.body}`;
        continue;
      }
      if (i > start) text += '\n\n';
      text += part.header === null ? part.body : `${part.header}\n${part.body}`;
    }
    return text;
  }

  /** Cuts one block that is too big into pieces. */
  private split(part: Prepared, prefix: Prefix | null): void {
    const raw = part.block.text;
    const fallback: LineRange = { lineStart: part.lineStart, lineEnd: part.lineEnd };
    const segments: Segment[] = [];
    const layout: PackLayout = { mode: 'lines', prefix, header: null, firstLineStart: null, page: part.page };
    if (part.mode === 'prose') {
      // Sentences do not map back to source lines reliably (parsers reflow paragraphs), so
      // every piece keeps the paragraph's range.
      layout.mode = 'prose';
      this.refine(raw, 0, raw.length, SENTENCE, fallback, segments);
    } else {
      const firstLine = textFirstLine(part);
      const lineOfOffset = (offset: number): number | null => (firstLine === null ? null : firstLine + countNewlines(raw, 0, offset));
      if (part.header !== null) {
        const everyPiece = part.headerTokens <= this.settings.halfChunk; // else only the first piece has it
        layout.header = { text: part.header, tokens: part.headerTokens, everyPiece };
        if (part.headerOffset >= 0) layout.firstLineStart = lineOfOffset(part.headerOffset);
      }
      const mode = part.mode === 'list' ? 'item' : 'line';
      this.lineUnits(raw, part.bodyOffset, raw.length, lineOfOffset(part.bodyOffset), mode, fallback, segments);
    }
    this.pack(raw, segments, layout);
  }

  /**
   * Cuts [start, end) of `text` into line segments ('line') or list items ('item': a line
   * with a marker, or no deeper indentation than the current item, starts a new one).
   * `firstLine` is the source line of the first line, null when lines cannot be mapped.
   */
  private lineUnits(text: string, start: number, end: number, firstLine: number | null, mode: 'line' | 'item', fallback: LineRange, out: Segment[]): void {
    let unitStart = -1;
    let unitLine: number | null = null;
    let unitIndent = 0;
    let lineCount = 0;
    let line = firstLine;
    let previousLine = firstLine;
    for (let position = start; position < end; ) {
      const newline = text.indexOf('\n', position);
      const next = newline === -1 || newline >= end ? end : newline + 1;
      let opens = unitStart < 0 || mode === 'line';
      let indent = 0;
      if (!opens || mode === 'item') {
        const lineText = text.slice(position, next);
        indent = lineText.length - lineText.trimStart().length;
        if (!opens) opens = NON_SPACE.test(lineText) && (LIST_MARKER.test(lineText) || indent <= unitIndent);
      }
      if (opens) {
        if (unitStart >= 0) this.addUnit(text, unitStart, position, { lineStart: unitLine, lineEnd: previousLine }, lineCount > 1, fallback, out);
        unitStart = position;
        unitLine = line;
        unitIndent = indent;
        lineCount = 0;
      }
      lineCount++;
      previousLine = line;
      if (line !== null) line++;
      position = next;
    }
    if (unitStart >= 0) this.addUnit(text, unitStart, end, { lineStart: unitLine, lineEnd: previousLine }, lineCount > 1, fallback, out);
  }

  private addUnit(text: string, start: number, end: number, lines: LineRange, multiLine: boolean, fallback: LineRange, out: Segment[]): void {
    const range = lines.lineStart === null ? fallback : lines;
    const slice = text.slice(start, end);
    const tokens = this.settings.count(slice);
    if (tokens <= this.settings.maxTokens) {
      out.push({ start, end, tokens, blank: !NON_SPACE.test(slice), ...range });
    } else if (multiLine) {
      this.lineUnits(text, start, end, lines.lineStart, 'line', fallback, out); // an item too big: its lines
    } else {
      this.refine(text, start, end, WORD, range, out); // one line too long: words, then characters
    }
  }

  /** Cuts [start, end) at `level`, and any piece still too big at the next finer level. */
  private refine(text: string, start: number, end: number, level: number, lines: LineRange, out: Segment[]): void {
    const pattern = level < CHARACTER ? CUT_AFTER[level] : undefined;
    if (!pattern) {
      this.characterUnits(text, start, end, lines, out);
      return;
    }
    const slice = text.slice(start, end);
    const cuts = cutPoints(slice, pattern);
    if (cuts.length === 1) {
      this.refine(text, start, end, level + 1, lines, out); // nothing to cut at here: it is still too big
      return;
    }
    let from = 0;
    for (const cut of cuts) {
      const piece = slice.slice(from, cut);
      const tokens = this.settings.count(piece);
      if (tokens <= this.settings.maxTokens) out.push({ start: start + from, end: start + cut, tokens, blank: !NON_SPACE.test(piece), ...lines });
      else this.refine(text, start + from, start + cut, level + 1, lines, out);
      from = cut;
    }
  }

  /**
   * The last resort for a run with no spaces: slices of about a quarter chunk, so pieces
   * still pack and overlap. A slice never separates the two halves of a surrogate pair.
   */
  private characterUnits(text: string, start: number, end: number, lines: LineRange, out: Segment[]): void {
    const { count, maxTokens } = this.settings;
    const tokens = Math.max(1, count(text.slice(start, end)));
    const target = Math.max(1, Math.floor(maxTokens / 4));
    const step = Math.max(1, Math.floor(((end - start) * target) / tokens));
    for (let from = start; from < end; ) {
      const to = codePointBoundary(text, Math.min(end, from + step), end);
      this.characterSlice(text, from, to, lines, out);
      from = to;
    }
  }

  private characterSlice(text: string, start: number, end: number, lines: LineRange, out: Segment[]): void {
    const slice = text.slice(start, end);
    const tokens = this.settings.count(slice);
    const middle = codePointBoundary(text, start + Math.floor((end - start) / 2), end);
    // A single code point the counter rates above maxTokens (only with a tiny maxTokens) is
    // indivisible: it becomes a chunk over the limit, the one exception to the rule.
    if (tokens <= this.settings.maxTokens || middle <= start || middle >= end) {
      out.push({ start, end, tokens, blank: !NON_SPACE.test(slice), ...lines });
      return;
    }
    this.characterSlice(text, start, middle, lines, out);
    this.characterSlice(text, middle, end, lines, out);
  }

  /**
   * Packs consecutive segments into chunks of at most maxTokens. Each piece after the first
   * begins with the last whole segments of the one before, about overlapTokens of them.
   */
  private pack(text: string, segments: Segment[], layout: PackLayout): void {
    const { maxTokens, newlineTokens, count } = this.settings;
    const header = layout.header;
    let prefix = layout.prefix;
    let emitted = false;
    let from = 0; // first segment of the current piece, overlap included
    let next = 0; // first segment that no piece has held yet
    while (next < segments.length) {
      let usePrefix = prefix !== null;
      let useHeader = header !== null && (header.everyPiece || !emitted);
      const fixedCost = (): number => (usePrefix && prefix ? prefix.tokens + newlineTokens : 0) + (useHeader && header ? header.tokens + newlineTokens : 0);
      let used = 0;
      for (let k = from; k < next; k++) used += segments[k]!.tokens;
      const firstNew = segments[next]!.tokens;
      while (from < next && fixedCost() + used + firstNew > maxTokens) used -= segments[from++]!.tokens;
      if (fixedCost() + used + firstNew > maxTokens && usePrefix && prefix) {
        this.emitHeadingsAlone(prefix.lines);
        prefix = null;
        continue;
      }
      if (fixedCost() + used + firstNew > maxTokens) useHeader = false;
      let to = next + 1;
      used += firstNew;
      while (to < segments.length && fixedCost() + used + segments[to]!.tokens <= maxTokens) used += segments[to++]!.tokens;
      for (;;) {
        const piece = buildPiece(text, segments, from, to, layout.mode);
        if (!piece) break; // only blank lines: nothing to say
        const opening = [usePrefix && prefix ? prefix.text : null, useHeader && header ? header.text : null].filter((line) => line !== null);
        const chunkText = opening.length > 0 ? `${opening.join('\n')}\n${piece.text}` : piece.text;
        const tokens = count(chunkText);
        let accept = tokens <= maxTokens;
        if (!accept) {
          // The exact count disagrees with the plan: give back a unit and try again.
          if (to - next > 1) to--;
          else if (from < next) from++;
          else if (usePrefix && prefix) {
            this.emitHeadingsAlone(prefix.lines);
            prefix = null;
            usePrefix = false;
          } else if (useHeader) useHeader = false;
          else accept = true; // one indivisible segment (see characterSlice)
          if (!accept) continue;
        }
        const lineStart = (usePrefix ? prefix?.lineStart : null) ?? (emitted ? null : layout.firstLineStart) ?? piece.lineStart;
        this.emit(chunkText, tokens, layout.page, lineStart, piece.lineEnd);
        emitted = true;
        if (usePrefix) prefix = null;
        break;
      }
      next = to;
      from = next < segments.length ? this.overlapStart(segments, from, to) : to;
    }
    if (prefix) this.emitHeadingsAlone(prefix.lines);
  }

  /**
   * Where the next piece starts: the suffix of whole segments of [from, to) whose size is
   * nearest overlapTokens, never the whole piece and never more than half a chunk.
   */
  private overlapStart(segments: Segment[], from: number, to: number): number {
    const { overlapTokens, halfChunk } = this.settings;
    let best = to;
    let bestGap = overlapTokens;
    let sum = 0;
    for (let k = to - 1; k > from && overlapTokens > 0; k--) {
      sum += segments[k]!.tokens;
      if (sum > halfChunk) break;
      const gap = Math.abs(sum - overlapTokens);
      if (gap < bestGap) {
        best = k;
        bestGap = gap;
      }
      if (sum >= overlapTokens) break;
    }
    return best;
  }

  /** Headings with no text under them, as chunks of their own (one per page they sit on). */
  private emitHeadingsAlone(lines: HeadingLine[]): void {
    for (let start = 0; start < lines.length; ) {
      const page = lines[start]!.page;
      let end = start + 1;
      while (end < lines.length && lines[end]!.page === page) end++;
      const group = lines.slice(start, end);
      const text = group.map((line) => line.text).join('\n');
      const tokens = this.settings.count(text);
      const range = spanOf(group);
      if (tokens <= this.settings.maxTokens) {
        this.emit(text, tokens, page, range.lineStart, range.lineEnd);
      } else {
        const segments: Segment[] = [];
        this.refine(text, 0, text.length, SENTENCE, range, segments);
        this.pack(text, segments, { mode: 'prose', prefix: null, header: null, firstLineStart: null, page });
      }
      start = end;
    }
  }

  private emit(text: string, tokenCount: number, page: number | null, lineStart: number | null, lineEnd: number | null): void {
    if (!NON_SPACE.test(text)) return;
    this.chunks.push({
      ordinal: this.chunks.length,
      text,
      headingPath: this.headings.map((heading) => heading.text),
      pageStart: page,
      pageEnd: page,
      lineStart,
      lineEnd,
      tokenCount,
    });
  }
}

/** The text of segments [from, to) without blank segments at either end; null when all are blank. */
function buildPiece(text: string, segments: Segment[], from: number, to: number, mode: 'prose' | 'lines'): ({ text: string } & LineRange) | null {
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
function cutPoints(text: string, pattern: RegExp): number[] {
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
function codePointBoundary(text: string, offset: number, end: number): number {
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
function textFirstLine(part: Prepared): number | null {
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

function countNewlines(text: string, start: number, end: number): number {
  let newlines = 0;
  for (let i = text.indexOf('\n', start); i !== -1 && i < end; i = text.indexOf('\n', i + 1)) newlines++;
  return newlines;
}

function lineAt(text: string, start: number): { text: string; start: number; next: number } {
  const newline = text.indexOf('\n', start);
  const next = newline === -1 ? text.length : newline + 1;
  return { text: text.slice(start, newline === -1 ? text.length : newline), start, next };
}

function skipBlankLines(text: string, start: number): number {
  BLANK_LINES_AT.lastIndex = start;
  return BLANK_LINES_AT.test(text) ? BLANK_LINES_AT.lastIndex : start;
}

/** Trims lines of code, a list or a table: leading blank lines and trailing space go, indentation stays. */
function trimLines(text: string): string {
  return text.replace(LEADING_BLANK_LINES, '').trimEnd();
}

function pageOf(block: Block): number | null {
  return typeof block.page === 'number' && Number.isFinite(block.page) ? block.page : null;
}

function lineRangeOf(block: Block): LineRange {
  const valid = (line: number | undefined): number | null => (typeof line === 'number' && Number.isInteger(line) && line >= 1 ? line : null);
  return { lineStart: valid(block.lineStart), lineEnd: valid(block.lineEnd) };
}

function spanOf(lines: readonly LineRange[]): LineRange {
  return { lineStart: firstDefined(lines, 0, lines.length, (line) => line.lineStart), lineEnd: lastDefined(lines, 0, lines.length, (line) => line.lineEnd) };
}

function firstDefined<T>(items: readonly T[], start: number, end: number, pick: (item: T) => number | null): number | null {
  for (let i = start; i < end; i++) {
    const value = pick(items[i]!);
    if (value !== null) return value;
  }
  return null;
}

function lastDefined<T>(items: readonly T[], start: number, end: number, pick: (item: T) => number | null): number | null {
  for (let i = end - 1; i >= start; i--) {
    const value = pick(items[i]!);
    if (value !== null) return value;
  }
  return null;
}
