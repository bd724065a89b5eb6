import type { ChunkStore } from './chunkStore';

/**
 * Opens the document index, loading LanceDB and Apache Arrow at that moment: together about
 * 0.2 s of CPU and tens of megabytes, which commands that never touch the index (the vault
 * commands, settings, --help) should not pay. So createCore and searchCore import the store's
 * type alone and open it through this (tests/integration/cliLazyLoad keeps it so).
 */
export async function openChunkStore(dir: string): Promise<ChunkStore> {
  const { ChunkStore: Store } = await import('./chunkStore');
  return Store.open(dir);
}
