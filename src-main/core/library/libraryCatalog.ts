import { statSync, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import type { Collection, DocumentInfo, DocumentStatus, Source } from '#contract/dto';
import type { SourceKind } from '#contract/vocabulary';
import { fileError } from '../common/fsErrors';
import { HearthError } from '../common/hearthError';
import { nonRegularKind, notRegularFileError } from '../common/regularFile';
import { toDocumentInfo, type DocumentRow, type LibraryRepository, type SourceRow } from '../storage/libraryRepository';
import type { FolderWatcher } from './folderWatcher';

export interface LibraryCatalogDeps {
  repo: LibraryRepository;
  watcher: FolderWatcher;
  /** Watch folder sources once they are added. */
  watch: boolean;
  /** Deletes the chunks of these documents from the index. */
  deleteChunks: (docIds: string[]) => Promise<void>;
  onChanged: (collectionId: string | null) => void;
}

/** A library file to copy into a snapshot, with the folder it belongs to. */
export interface IndexedFile {
  sourceId: string;
  sourceRoot: string;
  path: string;
}

/**
 * The catalog: collections, their sources (folders and files) and the documents seen in them,
 * as SQLite keeps them. Every lookup by id fails with a coded error when the thing is gone.
 */
export class LibraryCatalog {
  constructor(private readonly deps: LibraryCatalogDeps) {}

  // ---- collections ----

  collections(): Collection[] {
    return this.deps.repo.collections();
  }

  collection(id: string): Collection {
    const found = this.deps.repo.collection(id);
    if (!found) throw new HearthError('COLLECTION_NOT_FOUND', `No collection with id ${id}; it may have been deleted.`);
    return found;
  }

  /** Checks that every id names a collection (COLLECTION_NOT_FOUND for the first that does not). */
  requireCollections(ids: readonly string[]): void {
    for (const id of ids) this.collection(id);
  }

  /** The collection with this id, or with this name in any case; null when there is none. */
  findCollection(nameOrId: string): Collection | null {
    return this.deps.repo.findCollection(nameOrId);
  }

  /** Names of the collections with these ids, in that order; unknown ids are left out. */
  collectionNames(ids: readonly string[]): string[] {
    const all = this.collections();
    return ids.flatMap((id) => all.find((c) => c.id === id)?.name ?? []);
  }

  createCollection(name: string): Collection {
    const clean = name.trim();
    if (!clean) throw new HearthError('BAD_INPUT', 'A collection needs a name.');
    if (this.deps.repo.collectionByName(clean)) throw new HearthError('BAD_INPUT', `A collection named "${clean}" already exists.`);
    const id = this.deps.repo.createCollection(clean);
    this.deps.onChanged(id);
    return this.collection(id);
  }

  /** The collection with this name, created if missing (the CLI's --collection). */
  ensureCollection(name: string): Collection {
    return this.deps.repo.collectionByName(name.trim()) ?? this.createCollection(name);
  }

  renameCollection(id: string, name: string): Collection {
    this.collection(id);
    const other = this.deps.repo.collectionByName(name.trim());
    if (other && other.id !== id) throw new HearthError('BAD_INPUT', `A collection named "${name.trim()}" already exists.`);
    this.deps.repo.renameCollection(id, name.trim());
    this.deps.onChanged(id);
    return this.collection(id);
  }

  async deleteCollection(id: string): Promise<void> {
    this.collection(id);
    for (const source of this.deps.repo.sources(id)) await this.removeSource(source.id);
    this.deps.repo.deleteCollection(id);
    this.deps.onChanged(id);
  }

  // ---- sources ----

  sources(collectionId?: string): Source[] {
    return this.deps.repo.sources(collectionId).map((row) => this.deps.repo.toSource(row, this.deps.watcher.has(row.id)));
  }

  source(id: string): Source {
    const row = this.deps.repo.source(id);
    if (!row) throw new HearthError('SOURCE_NOT_FOUND', `No source with id ${id}; it may have been removed.`);
    return this.deps.repo.toSource(row, this.deps.watcher.has(id));
  }

  /** Records a folder or a file in a collection (the same path again gives the same source) and watches a folder. */
  addSource(collectionId: string, path: string): SourceRow {
    this.collection(collectionId);
    const absolute = resolve(path);
    const kind = sourceKind(absolute);
    const row = this.deps.repo.sourceByPath(collectionId, absolute) ?? this.deps.repo.addSource(collectionId, absolute, kind);
    if (row.kind === 'folder' && this.deps.watch) this.deps.watcher.add(row.id, row.path);
    this.deps.onChanged(collectionId);
    return row;
  }

  async removeSource(sourceId: string): Promise<void> {
    const row = this.deps.repo.source(sourceId);
    if (!row) throw new HearthError('SOURCE_NOT_FOUND', `No source with id ${sourceId}; it may have been removed.`);
    await this.deps.watcher.remove(sourceId);
    const docIds = this.deps.repo.documents({ sourceId }).map((d) => d.id);
    // Chunks first: if this stops half way, the source is still listed and removing it again finishes.
    await this.deps.deleteChunks(docIds);
    this.deps.repo.removeSource(sourceId);
    this.deps.onChanged(row.collectionId);
  }

  // ---- documents ----

  documents(filter: { collectionId?: string; sourceId?: string; status?: DocumentStatus }): DocumentInfo[] {
    return this.deps.repo.documents(filter).map(toDocumentInfo);
  }

  document(id: string): DocumentRow {
    const row = this.deps.repo.document(id);
    if (!row) throw new HearthError('DOCUMENT_NOT_FOUND', `No document with id ${id}; it may have been removed.`);
    return row;
  }

  /** Every indexed document's file with its source folder: what a snapshot with documents copies. */
  indexedFiles(): IndexedFile[] {
    const roots = new Map(this.deps.repo.sources().map((s) => [s.id, s.path]));
    return this.deps.repo.documents({ status: 'indexed' }).flatMap((d) => {
      const sourceRoot = roots.get(d.sourceId);
      return sourceRoot === undefined ? [] : [{ sourceId: d.sourceId, sourceRoot, path: d.path }];
    });
  }
}

function sourceKind(absolute: string): SourceKind {
  let info: Stats;
  try {
    info = statSync(absolute);
    if (info.isDirectory()) return 'folder';
    if (info.isFile()) return 'file';
  } catch (error) {
    throw fileError(error, absolute, {
      notFound: `Nothing at ${absolute}.`,
      other: `Cannot read ${absolute}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
    });
  }
  // A FIFO, socket or device: stat does not block on it, but reading it would.
  throw notRegularFileError(absolute, nonRegularKind(info) ?? 'not a regular file', 'a folder or a regular file');
}
