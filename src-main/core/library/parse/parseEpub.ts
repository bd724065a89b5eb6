import { posix } from 'node:path';
import type JSZip from 'jszip';
import { DomUtils, parseDocument } from 'htmlparser2';
import { DocumentProblem, type Block, type ParsedDocument } from '../types';
import { openZip } from './openZip';
import { decodeHtml } from './parseHtml';
import { collapsedText, htmlToBlocks, parseHtmlDocument, type HtmlElement } from './htmlToBlocks';

const CHAPTER_TYPES = new Set(['application/xhtml+xml', 'text/html', 'application/x-dtbook+xml']);
/** Encryption algorithms that only obfuscate embedded fonts; the text is still readable. */
const FONT_OBFUSCATION = ['http://www.idpf.org/2008/embedding', 'http://ns.adobe.com/pdf/enc#RC'];

interface ManifestItem {
  href: string;
  mediaType: string;
  properties: string;
}

/**
 * EPUB: chapters in spine order. Each chapter's title (from the table of contents, else its first
 * heading) is a level-1 heading before its blocks, and the chapter's own headings move one level
 * down, so every chunk's heading path starts with its chapter.
 */
export async function parseEpub(bytes: Uint8Array, _path: string): Promise<ParsedDocument> {
  const zip = await openZip(bytes, 'EPUB');
  const container = await readText(zip, 'META-INF/container.xml');
  const opfPath = container && DomUtils.findOne((el) => localName(el) === 'rootfile', parseXml(container).children)?.attribs['full-path'];
  const opfText = opfPath ? await readText(zip, opfPath) : null;
  if (!opfPath || !opfText) throw new DocumentProblem('CORRUPT', 'is not a valid EPUB (no package document)');

  const opf = parseXml(opfText).children;
  const base = posix.dirname(opfPath);
  const manifest = new Map<string, ManifestItem>();
  for (const item of DomUtils.findAll((el) => localName(el) === 'item', opf)) {
    const { id, href } = item.attribs;
    if (id && href) manifest.set(id, { href: resolveHref(base, href), mediaType: (item.attribs['media-type'] ?? '').toLowerCase(), properties: item.attribs.properties ?? '' });
  }
  const spineElement = DomUtils.findOne((el) => localName(el) === 'spine', opf);
  const spine = DomUtils.findAll((el) => localName(el) === 'itemref', opf)
    .map((ref) => manifest.get(ref.attribs.idref ?? ''))
    .filter((item): item is ManifestItem => item !== undefined && CHAPTER_TYPES.has(item.mediaType));
  if (spine.length === 0) throw new DocumentProblem('CORRUPT', 'is not a valid EPUB (its spine lists no chapters)');
  await checkDrm(zip, spine);

  const titleElement = DomUtils.findOne((el) => localName(el) === 'title' && el.name.includes(':'), opf) ?? DomUtils.findOne((el) => localName(el) === 'title', opf);
  const title = titleElement ? collapsedText(titleElement) || null : null;
  const tocTitles = await tableOfContents(zip, manifest, spineElement?.attribs.toc);

  const blocks: Block[] = [];
  const warnings: string[] = [];
  for (const item of spine) {
    const file = zip.file(item.href);
    if (!file) {
      warnings.push(`chapter ${item.href} is missing from the book`);
      continue;
    }
    const { text } = decodeHtml(await file.async('uint8array'));
    const dom = parseHtmlDocument(text);
    const body = DomUtils.findOne((el) => el.name === 'body', dom.children);
    const chapterBlocks = htmlToBlocks(body ? body.children : dom.children);
    if (chapterBlocks.length === 0) continue; // cover images, blank pages
    const firstHeading = chapterBlocks.find((block) => block.kind === 'heading');
    const chapterTitle = tocTitles.get(item.href) ?? firstHeading?.text ?? null;
    if (chapterTitle) blocks.push({ kind: 'heading', level: 1, text: chapterTitle });
    let skippedOwnTitle = false;
    for (const block of chapterBlocks) {
      if (block.kind !== 'heading') {
        blocks.push(block);
      } else if (!skippedOwnTitle && chapterTitle && sameText(block.text, chapterTitle)) {
        skippedOwnTitle = true; // the chapter heading above already says it
      } else {
        blocks.push({ ...block, level: Math.min(6, (block.level ?? 1) + (chapterTitle ? 1 : 0)) });
      }
    }
  }
  return { format: 'epub', title, blocks, warnings };
}

/** Chapter file -> title, from the EPUB 3 nav document, else the EPUB 2 NCX. The first entry for a file wins. */
async function tableOfContents(zip: JSZip, manifest: Map<string, ManifestItem>, ncxId: string | undefined): Promise<Map<string, string>> {
  const titles = new Map<string, string>();
  const add = (base: string, href: string | undefined, label: string): void => {
    if (!href || !label) return;
    const file = resolveHref(base, href);
    if (!titles.has(file)) titles.set(file, label);
  };
  const nav = [...manifest.values()].find((item) => item.properties.split(/\s+/).includes('nav'));
  const navText = nav ? await readText(zip, nav.href) : null;
  if (nav && navText) {
    const dom = parseHtmlDocument(navText);
    const navs = DomUtils.findAll((el) => el.name === 'nav', dom.children);
    const toc = navs.find((el) => (el.attribs['epub:type'] ?? '').split(/\s+/).includes('toc')) ?? navs[0];
    for (const link of toc ? DomUtils.findAll((el) => el.name === 'a', toc.children) : []) add(posix.dirname(nav.href), link.attribs.href, collapsedText(link));
  }
  if (titles.size > 0) return titles;

  const ncx = (ncxId ? manifest.get(ncxId) : undefined) ?? [...manifest.values()].find((item) => item.mediaType === 'application/x-dtbncx+xml');
  const ncxText = ncx ? await readText(zip, ncx.href) : null;
  if (ncx && ncxText) {
    for (const point of DomUtils.findAll((el) => localName(el) === 'navpoint', parseXml(ncxText).children)) {
      const label = DomUtils.findOne((el) => localName(el) === 'text', point.children);
      const content = point.children.find((child): child is HtmlElement => DomUtils.isTag(child) && localName(child) === 'content');
      add(posix.dirname(ncx.href), content?.attribs.src, label ? collapsedText(label) : '');
    }
  }
  return titles;
}

/** Books whose chapters are encrypted (store DRM) cannot be read; obfuscated fonts alone are fine. */
async function checkDrm(zip: JSZip, spine: ManifestItem[]): Promise<void> {
  const xml = await readText(zip, 'META-INF/encryption.xml');
  if (!xml) return;
  const chapters = new Set(spine.map((item) => item.href));
  for (const data of DomUtils.findAll((el) => localName(el) === 'encrypteddata', parseXml(xml).children)) {
    const method = attribute(DomUtils.findOne((el) => localName(el) === 'encryptionmethod', data.children), 'algorithm');
    const uri = attribute(DomUtils.findOne((el) => localName(el) === 'cipherreference', data.children), 'uri');
    if (!FONT_OBFUSCATION.includes(method) && chapters.has(resolveHref('', uri))) {
      throw new DocumentProblem('ENCRYPTED', 'is DRM-protected: its chapters are encrypted');
    }
  }
}

async function readText(zip: JSZip, path: string): Promise<string | null> {
  const file = zip.file(path);
  return file ? file.async('string') : null;
}

function parseXml(xml: string): ReturnType<typeof parseDocument> {
  return parseDocument(xml, { xmlMode: true });
}

/** The element's name without its namespace prefix, lower-cased (`opf:item` -> `item`). */
function localName(element: HtmlElement): string {
  return element.name.slice(element.name.indexOf(':') + 1).toLowerCase();
}

/** XML keeps attribute case (`Algorithm`, `URI`); match it either way. */
function attribute(element: HtmlElement | null, name: string): string {
  if (!element) return '';
  const key = Object.keys(element.attribs).find((candidate) => candidate.toLowerCase() === name);
  return key ? (element.attribs[key] ?? '') : '';
}

/** A zip path for an href relative to `base`, without fragment or URL escapes. */
function resolveHref(base: string, href: string): string {
  const path = href.split('#')[0] ?? '';
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    // a stray % in a file name; use it as written
  }
  return posix.normalize(posix.join(base, decoded)).replace(/^(\.\/)+/, '');
}

function sameText(a: string, b: string): boolean {
  const normal = (text: string): string => text.toLowerCase().replace(/\s+/g, ' ').trim();
  return normal(a) === normal(b);
}
