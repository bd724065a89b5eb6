import type { IncomingMessage } from 'node:http';
import type { ContentEncoding, StaticFile } from './staticFiles';

/** A year: the longest lifetime browsers honour; hashed assets never change under their name. */
const IMMUTABLE = 'private, max-age=31536000, immutable';

/**
 * The encodings a request accepts (Accept-Encoding, with q-values; q=0 refuses), in the
 * server's order of preference: brotli, then gzip.
 */
export function acceptedEncodings(header: string | string[] | undefined): Set<ContentEncoding> {
  const accepted = new Set<ContentEncoding>();
  const text = Array.isArray(header) ? header.join(',') : (header ?? '');
  let wildcard = false;
  const refused = new Set<string>();
  for (const part of text.split(',')) {
    const [name = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => /^\s*q=([0-9.]+)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
    const ok = q === undefined || Number(q) > 0;
    if (!ok) refused.add(name);
    else if (name === '*') wildcard = true;
    else if (name === 'br' || name === 'gzip') accepted.add(name);
  }
  if (wildcard) for (const name of ['br', 'gzip'] as const) if (!refused.has(name)) accepted.add(name);
  return accepted;
}

export interface StaticReply {
  /** The file to send: the original, or a precompressed copy. */
  path: string;
  headers: Record<string, string>;
}

/**
 * What to send for a static file: the best precompressed copy the browser accepts, and how
 * long it may be kept (hashed assets: a year, immutable; the entry page: never; the rest:
 * revalidated).
 */
export function staticReply(req: IncomingMessage, file: StaticFile): StaticReply {
  const accepted = acceptedEncodings(req.headers['accept-encoding']);
  const variant = file.variants.find((v) => accepted.has(v.encoding));
  const headers: Record<string, string> = {
    'Content-Type': file.contentType,
    'Content-Length': String(variant?.size ?? file.size),
    'Cache-Control': file.isIndex ? 'no-store' : file.immutable ? IMMUTABLE : 'private, no-cache',
  };
  if (variant) headers['Content-Encoding'] = variant.encoding;
  // Caches must keep the encodings apart whenever there is more than one to choose from.
  if (file.variants.length > 0) headers.Vary = 'Accept-Encoding';
  return { path: variant?.path ?? file.path, headers };
}
