import { DomUtils, parseDocument } from 'htmlparser2';
import type { Block } from '../types';

export type HtmlDocument = ReturnType<typeof parseDocument>;
export type HtmlNode = HtmlDocument['children'][number];
export type HtmlElement = NonNullable<ReturnType<typeof DomUtils.findOne>>;

export interface HtmlToBlocksOptions {
  /**
   * Web pages: drop sidebars, forms and page-level headers and footers. Off for EPUB and DOCX,
   * where an `<aside>` is a footnote and a `<header>` holds the chapter heading.
   */
  dropBoilerplate?: boolean;
}

/** Never content: code, styling, embedded graphics, form controls, and tables of contents. */
const ALWAYS_SKIPPED = new Set([
  'head', 'script', 'style', 'noscript', 'template', 'svg', 'math', 'canvas', 'iframe', 'object', 'embed',
  'video', 'audio', 'map', 'select', 'button', 'input', 'textarea', 'nav',
]);
const BOILERPLATE = new Set(['aside', 'form', 'dialog']);
/** Page headers and footers are boilerplate; inside these they belong to the content. */
const SECTIONING = new Set(['article', 'section', 'main']);
const BLOCK_ELEMENTS = new Set([
  'html', 'body', 'address', 'article', 'aside', 'blockquote', 'center', 'dd', 'details', 'dialog', 'dir', 'div', 'dl',
  'dt', 'fieldset', 'figcaption', 'figure', 'footer', 'form', 'header', 'hgroup', 'hr', 'legend', 'li', 'main', 'menu',
  'p', 'section', 'summary', 'caption', 'tr', 'td', 'th', 'thead', 'tbody', 'tfoot', 'frameset', 'noframes',
]);
const HEADING = /^h([1-6])$/;
/** Tables used for page layout hold block content; they are read as blocks, not rows. */
const LAYOUT_TABLE_CONTENT = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'ul', 'ol', 'table', 'pre', 'blockquote']);

/** The parser options every HTML-ish input shares; self-closing tags matter for XHTML. */
export function parseHtmlDocument(html: string): HtmlDocument {
  return parseDocument(html, { decodeEntities: true, lowerCaseTags: true, lowerCaseAttributeNames: true, recognizeSelfClosing: true });
}

/**
 * Reads HTML (a string, or nodes already parsed) into blocks in reading order: headings with
 * their level, paragraphs, lists one item per line, preformatted code, tables one row per line.
 */
export function htmlToBlocks(input: string | HtmlNode | readonly HtmlNode[], options: HtmlToBlocksOptions = {}): Block[] {
  const nodes: readonly HtmlNode[] = typeof input === 'string' ? parseHtmlDocument(input).children : Array.isArray(input) ? input : [input as HtmlNode];
  const collector = new BlockCollector(options.dropBoilerplate ?? false);
  for (const node of nodes) collector.walk(node, false);
  collector.flush();
  return collector.blocks;
}

/** A node's text on one line, whitespace collapsed; line breaks and block edges become spaces. */
export function collapsedText(node: HtmlNode | readonly HtmlNode[]): string {
  const nodes: readonly HtmlNode[] = Array.isArray(node) ? node : [node as HtmlNode];
  return collapse(nodes.map((child) => itemText(child, null)).join(''));
}

export function elementName(node: HtmlNode): string | null {
  return DomUtils.isTag(node) ? node.name.toLowerCase() : null;
}

function collapse(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

class BlockCollector {
  readonly blocks: Block[] = [];
  private inline = '';

  constructor(private readonly dropBoilerplate: boolean) {}

  /** `inSection`: inside article/section/main, where header and footer are content. */
  walk(node: HtmlNode, inSection: boolean): void {
    if (DomUtils.isText(node)) {
      this.inline += node.data;
      return;
    }
    if (DomUtils.isCDATA(node) || DomUtils.isDocument(node)) {
      for (const child of node.children) this.walk(child, inSection);
      return;
    }
    if (!DomUtils.isTag(node)) return; // comments, processing instructions
    const name = node.name.toLowerCase();
    if (ALWAYS_SKIPPED.has(name) || node.attribs.hidden !== undefined) return;
    if (this.dropBoilerplate && (BOILERPLATE.has(name) || (!inSection && (name === 'header' || name === 'footer')))) return;

    const heading = HEADING.exec(name);
    if (heading) {
      this.flush();
      const text = collapsedText(node);
      if (text) this.blocks.push({ kind: 'heading', level: Number(heading[1]), text });
      return;
    }
    switch (name) {
      case 'br':
        this.inline += '\n';
        return;
      case 'img':
        this.inline += imageText(node);
        return;
      case 'ul':
      case 'ol': {
        this.flush();
        const lines: string[] = [];
        listLines(node, 0, lines);
        if (lines.length > 0) this.blocks.push({ kind: 'list', text: lines.join('\n') });
        return;
      }
      case 'pre': {
        this.flush();
        const text = DomUtils.textContent(node).replace(/\r\n?/g, '\n').replace(/^\n/, '').trimEnd();
        if (text.trim()) this.blocks.push({ kind: 'code', text });
        return;
      }
      case 'table':
        this.flush();
        this.table(node, inSection);
        return;
    }
    const block = BLOCK_ELEMENTS.has(name);
    if (block) this.flush();
    const childInSection = inSection || SECTIONING.has(name);
    for (const child of node.children) this.walk(child, childInSection);
    if (block) this.flush();
  }

  /** Ends the paragraph being collected; `<br>` line breaks inside it are kept. */
  flush(): void {
    const text = this.inline
      .split('\n')
      .map(collapse)
      .filter((line) => line.length > 0)
      .join('\n');
    this.inline = '';
    if (text) this.blocks.push({ kind: 'paragraph', text });
  }

  private table(table: HtmlElement, inSection: boolean): void {
    const rows = tableRows(table);
    const isLayout = rows.some((row) => row.some((cell) => DomUtils.findOne((el) => LAYOUT_TABLE_CONTENT.has(el.name.toLowerCase()), cell.children) !== null));
    if (isLayout) {
      for (const child of table.children) this.walk(child, inSection);
      this.flush();
      return;
    }
    const caption = table.children.find((child) => elementName(child) === 'caption');
    if (caption) {
      const text = collapsedText(caption);
      if (text) this.blocks.push({ kind: 'paragraph', text });
    }
    const lines = rows
      .map((row) => row.map((cell) => collapsedText(cell)))
      .filter((cells) => cells.some((cell) => cell.length > 0))
      .map((cells) => cells.join(' | '));
    if (lines.length > 0) this.blocks.push({ kind: 'table', text: lines.join('\n') });
  }
}

/** The rows of this table (not of tables nested in it), each a list of its cells. */
function tableRows(table: HtmlElement): HtmlElement[][] {
  const rows: HtmlElement[][] = [];
  const visit = (parent: HtmlElement): void => {
    for (const child of parent.children) {
      const name = elementName(child);
      if (name === 'tr' && DomUtils.isTag(child)) {
        rows.push(child.children.filter((cell): cell is HtmlElement => DomUtils.isTag(cell) && (cell.name === 'td' || cell.name === 'th')));
      } else if ((name === 'thead' || name === 'tbody' || name === 'tfoot') && DomUtils.isTag(child)) {
        visit(child);
      }
    }
  };
  visit(table);
  return rows;
}

/** One line per item, "- item" or "3. item", nested lists indented two spaces per level. */
function listLines(list: HtmlElement, depth: number, out: string[]): void {
  const ordered = list.name.toLowerCase() === 'ol';
  let number = Number.parseInt(list.attribs.start ?? '1', 10);
  if (!Number.isFinite(number)) number = 1;
  for (const child of list.children) {
    const name = elementName(child);
    if (!DomUtils.isTag(child)) {
      // Stray text directly inside a list still belongs to it.
      const text = DomUtils.isText(child) ? collapse(child.data) : '';
      if (text) out.push(`${'  '.repeat(depth)}${text}`);
      continue;
    }
    if (name === 'ul' || name === 'ol') {
      listLines(child, depth + 1, out); // a list nested without an <li>, common in hand-written HTML
      continue;
    }
    if (name !== 'li') continue;
    const value = Number.parseInt(child.attribs.value ?? '', 10);
    if (Number.isFinite(value)) number = value;
    const nested: HtmlElement[] = [];
    const text = collapse(child.children.map((part) => itemText(part, nested)).join(''));
    if (text) out.push(`${'  '.repeat(depth)}${ordered ? `${number}.` : '-'} ${text}`);
    number++;
    for (const sublist of nested) listLines(sublist, depth + 1, out);
  }
}

/** An image reads as its alt text, as a screen reader or a text browser reads it; a decorative one (alt="") as nothing. */
function imageText(image: HtmlElement): string {
  const alt = collapse(image.attribs.alt ?? '');
  return alt ? ` ${alt} ` : '';
}

/**
 * A node's raw text, with spaces where line breaks and block edges are. With `nested`, lists
 * inside are set aside (to follow a list item on their own lines) instead of read inline.
 */
function itemText(node: HtmlNode, nested: HtmlElement[] | null): string {
  if (DomUtils.isText(node)) return node.data;
  if (DomUtils.isCDATA(node) || DomUtils.isDocument(node)) return node.children.map((child) => itemText(child, nested)).join('');
  if (!DomUtils.isTag(node)) return '';
  const name = node.name.toLowerCase();
  if (ALWAYS_SKIPPED.has(name)) return '';
  if (name === 'img') return imageText(node);
  if (nested && (name === 'ul' || name === 'ol')) {
    nested.push(node);
    return ' ';
  }
  const inner = node.children.map((child) => itemText(child, nested)).join('');
  return BLOCK_ELEMENTS.has(name) || name === 'br' ? ` ${inner} ` : inner;
}
