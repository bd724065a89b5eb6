import { basename } from 'node:path';
import type { ModelSource } from '#contract/dto';
import { HearthError } from '../common/hearthError';
import type { HubClient } from './hubClient';
import type { ModelCatalog } from './catalog';
import { resolveUrlSource } from './modelDownloads';

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
