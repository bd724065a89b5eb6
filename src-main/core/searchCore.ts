import type { Collection, SearchHit } from '#contract/dto';
import type { Logger } from './common/logger';
import { LlamaRuntime, type GpuSetting } from './inference/llamaRuntime';
import { hasVectors, readActiveIndex } from './library/activeIndex';
import { Embedder } from './library/embedder';
import { LibrarySearch, type SearchInput } from './library/librarySearch';
import { DEFAULT_LIBRARY_OPTIONS } from './library/libraryOptions';
import { ModelLibrary } from './models/modelLibrary';
import { openDataDir, type DataDirConfig } from './openDataDir';
import type { ChunkStore } from './search/chunkStore';
import { openChunkStore } from './search/openChunkStore';
import { LibraryRepository } from './storage/libraryRepository';
import { ModelRepository } from './storage/modelRepository';

export interface SearchCoreConfig extends DataDirConfig {
  /** Extra folders whose *.gguf files count as models, besides dataDir/models. */
  extraModelDirs?: string[];
  gpu?: GpuSetting;
  /** CPU threads embedding may use (library/embeddingParallelism.ts); unset: one per context. */
  threads?: number;
  /** Embedding contexts (a search embeds one query: it opens one). */
  embeddingContexts?: number;
}

/** What a one-shot search needs of the core: collections by name and the search itself. */
export interface SearchCore {
  findCollection(nameOrId: string): Collection | null;
  search(input: SearchInput, signal?: AbortSignal): Promise<SearchHit[]>;
  dispose(): Promise<void>;
}

/**
 * A lean composition root for a one-shot search (`hearth search`): the data directory, the
 * library's tables, the chunk store and the embedder, and nothing else (no jobs, watcher,
 * vault, downloads or servers), so a command that only reads the index starts in a fraction
 * of createCore's time. node-llama-cpp is loaded only when the query needs a vector (hybrid or
 * vector mode over an index that has vectors), LanceDB only when the index is read. Search
 * behaves exactly as core.library.search: the same LibrarySearch over the same tables.
 */
export function openSearchCore(config: SearchCoreConfig, logger: Logger): SearchCore {
  const { layout, db, close } = openDataDir(config, logger);
  try {
    const runtime = new LlamaRuntime(config.gpu ?? 'auto', config.threads ?? null, logger, () => undefined);
    const models = new ModelLibrary(new ModelRepository(db), () => runtime.llama(), [layout.models, ...(config.extraModelDirs ?? [])], logger);
    const embedder = new Embedder(() => runtime.llama(), runtime, logger, config.threads ?? null, config.embeddingContexts ?? null);
    const repo = new LibraryRepository(db, Date.now, logger);
    let storePromise: Promise<ChunkStore> | null = null;
    const finder = new LibrarySearch({
      repo,
      store: () => (storePromise ??= openChunkStore(layout.index)),
      embedder,
      models,
      options: { minSimilarity: DEFAULT_LIBRARY_OPTIONS.minSimilarity },
    });
    let disposed = false;
    return {
      findCollection: (nameOrId) => repo.findCollection(nameOrId),
      search: (input, signal) => {
        // A query that needs a vector needs the model runtime: node-llama-cpp starts loading (and
        // testing its binary in a child process) while LanceDB opens, instead of after it.
        const active = readActiveIndex(repo);
        if ((input.mode ?? 'hybrid') !== 'bm25' && active && hasVectors(active)) runtime.llama().catch(() => undefined);
        return finder.search(input, signal);
      },
      async dispose() {
        if (disposed) return;
        disposed = true;
        await embedder.unload();
        if (storePromise) (await storePromise.catch(() => null))?.close();
        await runtime.dispose();
        close();
      },
    };
  } catch (error) {
    close();
    throw error;
  }
}
