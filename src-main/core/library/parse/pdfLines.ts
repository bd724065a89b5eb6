import { isPageNumber, runningKey } from './runningText';

/**
 * A PDF page's text items to lines, and the lines that repeat at the top or bottom of every
 * page (running headers, footers, page numbers) told apart from the body.
 */

/** One text item of pdf.js's text content, as far as line building needs it. */
export interface PdfTextItem {
  str: string;
  transform: number[];
  width: number;
  height: number;
  hasEOL: boolean;
}

/** One run of text on a baseline, in PDF user space (y grows upwards). */
export interface Line {
  text: string;
  x: number;
  y: number;
  size: number;
}

/**
 * Text items to lines: a new line at an end-of-line mark or when the baseline moves. A run a
 * little above or below the baseline (a subscript or a superscript, as in "H₂SO₄" or "mc²") stays
 * on its line. pdf.js puts a space item into any gap between runs wider than a tenth of the type
 * size; around a raised or lowered run that is a word processor's spacing, not a word break, so
 * there the gap is measured against the larger type instead.
 */
export function pageLines(items: readonly PdfTextItem[]): Line[] {
  const lines: Line[] = [];
  let current: (Line & { end: number; run: { size: number; y: number }; space: boolean }) | null = null;
  let lineBreak = false;
  const finish = (): void => {
    if (current && current.text.trim()) lines.push({ text: current.text.replace(/\s+/g, ' ').trim(), x: current.x, y: current.y, size: current.size });
    current = null;
  };
  for (const item of items) {
    const x = item.transform[4] ?? 0;
    const y = item.transform[5] ?? 0;
    const size = Math.hypot(item.transform[2] ?? 0, item.transform[3] ?? 0) || item.height || 1;
    if (item.str.length > 0 && !item.str.trim()) {
      // A space on its own: decided when the next run shows what it separates.
      if (current && !lineBreak) current.space = true;
    } else if (item.str.length > 0) {
      const line = current as typeof current;
      if (!line || lineBreak || Math.abs(y - line.y) > 0.5 * Math.max(size, line.size)) {
        finish();
        current = { text: item.str, x, y, size, end: x + item.width, run: { size, y }, space: false };
      } else {
        const gap = x - line.end;
        const shifted = Math.abs(size - line.run.size) > 0.05 * size || Math.abs(y - line.run.y) > 0.05 * size;
        const wordGap = gap > 0.15 * (shifted ? Math.max(size, line.run.size) : size);
        const needsSpace = (shifted ? wordGap : line.space || wordGap) && !/\s$/.test(line.text) && !/^\s/.test(item.str);
        line.text += (needsSpace ? ' ' : '') + item.str;
        line.end = Math.max(line.end, x + item.width);
        line.run = { size, y };
        line.space = false;
        // The line's baseline and size are its body text's, not a raised or lowered run's.
        if (size > line.size) {
          line.size = size;
          line.y = y;
        }
      }
      lineBreak = false;
    }
    if (item.hasEOL) lineBreak = true;
  }
  finish();
  return lines;
}

/** How many lines at the top and at the bottom of a page may be a running header or footer. */
const EDGE_LINES = 2;

export interface RunningLines {
  /** Each page's lines without its running headers, footers and page numbers. */
  body: Line[][];
  /** The running headers and footers, once each, with the page they first appear on; bare page numbers are dropped. */
  running: { text: string; page: number }[];
}

/**
 * Lines that sit at the top or bottom edge of a page and come back, at the same height, on at
 * least two pages and two in five of the pages with text: a running header or footer, not body
 * text. Digits do not count when comparing ("Page 3 of 9" repeats as "Page # of #").
 */
export function separateRunningLines(pages: readonly Line[][]): RunningLines {
  const textPages = pages.filter((lines) => lines.length > 0).length;
  const seen = new Map<string, { pages: Set<number>; y: number; size: number }>();
  const edgeKeys = pages.map((lines, index) => {
    const keys = new Map<Line, string>();
    for (const line of edgeLines(lines)) {
      const key = runningKey(line.text);
      keys.set(line, key);
      const entry = seen.get(key);
      if (!entry) seen.set(key, { pages: new Set([index]), y: line.y, size: line.size });
      else if (Math.abs(entry.y - line.y) <= 0.5 * Math.max(entry.size, line.size)) entry.pages.add(index);
    }
    return keys;
  });
  const repeats = (key: string | undefined): boolean => {
    const entry = key === undefined ? undefined : seen.get(key);
    return entry !== undefined && entry.pages.size >= 2 && entry.pages.size >= 0.4 * textPages;
  };

  const body: Line[][] = [];
  const running: { text: string; page: number }[] = [];
  const kept = new Set<string>();
  pages.forEach((lines, index) => {
    const keys = edgeKeys[index] ?? new Map<Line, string>();
    body.push(
      lines.filter((line) => {
        const key = keys.get(line);
        if (key === undefined || !repeats(key)) return true;
        if (!kept.has(key) && !isPageNumber(line.text)) running.push({ text: line.text, page: index + 1 });
        kept.add(key);
        return false;
      }),
    );
  });
  return { body, running };
}

/** The top- and bottom-most lines of a page, by height on the page rather than order in the content stream. */
function edgeLines(lines: readonly Line[]): Line[] {
  const byHeight = [...lines].sort((a, b) => b.y - a.y);
  if (byHeight.length <= EDGE_LINES * 2) return byHeight;
  return [...byHeight.slice(0, EDGE_LINES), ...byHeight.slice(-EDGE_LINES)];
}
