import type { Collection, DocumentInfo, DocumentStatus, IndexStatus, JobInfo, SearchHit, Source } from '#contract/dto';
import type { Logger } from '../common/logger';
import type { JobManager } from '../jobs/jobManager';
import type { ModelLibrary } from '../models/modelLibrary';
import type { ChunkStore } from '../search/chunkStore';
import type { DocumentRow, LibraryRepository } from '../storage/libraryRepository';
import type { Embedder } from './embedder';
import { FolderWatcher } from './folderWatcher';
import { LibraryIndexer } from './indexJob';
import { LibraryCatalog, type IndexedFile } from './libraryCatalog';
import { DEFAULT_LIBRARY_OPTIONS, type LibraryOptions } from './libraryOptions';
import { LibraryRetriever } from './libraryRetriever';
import { LibrarySearch, type SearchInput } from './librarySearch';
import type { DocumentParser } from './parse/documentParser';
import { HearthError } from '../common/hearthError';

export { indexKey } from './activeIndex';
export { INDEX_JOB, type IndexJobParams } from './indexJob';
export type { IndexedFile } from './libraryCatalog';
export { DEFAULT_LIBRARY_OPTIONS, type LibraryOptions } from './libraryOptions';
export { toSearchHit, type SearchInput } from './librarySearch';
export { documentId } from '../storage/libraryRepository';

export interface LibraryDeps {
  repo: LibraryRepository;
  store: () => Promise<ChunkStore>;
  parser: DocumentParser;
  embedder: Embedder;
  models: ModelLibrary;
  jobs: JobManager;
  logger: Logger;
  onChanged: (collectionId: string | null) => void;
  /** Opens a file in the host's viewer (at a page where it can); false where the host has none. */
  openFile?: (path: string, page: number | null) => Promise<boolean>;
  options?: Partial<LibraryOptions>;
}

/**
 * Your documents: collections of folders and files, kept indexed in LanceDB and searchable.
 * The service every front end calls; the work is done by its parts: the catalog
 * (libraryCatalog.ts), the indexing job (indexJob.ts), search (librarySearch.ts) and the
 * chat's retriever (libraryRetriever.ts).
 */
export class DocumentLibrary {
  /** What a chat scoped to collections reads passages through. */
  readonly retriever: LibraryRetriever;
  private readonly options: LibraryOptions;
  private readonly watcher: FolderWatcher;
  private readonly catalog: LibraryCatalog;
  private readonly indexer: LibraryIndexer;
  private readonly finder: LibrarySearch;

  constructor(private readonly deps: LibraryDeps) {
    this.options = { ...DEFAULT_LIBRARY_OPTIONS, ...deps.options };
    this.watcher = new FolderWatcher(this.options.watchDebounceMs, (sourceId) => this.onFolderChanged(sourceId), deps.logger);
    this.finder = new LibrarySearch({ ...deps, options: this.options });
    this.indexer = new LibraryIndexer({
      ...deps,
      options: this.options,
      watching: () => this.watcher.size,
      searchMode: () => this.finder.mode(),
      afterIndexing: () => this.finder.calibrateActive(),
    });
    this.catalog = new LibraryCatalog({
      repo: deps.repo,
      watcher: this.watcher,
      watch: this.options.watch,
      deleteChunks: (docIds) => this.indexer.deleteChunks(docIds),
      onChanged: deps.onChanged,
    });
    this.retriever = new LibraryRetriever(this.catalog, this.finder);
  }

  /** Starts watching folder sources, and rebuilds the index if it went missing (call once the core is built). */
  start(): void {
    this.indexer.rebuildIfMissing().catch((error: unknown) => this.deps.logger.error('could not check the document index', error));
    if (!this.options.watch) return;
    for (const source of this.deps.repo.sources()) if (source.kind === 'folder') this.watcher.add(source.id, source.path);
  }

  async dispose(): Promise<void> {
    this.indexer.dispose();
    await this.watcher.close();
  }

  // ---- collections, sources and documents ----

  collections(): Collection[] {
    return this.catalog.collections();
  }

  collection(id: string): Collection {
    return this.catalog.collection(id);
  }

  /** Checks that every id names a collection (COLLECTION_NOT_FOUND for the first that does not). */
  requireCollections(ids: readonly string[]): void {
    this.catalog.requireCollections(ids);
  }

  /** The collection with this id, or with this name in any case; null when there is none. */
  findCollection(nameOrId: string): Collection | null {
    return this.catalog.findCollection(nameOrId);
  }

  createCollection(name: string): Collection {
    return this.catalog.createCollection(name);
  }

  /** The collection with this name, created if missing (the CLI's --collection). */
  ensureCollection(name: string): Collection {
    return this.catalog.ensureCollection(name);
  }

  renameCollection(id: string, name: string): Collection {
    return this.catalog.renameCollection(id, name);
  }

  deleteCollection(id: string): Promise<void> {
    return this.catalog.deleteCollection(id);
  }

  sources(collectionId?: string): Source[] {
    return this.catalog.sources(collectionId);
  }

  source(id: string): Source {
    return this.catalog.source(id);
  }

  /** Adds a folder or a file to a collection and starts indexing it. Adding it again rescans it. */
  addSource(collectionId: string, path: string): { source: Source; job: JobInfo } {
    const row = this.catalog.addSource(collectionId, path);
    const job = this.indexer.requestIndex([row.id]);
    return { source: this.catalog.source(row.id), job };
  }

  removeSource(sourceId: string): Promise<void> {
    return this.catalog.removeSource(sourceId);
  }

  documents(filter: { collectionId?: string; sourceId?: string; status?: DocumentStatus }): DocumentInfo[] {
    return this.catalog.documents(filter);
  }

  document(id: string): DocumentRow {
    return this.catalog.document(id);
  }

  /** Opens a document's file in the system viewer; UNSUPPORTED where this host cannot (the UI then links to the file). */
  async openDocument(docId: string, page: number | null): Promise<void> {
    const doc = this.catalog.document(docId);
    if (!(await this.deps.openFile?.(doc.path, page))) {
      throw new HearthError('UNSUPPORTED', 'This host cannot open files; use the link to the file instead.');
    }
  }

  /** Every indexed document's file with its source folder: what a snapshot with documents copies. */
  indexedFiles(): IndexedFile[] {
    return this.catalog.indexedFiles();
  }

  // ---- indexing ----

  /**
   * Makes sure an indexing job will look at these sources: joins the job already running (it
   * rescans them before it ends), resumes a paused or interrupted one, or starts one.
   */
  requestIndex(sourceIds: string[] | 'all'): JobInfo {
    return this.indexer.requestIndex(sourceIds);
  }

  /** Looks at one source (which must exist) or every source for changes again. */
  rescan(sourceId?: string): JobInfo {
    if (sourceId) this.catalog.source(sourceId);
    return this.indexer.requestIndex(sourceId ? [sourceId] : 'all');
  }

  /**
   * The default embedding model changed: documents are embedded again with it, as a job, into
   * a new table; searches keep using the old one until every document is in the new one.
   */
  embeddingModelChanged(): JobInfo | null {
    return this.indexer.embeddingModelChanged();
  }

  /** The indexing job under way or paused, if any. */
  currentJob(): JobInfo | null {
    return this.indexer.currentJob();
  }

  /**
   * Makes the index again after index/ was lost: a job that embeds every document whose chunks
   * are missing (all of them when the folder is gone). With the index intact it looks at every
   * source for changes, as a full rescan does.
   */
  async rebuild(): Promise<JobInfo> {
    return (await this.indexer.rebuildIfMissing()) ?? this.indexer.requestIndex('all');
  }

  async status(): Promise<IndexStatus> {
    return this.indexer.status();
  }

  // ---- search ----

  search(input: SearchInput, signal?: AbortSignal): Promise<SearchHit[]> {
    return this.finder.search(input, signal);
  }

  /** One chunk by id, for showing a citation's passage. */
  chunk(chunkId: string): Promise<SearchHit> {
    return this.finder.chunk(chunkId);
  }

  /** A whole document's text, in order, from its chunks (overlaps between pieces included). */
  documentText(docId: string): Promise<{ text: string; tokenCount: number } | null> {
    return this.finder.documentText(docId);
  }

  private onFolderChanged(sourceId: string): void {
    if (!this.deps.repo.source(sourceId)) return;
    this.deps.logger.debug(`changes in source ${sourceId}: rescanning`);
    this.indexer.requestIndex([sourceId]);
  }
}
