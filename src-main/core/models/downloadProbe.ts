import { formatBytes } from '#contract/format';
import { egressFetch } from '../common/egress';
import { HearthError } from '../common/hearthError';
import { networkError } from '../common/httpErrors';
import { describeError, downloadHttpError, notAModel } from './downloadErrors';
import { isHtmlType, sniffGguf } from './sniffGguf';

/** What the server says about a file before the transfer. */
export interface RemoteFile {
  size: number | null;
  acceptRanges: boolean;
  etag: string | null;
}

export interface ProbeTarget {
  url: string;
  fileName: string;
  /** The size published in advance (catalog, hub listing), checked against what the server holds. */
  sizeBytes: number | null;
}

const PROBE_TIMEOUT_MS = 30_000;
const HTML_PAGE = 'the server sent an HTML page: the link may need a login, or lead to a web page rather than the file';

/**
 * Asks the server about the file before any big transfer: a HEAD for status, type, length
 * and ETag, then a ranged GET of its first bytes, which shows whether ranges work, the
 * length the server really holds, and whether the file is a GGUF at all. `ensureSpace` is
 * told the size as soon as the HEAD announces it, before the GET.
 */
export async function probeDownload(
  target: ProbeTarget,
  headers: Record<string, string>,
  signal: AbortSignal,
  ensureSpace: (totalBytes: number) => Promise<void>,
): Promise<RemoteFile> {
  const { url } = target;
  const base = { ...headers, 'accept-encoding': 'identity' };
  let head: Response | null = await request(url, { method: 'HEAD', headers: base }, signal);
  // Some servers answer only GET; the ranged GET below tells the same.
  if (head.status === 405 || head.status === 501) head = null;
  else if (!head.ok) throw downloadHttpError(head, url);
  if (head && isHtmlType(head.headers.get('content-type'))) throw notAModel(HTML_PAGE);
  let size = head ? contentLength(head) : null;
  const etag = head ? (head.headers.get('x-linked-etag') ?? head.headers.get('etag')) : null;
  await ensureSpace(Math.max(size ?? 0, target.sizeBytes ?? 0));

  const first = await request(url, { headers: { ...base, range: 'bytes=0-15' } }, signal);
  let acceptRanges = false;
  try {
    if (!first.ok) throw downloadHttpError(first, url);
    if (isHtmlType(first.headers.get('content-type'))) throw notAModel(HTML_PAGE);
    if (first.status === 206) {
      acceptRanges = true;
      const total = contentRangeTotal(first);
      if (size !== null && total !== null && total !== size) {
        throw new HearthError(
          'DOWNLOAD_INCOMPLETE',
          `The server announces ${formatBytes(size)} for ${target.fileName} but holds ${formatBytes(total)}: the file there is truncated or the server is misconfigured.`,
        );
      }
      size ??= total;
    } else {
      size ??= contentLength(first);
    }
    const prefix = await readPrefix(first, 16);
    if (prefix.length > 0 || size === 0) {
      const sniff = sniffGguf(prefix);
      if (!sniff.gguf) throw notAModel(sniff.problem);
    }
  } finally {
    await first.body?.cancel().catch(() => undefined);
  }

  const expected = target.sizeBytes;
  if (expected !== null && size !== null && size !== expected) {
    throw size < expected
      ? new HearthError('DOWNLOAD_INCOMPLETE', `The server holds only ${formatBytes(size)} of ${target.fileName}, which should be ${formatBytes(expected)}: the file there is truncated.`)
      : new HearthError('DOWNLOAD_FAILED', `The server offers ${formatBytes(size)} for ${target.fileName}, not the ${formatBytes(expected)} expected: the file may have changed there.`);
  }
  return { size, acceptRanges: acceptRanges && size !== null && size > 0, etag };
}

async function request(url: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
  try {
    return await egressFetch('model-probe', url, { ...init, redirect: 'follow', signal: AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]) });
  } catch (error) {
    // A stopped job ends with its signal's reason, as everywhere else in a job.
    if (signal.aborted) throw signal.reason;
    throw networkError(error, { message: () => `Could not reach ${new URL(url).host}: ${describeError(error)}` });
  }
}

function contentLength(response: Response): number | null {
  if (response.headers.get('content-encoding')) return null; // the length of the compressed form
  const value = Number(response.headers.get('content-length'));
  return response.headers.has('content-length') && Number.isSafeInteger(value) && value >= 0 ? value : null;
}

function contentRangeTotal(response: Response): number | null {
  const match = /\/\s*(\d+)\s*$/.exec(response.headers.get('content-range') ?? '');
  return match ? Number(match[1]) : null;
}

/** Up to n bytes from the start of a response body; an early end still says what it begins with. */
async function readPrefix(response: Response, n: number): Promise<Buffer> {
  const reader = response.body?.getReader();
  if (!reader) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let length = 0;
  try {
    while (length < n) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(Buffer.from(value));
      length += value.length;
    }
  } catch {
    // keep what arrived
  } finally {
    await reader.cancel().catch(() => undefined);
  }
  return Buffer.concat(chunks).subarray(0, n);
}
