import type JSZip from 'jszip';
import mammoth from 'mammoth';
import { DocumentProblem, type ParsedDocument } from '../types';
import { headerFooterBlocks, separateNotes } from './docxParts';
import { collapsedText, htmlToBlocks, parseHtmlDocument } from './htmlToBlocks';
import { openZip } from './openZip';

/** Word's Title and Subtitle styles are headings to a reader; mammoth's defaults do not map them. */
const STYLE_MAP = ["p[style-name='Title'] => h1:fresh", "p[style-name='Subtitle'] => h2:fresh"];

/**
 * Word documents: mammoth turns the body into semantic HTML (headings, lists, tables), read like
 * any HTML. Footnotes, endnotes and the page headers and footers follow the body, each under its
 * own heading, so they are searchable without running into the body's text.
 */
export async function parseDocx(bytes: Uint8Array, _path: string): Promise<ParsedDocument> {
  checkContainer(bytes);
  const zip = await openZip(bytes, 'Word document');
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let html: string;
  let messages: { type: string; message: string }[];
  try {
    const result = await mammoth.convertToHtml(
      { buffer },
      {
        styleMap: STYLE_MAP,
        // Linked files and images are not text; never follow or inline them.
        externalFileAccess: false,
        convertImage: mammoth.images.imgElement(() => Promise.resolve({ src: '' })),
      },
    );
    html = result.value;
    messages = result.messages;
  } catch (error) {
    throw new DocumentProblem('CORRUPT', `is not a readable Word document: ${error instanceof Error ? error.message : String(error)}`);
  }
  const { body, notes } = separateNotes(parseHtmlDocument(html).children);
  const bodyBlocks = htmlToBlocks(body);
  const title = (await coreTitle(zip)) ?? bodyBlocks.find((block) => block.kind === 'heading' && block.level === 1)?.text ?? null;
  const blocks = [...bodyBlocks, ...notes, ...(await headerFooterBlocks(zip))];
  const errors = messages.filter((message) => message.type === 'error').map((message) => message.message);
  return { format: 'docx', title, blocks, warnings: errors };
}

/**
 * A .docx is a zip. An OLE compound file in its place is either a password-protected document
 * (Office encrypts into that container) or an old binary .doc renamed.
 */
function checkContainer(bytes: Uint8Array): void {
  if (bytes[0] === 0x50 && bytes[1] === 0x4b) return;
  const ole = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1].every((byte, i) => bytes[i] === byte);
  if (ole) {
    const encrypted = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).includes(Buffer.from('EncryptedPackage', 'utf16le'));
    if (encrypted) throw new DocumentProblem('ENCRYPTED', 'is password-protected; remove the password in Word to index it');
    throw new DocumentProblem('UNSUPPORTED', 'is an old Word 97-2003 (.doc) file with a .docx name; save it as .docx to index it');
  }
  throw new DocumentProblem('CORRUPT', 'is not a valid Word document (not a zip archive)');
}

/** dc:title from docProps/core.xml, the title Word shows in File > Info. */
async function coreTitle(zip: JSZip): Promise<string | null> {
  try {
    const xml = await zip.file('docProps/core.xml')?.async('string');
    if (!xml) return null;
    const title = /<dc:title[^>]*>([\s\S]*?)<\/dc:title>/.exec(xml)?.[1];
    return title ? collapsedText(parseHtmlDocument(title).children) || null : null;
  } catch {
    return null; // the body parsed; a missing title is no reason to fail
  }
}
