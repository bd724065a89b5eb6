import { HearthError } from '../common/hearthError';
import type { ChunkStore } from '../search/chunkStore';
import type { LibraryRepository } from '../storage/libraryRepository';
import { readActiveIndex, type ActiveIndex } from './activeIndex';

/**
 * The active index whose table is gone from disk (index/ deleted or moved under a running
 * Hearth), or null when it is there or nothing was indexed yet.
 */
export function missingActiveIndex(repo: LibraryRepository, store: ChunkStore): ActiveIndex | null {
  const active = readActiveIndex(repo);
  return active && !store.hasTable(active.key) ? active : null;
}

export function indexMissingError(store: ChunkStore): HearthError {
  return new HearthError(
    'INDEX_MISSING',
    `The document index (${store.dir}) is missing: it was deleted or moved while Hearth was running. ` +
      'Rebuild it: Documents → Rebuild index in the app (the index.rebuild call), or hearth index PATH on one of your folders; ' +
      'Hearth also starts the rebuild by itself when it next starts. Every document is read and embedded again; the files themselves are untouched.',
  );
}

/** Throws INDEX_MISSING when the active index's table is gone, before LanceDB says so in its own words. */
export function assertIndexPresent(repo: LibraryRepository, store: ChunkStore): void {
  if (missingActiveIndex(repo, store)) throw indexMissingError(store);
}
