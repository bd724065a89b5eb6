import { TextSegmenter } from './chunkSegments';
import { resolveSettings, type HeadingLine, type LineRange, type Mode, type PackLayout, type Prefix, type Prepared, type Segment, type Settings } from './chunkShapes';
import { buildPiece, countNewlines, firstDefined, lastDefined, lineAt, lineRangeOf, NON_SPACE, pageOf, SENTENCE, skipBlankLines, spanOf, TABLE_RULE, textFirstLine, trimLines } from './chunkText';
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

  private readonly segmenter: TextSegmenter;

  constructor(private readonly settings: Settings) {
    this.segmenter = new TextSegmenter(settings);
  }

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
      this.segmenter.refine(raw, 0, raw.length, SENTENCE, fallback, segments);
    } else {
      const firstLine = textFirstLine(part);
      const lineOfOffset = (offset: number): number | null => (firstLine === null ? null : firstLine + countNewlines(raw, 0, offset));
      if (part.header !== null) {
        const everyPiece = part.headerTokens <= this.settings.halfChunk; // else only the first piece has it
        layout.header = { text: part.header, tokens: part.headerTokens, everyPiece };
        if (part.headerOffset >= 0) layout.firstLineStart = lineOfOffset(part.headerOffset);
      }
      const mode = part.mode === 'list' ? 'item' : 'line';
      this.segmenter.lineUnits(raw, part.bodyOffset, raw.length, lineOfOffset(part.bodyOffset), mode, fallback, segments);
    }
    this.pack(raw, segments, layout);
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
        this.segmenter.refine(text, 0, text.length, SENTENCE, range, segments);
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
