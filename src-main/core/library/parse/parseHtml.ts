import iconv from 'iconv-lite';
import { DomUtils } from 'htmlparser2';
import { DocumentProblem, type ParsedDocument } from '../types';
import { decodeText, legacyEncodingName } from './decodeText';
import { memoryBudget } from './memoryBudget';
import { collapsedText, htmlToBlocks, parseHtmlDocument, type HtmlElement, type HtmlNode } from './htmlToBlocks';

/**
 * A web page: decoded as a browser would (BOM, then the `<meta>` charset, then detection), then
 * only its main content read into blocks, without navigation, page headers and footers, scripts.
 */
export function parseHtml(bytes: Uint8Array, _path: string): ParsedDocument {
  const budget = memoryBudget().markupBytes;
  if (bytes.byteLength > budget) throw new DocumentProblem('TOO_LARGE', `is more than ${Math.round(budget / (1024 * 1024))} MB of HTML, more than the parser can hold`);
  const { text, encoding } = decodeHtml(bytes);
  const dom = parseHtmlDocument(text);
  const titleElement = DomUtils.findOne((el) => el.name === 'title', dom.children);
  const content = mainContent(dom.children);
  const blocks = htmlToBlocks(content, { dropBoilerplate: true });
  const title = (titleElement && collapsedText(titleElement)) || blocks.find((block) => block.kind === 'heading' && block.level === 1)?.text || null;
  return { format: 'html', title, blocks, encoding, warnings: [] };
}

/** Bytes to text the way the HTML spec's sniffing does it, minus the network's Content-Type. */
export function decodeHtml(bytes: Uint8Array): { text: string; encoding: string } {
  const hasBom = (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) || (bytes[0] === 0xff && bytes[1] === 0xfe) || (bytes[0] === 0xfe && bytes[1] === 0xff);
  if (hasBom) return decodeText(bytes);
  const declared = declaredCharset(bytes);
  if (declared && iconv.encodingExists(declared.toLowerCase())) {
    const encoding = legacyEncodingName(declared);
    if (encoding === 'UTF-8') return { text: new TextDecoder('utf-8').decode(bytes), encoding };
    return { text: iconv.decode(bytes, encoding), encoding };
  }
  return decodeText(bytes);
}

/**
 * The charset named in a `<meta>` (or an XHTML file's XML declaration) within the first 1024
 * bytes; those are ASCII in every encoding a page can declare, so reading them as Latin-1 is safe.
 */
function declaredCharset(bytes: Uint8Array): string | null {
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.byteLength, 1024)).toString('latin1');
  const xml = /^\s*<\?xml[^>]*\bencoding\s*=\s*["']([\w.:-]+)/i.exec(head)?.[1];
  if (xml && !/^utf-?16/i.test(xml)) return xml;
  for (const meta of head.match(/<meta\b[^>]*>/gi) ?? []) {
    const charset = /\bcharset\s*=\s*["']?\s*([\w.:-]+)/i.exec(meta)?.[1];
    // UTF-16 in a <meta> is a lie by definition (the tag was readable as ASCII); browsers use UTF-8.
    if (charset) return /^utf-?16/i.test(charset) ? 'utf-8' : charset;
  }
  return null;
}

/** The page's main content: `<main>`, `[role=main]`, its `<article>`s, else `<body>`, else everything. */
function mainContent(nodes: HtmlNode[]): HtmlNode[] {
  const main = DomUtils.findOne((el) => el.name === 'main', nodes) ?? DomUtils.findOne((el) => el.attribs.role === 'main', nodes);
  if (main) return [main];
  const articles = DomUtils.findAll((el) => el.name === 'article', nodes).filter((article) => !hasAncestor(article, 'article'));
  if (articles.length > 0) return articles;
  const body = DomUtils.findOne((el) => el.name === 'body', nodes);
  return body ? [body] : nodes;
}

function hasAncestor(element: HtmlElement, name: string): boolean {
  for (let parent = element.parent; parent; parent = parent.parent) {
    if (DomUtils.isTag(parent) && parent.name === name) return true;
  }
  return false;
}
