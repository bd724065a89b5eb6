import type JSZip from 'jszip';
import { DomUtils } from 'htmlparser2';
import type { Block } from '../types';
import { elementName, htmlToBlocks, parseHtmlDocument, type HtmlElement, type HtmlNode } from './htmlToBlocks';
import { isPageNumber, RUNNING_HEADING, runningKey } from './runningText';

/** The sections a Word document's notes are read into, after its body. */
export const FOOTNOTES_HEADING = 'Footnotes';
export const ENDNOTES_HEADING = 'Endnotes';

const PART = /^word\/(header|footer)(\d*)\.xml$/;

/**
 * The text of a Word document's page headers and footers (word/header*.xml, word/footer*.xml),
 * which mammoth does not read: each distinct paragraph once, headers first, bare page numbers
 * left out, under their own heading so they never run into the body text.
 */
export async function headerFooterBlocks(zip: JSZip): Promise<Block[]> {
  const parts = Object.keys(zip.files)
    .map((name) => ({ name, match: PART.exec(name) }))
    .filter((part): part is { name: string; match: RegExpExecArray } => part.match !== null)
    .sort((a, b) => (a.match[1] === b.match[1] ? Number(a.match[2] || 0) - Number(b.match[2] || 0) : a.match[1] === 'header' ? -1 : 1));
  const seen = new Set<string>();
  const texts: string[] = [];
  for (const part of parts) {
    const xml = await zip.file(part.name)?.async('string');
    if (!xml) continue;
    for (const text of paragraphTexts(xml)) {
      const key = runningKey(text);
      if (isPageNumber(text) || seen.has(key)) continue;
      seen.add(key);
      texts.push(text);
    }
  }
  if (texts.length === 0) return [];
  return [{ kind: 'heading', level: 1, text: RUNNING_HEADING }, ...texts.map((text): Block => ({ kind: 'paragraph', text }))];
}

/** Each `<w:p>`'s text on one line: its runs' `<w:t>`, tabs and breaks as spaces, a nested text box's paragraphs on their own. */
function paragraphTexts(xml: string): string[] {
  const doc = parseHtmlDocument(xml);
  const texts: string[] = [];
  for (const paragraph of DomUtils.getElementsByTagName('w:p', doc.children, true)) {
    const text = runText(paragraph.children).replace(/\s+/g, ' ').trim();
    if (text) texts.push(text);
  }
  return texts;
}

function runText(nodes: readonly HtmlNode[]): string {
  let text = '';
  for (const node of nodes) {
    const name = elementName(node);
    if (name === null || name === 'w:p' || name === 'w:instrtext' || name === 'w:deltext') continue; // nested paragraphs are read on their own
    if (name === 'w:t') text += DomUtils.textContent(node);
    else if (name === 'w:tab' || name === 'w:br' || name === 'w:cr') text += ' ';
    else if (DomUtils.isTag(node)) text += runText(node.children);
  }
  return text;
}

/**
 * mammoth renders footnotes and endnotes as one list at the end of the body, each item ending in
 * a "↑" back link. They are taken out of the body and become their own sections, one paragraph
 * per note numbered as its reference in the text ("[1] …").
 */
export function separateNotes(nodes: readonly HtmlNode[]): { body: readonly HtmlNode[]; notes: Block[] } {
  const footnotes: string[] = [];
  const endnotes: string[] = [];
  const body = nodes.filter((node) => {
    if (!isNoteList(node)) return true;
    for (const item of node.children) {
      if (!DomUtils.isTag(item)) continue;
      const [, kind, n] = /^(footnote|endnote)-(\S+)$/.exec(item.attribs.id ?? '') ?? [];
      for (const link of DomUtils.findAll((el) => el.name === 'a' && (el.attribs.href ?? '').startsWith(`#${kind}-ref-`), item.children)) DomUtils.removeElement(link);
      const text = htmlToBlocks(item.children)
        .map((block) => block.text)
        .join(' ')
        .trim();
      if (text) (kind === 'endnote' ? endnotes : footnotes).push(`[${n}] ${text}`);
    }
    return false;
  });
  const notes: Block[] = [];
  for (const [heading, list] of [[FOOTNOTES_HEADING, footnotes], [ENDNOTES_HEADING, endnotes]] as const) {
    if (list.length > 0) notes.push({ kind: 'heading', level: 1, text: heading }, ...list.map((text): Block => ({ kind: 'paragraph', text })));
  }
  return { body, notes };
}

function isNoteList(node: HtmlNode): node is HtmlElement {
  if (elementName(node) !== 'ol' || !DomUtils.isTag(node)) return false;
  const items = node.children.filter(DomUtils.isTag);
  return items.length > 0 && items.every((item) => /^(?:footnote|endnote)-/.test(item.attribs.id ?? ''));
}
