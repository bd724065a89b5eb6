import { basename } from 'node:path';
import type { ModelSource } from '#contract/dto';
import { HearthError } from '../common/hearthError';
import type { HubClient } from './hubClient';
import type { ModelCatalog } from './catalog';

export interface ResolvedSource {
  url: string;
  fileName: string;
  /** Auth for gated hub repos; never persisted. */
  headers: Record<string, string>;
  /** Known before downloading: pinned in the catalog, published by the hub, or given with a URL. */
  sha256: string | null;
  sizeBytes: number | null;
}

/**
 * Turns where a model comes from (a catalog entry, a hub file, a plain URL) into what a
 * download or a fit needs. For hub files the hub's own listing supplies the size and the
 * LFS sha256, so every hub download is verified even when the catalog pins no hash.
 */
export async function resolveSource(
  core: { catalog: ModelCatalog; hub: HubClient },
  source: ModelSource,
  signal?: AbortSignal,
): Promise<ResolvedSource> {
  if (source.kind === 'url') return resolveUrlSource(source);
  const { repo, file, revision, pinnedSha256, pinnedSize } =
    source.kind === 'catalog'
      ? (() => {
          const entry = core.catalog.get(source.id);
          const chosen = core.catalog.file(source.id, source.quantization);
          return { repo: entry.repo, file: chosen.file, revision: undefined, pinnedSha256: chosen.sha256, pinnedSize: null };
        })()
      : { repo: source.repo, file: source.file, revision: source.revision, pinnedSha256: null, pinnedSize: null };
  const headers = await core.hub.authHeaders();
  const listed = (await core.hub.files(repo, { revision, signal })).find((f) => f.file === file);
  if (!listed) {
    throw new HearthError('NOT_FOUND', `${repo} has no file ${file}${source.kind === 'catalog' ? ' (the catalog entry may be out of date)' : ''}.`);
  }
  return {
    url: core.hub.resolveUrl(repo, file, revision),
    fileName: basename(file),
    headers,
    sha256: pinnedSha256 ?? listed.sha256,
    sizeBytes: listed.sizeBytes ?? pinnedSize,
  };
}

/** A URL source on its own: the file name from the URL's path, the sha256 if given, no headers. */
export function resolveUrlSource(source: Extract<ModelSource, { kind: 'url' }>): ResolvedSource {
  let url: URL;
  try {
    url = new URL(source.url);
  } catch {
    throw new HearthError('BAD_INPUT', `Not a URL: ${source.url}`);
  }
  const last = url.pathname.split('/').filter(Boolean).pop() ?? '';
  let fileName: string;
  try {
    fileName = decodeURIComponent(last);
  } catch {
    fileName = last;
  }
  return { url: url.href, fileName: fileName || url.hostname, headers: {}, sha256: source.sha256 ?? null, sizeBytes: null };
}

/**
 * Checks a resolved source before a download uses it: an http(s) URL, a well-formed sha256 (lower
 * case), a plausible size, and a file name that is safe in any models folder.
 */
export function normalizeResolved(resolved: ResolvedSource): ResolvedSource {
  let url: URL;
  try {
    url = new URL(resolved.url);
  } catch {
    throw new HearthError('BAD_INPUT', `Not a URL: ${resolved.url}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HearthError('BAD_INPUT', `Only http and https downloads are supported, not ${url.protocol}`);
  const sha256 = resolved.sha256?.trim().toLowerCase() || null;
  if (sha256 !== null && !/^[0-9a-f]{64}$/.test(sha256)) throw new HearthError('BAD_INPUT', `Not a sha256: ${resolved.sha256}`);
  const sizeBytes = resolved.sizeBytes !== null && Number.isSafeInteger(resolved.sizeBytes) && resolved.sizeBytes >= 0 ? resolved.sizeBytes : null;
  return { url: url.href, fileName: safeFileName(resolved.fileName), headers: resolved.headers, sha256, sizeBytes };
}

/** A file name that is safe in any models folder: no folders, no characters Windows forbids, ending in .gguf. */
function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? '';
  const cleaned = [...base]
    .map((c) => (c.charCodeAt(0) < 32 || '<>:"|?*'.includes(c) ? '_' : c))
    .join('')
    .replace(/^[.\s]+|[.\s]+$/g, '')
    .slice(0, 180);
  const stem = (cleaned || 'model').replace(/\.gguf$/i, '');
  return `${stem || 'model'}.gguf`;
}
