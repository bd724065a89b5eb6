import type { LineRange, Segment, Settings } from './chunkShapes';
import { CHARACTER, CUT_AFTER, LIST_MARKER, NON_SPACE, WORD, codePointBoundary, cutPoints } from './chunkText';

/**
 * Cuts the text of a block too big for one chunk into segments the chunker packs: lines or list
 * items, sentences, then lines, words and at last slices of characters, each counted once and
 * each at most maxTokens (but for a single code point the counter rates above it).
 */
export class TextSegmenter {
  constructor(private readonly settings: Settings) {}

  /**
   * Cuts [start, end) of `text` into line segments ('line') or list items ('item': a line
   * with a marker, or no deeper indentation than the current item, starts a new one).
   * `firstLine` is the source line of the first line, null when lines cannot be mapped.
   */
  lineUnits(text: string, start: number, end: number, firstLine: number | null, mode: 'line' | 'item', fallback: LineRange, out: Segment[]): void {
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
  refine(text: string, start: number, end: number, level: number, lines: LineRange, out: Segment[]): void {
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
}
