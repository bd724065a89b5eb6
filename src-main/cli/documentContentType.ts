import type { FileHandle } from 'node:fs/promises';
import { extname } from 'node:path';
import { textCharset } from '../core/library/parse/decodeText';

/** How much of a text file is read to tell its charset: what the parser's detector looks at too. */
const CHARSET_SAMPLE_BYTES = 64 * 1024;

const TEXT_EXTENSIONS = new Set(['.md', '.markdown', '.txt', '.text', '.log', '.csv', '.tsv', '.rst']);

/**
 * The Content-Type an original document is served with ("Open file"). PDFs open in the browser's
 * viewer; plain-text formats show as text; anything that could run in our origin (HTML, SVG) or
 * that a browser cannot show is a download, never rendered. Text names its charset, detected from the file's first
 * bytes as the parser detects it, so UTF-8 (or Windows-1252, or UTF-16) never shows as mojibake.
 */
export async function documentContentType(path: string, handle: FileHandle): Promise<{ type: string; inline: boolean }> {
  const ext = extname(path).toLowerCase();
  if (ext === '.pdf') return { type: 'application/pdf', inline: true };
  if (!TEXT_EXTENSIONS.has(ext)) return { type: 'application/octet-stream', inline: false };
  const sample = Buffer.alloc(CHARSET_SAMPLE_BYTES);
  // A positioned read: the stream that serves the file afterwards still starts at byte 0.
  const read = await handle.read(sample, 0, sample.length, 0).catch(() => null);
  // Unreadable now: the stream that follows reports it; the type stays honest without a charset.
  if (!read) return { type: 'text/plain', inline: true };
  return { type: `text/plain; charset=${textCharset(sample.subarray(0, read.bytesRead))}`, inline: true };
}
