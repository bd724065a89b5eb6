/**
 * Inline citations: a reply in a chat scoped to collections cites its sources as [1], [2].
 * This turns those markers into small buttons in the reply's HTML. It runs on the HTML the
 * markdown renderer produced (already sanitised by DOMPurify) and stays a pure string
 * function, so it runs in Node tests as well as in the page.
 */

export interface CitationMark {
  n: number;
  /** Said to assistive technology and shown on hover, e.g. "Source 2: handbook.md, page 3". */
  label: string;
}

/** Text inside these elements is never touched: code stays code, links and buttons stay whole. */
const SKIP = new Set(['pre', 'code', 'a', 'button', 'kbd', 'samp', 'script', 'style', 'textarea']);

/** A comment, or a start/end tag whose quoted attribute values may hold any character. */
const TAG = /<!--[\s\S]*?-->|<(\/?)([a-zA-Z][a-zA-Z0-9-]*)((?:[^>"']|"[^"]*"|'[^']*')*)>/g;

/** [1], [2, 3], [1,2]: up to three digits each. */
const MARKER = /\[(\d{1,3}(?:\s*,\s*\d{1,3})*)\]/g;

function escapeAttribute(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function citationButton(mark: CitationMark): string {
  const label = escapeAttribute(mark.label);
  return `<button type="button" class="citation" data-cite="${mark.n}" aria-label="${label}" title="${label}">${mark.n}</button>`;
}

/** Replaces markers in one run of text; a marker naming any number not cited stays as it was. */
function linkText(text: string, marks: ReadonlyMap<number, CitationMark>): string {
  return text.replace(MARKER, (whole, list: string) => {
    const found = list.split(',').map((part) => marks.get(Number(part.trim())));
    if (found.some((mark) => mark === undefined)) return whole;
    return (found as CitationMark[]).map(citationButton).join('');
  });
}

/**
 * Turns `[n]` in the text of `html` into citation buttons (`button.citation[data-cite=n]`)
 * for every n in `citations`; markers inside code, links and buttons are left alone, as are
 * numbers that were not cited. Returns `html` unchanged when there is nothing to cite.
 */
export function linkCitations(html: string, citations: readonly CitationMark[]): string {
  if (citations.length === 0 || !html.includes('[')) return html;
  const marks = new Map(citations.map((c) => [c.n, c]));
  let out = '';
  let skipDepth = 0;
  let last = 0;
  for (const match of html.matchAll(TAG)) {
    const text = html.slice(last, match.index);
    out += skipDepth === 0 ? linkText(text, marks) : text;
    out += match[0];
    last = match.index + match[0].length;
    const name = match[2]?.toLowerCase();
    if (!name || !SKIP.has(name)) continue;
    if (match[1] === '/') skipDepth = Math.max(0, skipDepth - 1);
    else if (!match[3]?.trimEnd().endsWith('/')) skipDepth++;
  }
  const rest = html.slice(last);
  return out + (skipDepth === 0 ? linkText(rest, marks) : rest);
}
