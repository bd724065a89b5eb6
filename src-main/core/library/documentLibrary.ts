import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { z } from 'zod';
import type {
  Collection,
  DocumentInfo,
  DocumentStatus,
  EmbeddingIndexInfo,
  IndexStatus,
  JobInfo,
  SearchHit,
  SearchMode,
  Source,
} from '#contract/dto';
import { HearthError } from '../common/hearthError';
import type { Logger } from '../common/logger';
import type { JobContext, JobManager } from '../jobs/jobManager';
import type { ModelLibrary } from '../models/modelLibrary';
import type { ChunkRow, ChunkStore } from '../search/chunkStore';
import { hybridSearch } from '../search/hybridSearch';
import type { SearchFilter } from '../search/sqlFilter';
import { documentId, toDocumentInfo, type DocumentRow, type LibraryRepository } from '../storage/libraryRepository';
import type { ModelRow } from '../storage/modelRepository';
import { chunkDocument } from './chunker';
import type { Embedder } from './embedder';
import { scanSource } from './folderScanner';
import { FolderWatcher } from './folderWatcher';
import type { DocumentParser } from './parse/documentParser';
import { formatFor } from './parse/detectFormat';
import { DocumentProblem, SKIP_CODES, type Chunk, type DocumentFormat } from './types';
import { JOB_KIND, type DocumentReasonCode, type SourceKind } from '#contract/vocabulary';

export const INDEX_JOB = JOB_KIND.libraryIndex;

export interface IndexJobParams {
  /** Sources to look at for changes first; 'all' after a restart or a full rescan. */
  scan: string[] | 'all';
}

export interface LibraryOptions {
  /** Largest chunk in tokens of the embedding model (capped by the model's context). */
  chunkTokens: number;
  overlapTokens: number;
  /** Chunks written to LanceDB per commit (with their documents' SQLite rows right after). */
  writeBatchChunks: number;
  /** Watch folder sources for changes while the core runs. */
  watch: boolean;
  /** Quiet period after the last change before a watched folder is rescanned. */
  watchDebounceMs: number;
  /** Cosine similarity from which a passage counts as relevant for chat without sharing a word with the question. */
  minSimilarity: number;
}

export const DEFAULT_LIBRARY_OPTIONS: LibraryOptions = {
  chunkTokens: 384,
  overlapTokens: 48,
  writeBatchChunks: 256,
  watch: true,
  watchDebounceMs: 500,
  minSimilarity: 0.6,
};

export interface SearchInput {
  query: string;
  collectionIds?: string[];
  pathPrefix?: string;
  formats?: DocumentFormat[];
  limit?: number;
  mode?: SearchMode;
  rerank?: boolean;
}

export interface LibraryDeps {
  repo: LibraryRepository;
  store: () => Promise<ChunkStore>;
  parser: DocumentParser;
  embedder: Embedder;
  models: ModelLibrary;
  jobs: JobManager;
  logger: Logger;
  onChanged: (collectionId: string | null) => void;
  options?: Partial<LibraryOptions>;
}

interface ActiveIndex extends EmbeddingIndexInfo {
  key: string;
}

/** The index a job writes to, with the model's input limit. */
interface TargetIndex extends ActiveIndex {
  contextSize: number;
}

/** One document's result, held until its batch is written. */
interface Processed {
  doc: DocumentRow;
  contentHash: string | null;
  rows: ChunkRow[];
  outcome: { status: 'indexed'; title: string | null; pageCount: number | null; note: string | null } | { status: Extract<DocumentStatus, 'skipped' | 'failed'>; code: DocumentReasonCode; message: string };
}

const ACTIVE_INDEX_KEY = 'library.activeIndex';
const activeIndexSchema = z.object({ key: z.string(), modelId: z.string(), modelName: z.string(), dimension: z.number().int().positive() }) satisfies z.ZodType<ActiveIndex>;

/**
 * Your documents: collections of folders and files, kept indexed in LanceDB. SQLite holds what
 * was seen (paths, content hashes, statuses); LanceDB holds chunks. Chunks are written first
 * and the SQLite row after, so a crash in between leaves the document pending and the next run
 * rewrites the same deterministic chunk ids (a mergeInsert): no duplicate, nothing missing.
 */
export class DocumentLibrary {
  private readonly options: LibraryOptions;
  private readonly watcher: FolderWatcher;
  /** Sources changed on disk while an indexing job was running: it scans them again before it ends. */
  private readonly dirty = new Set<string>();
  private changedTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly deps: LibraryDeps) {
    this.options = { ...DEFAULT_LIBRARY_OPTIONS, ...deps.options };
    this.watcher = new FolderWatcher(this.options.watchDebounceMs, (sourceId) => this.onFolderChanged(sourceId), deps.logger);
    deps.jobs.register<IndexJobParams, null>(INDEX_JOB, {
      params: z.object({ scan: z.union([z.array(z.string()), z.literal('all')]) }),
      title: () => 'Indexing documents',
      resumable: true,
      run: (params, context) => this.runIndexJob(params, context),
    });
  }

  /** Starts watching folder sources (call once the core is built). */
  start(): void {
    if (!this.options.watch) return;
    for (const source of this.deps.repo.sources()) if (source.kind === 'folder') this.watcher.add(source.id, source.path);
  }

  async dispose(): Promise<void> {
    if (this.changedTimer) clearTimeout(this.changedTimer);
    await this.watcher.close();
  }

  // ---- collections and sources ----

  collections(): Collection[] {
    return this.deps.repo.collections();
  }

  collection(id: string): Collection {
    const found = this.deps.repo.collection(id);
    if (!found) throw new HearthError('COLLECTION_NOT_FOUND', `No collection with id ${id}; it may have been deleted.`);
    return found;
  }

  createCollection(name: string): Collection {
    const clean = name.trim();
    if (!clean) throw new HearthError('BAD_INPUT', 'A collection needs a name.');
    if (this.deps.repo.collectionByName(clean)) throw new HearthError('BAD_INPUT', `A collection named "${clean}" already exists.`);
    const id = this.deps.repo.createCollection(clean);
    this.changed(id);
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
    this.changed(id);
    return this.collection(id);
  }

  async deleteCollection(id: string): Promise<void> {
    this.collection(id);
    for (const source of this.deps.repo.sources(id)) await this.removeSource(source.id);
    this.deps.repo.deleteCollection(id);
    this.changed(id);
  }

  sources(collectionId?: string): Source[] {
    return this.deps.repo.sources(collectionId).map((row) => this.deps.repo.toSource(row, this.watcher.has(row.id)));
  }

  source(id: string): Source {
    const row = this.deps.repo.source(id);
    if (!row) throw new HearthError('SOURCE_NOT_FOUND', `No source with id ${id}; it may have been removed.`);
    return this.deps.repo.toSource(row, this.watcher.has(id));
  }

  /** Adds a folder or a file to a collection and starts indexing it. Adding it again rescans it. */
  addSource(collectionId: string, path: string): { source: Source; job: JobInfo } {
    this.collection(collectionId);
    const absolute = resolve(path);
    let kind: SourceKind;
    try {
      const info = statSync(absolute);
      if (info.isDirectory()) kind = 'folder';
      else if (info.isFile()) kind = 'file';
      else throw new HearthError('BAD_INPUT', `${absolute} is neither a folder nor a regular file.`);
    } catch (error) {
      if (error instanceof HearthError) throw error;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') throw new HearthError('FILE_NOT_FOUND', `Nothing at ${absolute}.`);
      throw new HearthError('FILE_UNREADABLE', `Cannot read ${absolute}: ${code ?? (error as Error).message}`);
    }
    const row = this.deps.repo.sourceByPath(collectionId, absolute) ?? this.deps.repo.addSource(collectionId, absolute, kind);
    if (row.kind === 'folder' && this.options.watch) this.watcher.add(row.id, row.path);
    this.changed(collectionId);
    const job = this.requestIndex([row.id]);
    return { source: this.source(row.id), job };
  }

  async removeSource(sourceId: string): Promise<void> {
    const row = this.deps.repo.source(sourceId);
    if (!row) throw new HearthError('SOURCE_NOT_FOUND', `No source with id ${sourceId}; it may have been removed.`);
    await this.watcher.remove(sourceId);
    const docIds = this.deps.repo.documents({ sourceId }).map((d) => d.id);
    // Chunks first: if this stops half way, the source is still listed and removing it again finishes.
    await this.deleteChunks(docIds);
    this.deps.repo.removeSource(sourceId);
    this.changed(row.collectionId);
  }

  documents(filter: { collectionId?: string; sourceId?: string; status?: DocumentStatus }): DocumentInfo[] {
    return this.deps.repo.documents(filter).map(toDocumentInfo);
  }

  document(id: string): DocumentRow {
    const row = this.deps.repo.document(id);
    if (!row) throw new HearthError('DOCUMENT_NOT_FOUND', `No document with id ${id}; it may have been removed.`);
    return row;
  }

  // ---- indexing ----

  /**
   * Makes sure an indexing job will look at these sources: joins the job already running (it
   * rescans them before it ends), resumes a paused or interrupted one, or starts one.
   */
  requestIndex(sourceIds: string[] | 'all'): JobInfo {
    const jobs = this.deps.jobs;
    const live = jobs.find<IndexJobParams>(INDEX_JOB, ['running', 'queued'], () => true);
    if (live) {
      for (const id of sourceIds === 'all' ? this.deps.repo.sources().map((s) => s.id) : sourceIds) this.dirty.add(id);
      return live;
    }
    const stopped = jobs.find<IndexJobParams>(INDEX_JOB, ['paused', 'interrupted', 'failed'], () => true);
    if (stopped) {
      for (const id of sourceIds === 'all' ? this.deps.repo.sources().map((s) => s.id) : sourceIds) this.dirty.add(id);
      jobs.resume(stopped.id);
      return jobs.get(stopped.id);
    }
    return jobs.start<IndexJobParams>(INDEX_JOB, { scan: sourceIds });
  }

  /**
   * The default embedding model changed: documents are embedded again with it, as a job, into
   * a new table; searches keep using the old one until every document is in the new one.
   */
  embeddingModelChanged(): JobInfo | null {
    const target = this.deps.models.embeddingModel();
    if (!target || this.deps.repo.sources().length === 0) return null;
    if (this.activeIndex()?.modelId === target.id) return null;
    return this.requestIndex('all');
  }

  /** The indexing job under way or paused, if any. */
  currentJob(): JobInfo | null {
    return this.deps.jobs.find<IndexJobParams>(INDEX_JOB, ['running', 'queued', 'paused'], () => true);
  }

  async status(): Promise<IndexStatus> {
    const active = this.activeIndex();
    const targetRow = this.deps.models.embeddingModel() ?? null;
    let target: EmbeddingIndexInfo | null = null;
    let blocker: IndexStatus['blocker'] = null;
    if (!targetRow) {
      blocker = {
        code: 'EMBEDDING_MODEL_MISSING',
        message: 'No embedding model yet: download one from the catalog (Models → Discover, purpose "embedding") or set a model as the default for embeddings, so documents can be indexed.',
      };
    } else if (active?.modelId === targetRow.id) {
      target = { modelId: active.modelId, modelName: active.modelName, dimension: active.dimension };
    } else {
      target = { modelId: targetRow.id, modelName: targetRow.name, dimension: 0 };
    }
    return {
      active: active && { modelId: active.modelId, modelName: active.modelName, dimension: active.dimension },
      target,
      blocker,
      documents: this.deps.repo.counts(),
      chunks: active ? this.deps.repo.totalChunks(active.key) : 0,
      watching: this.watcher.size,
      job: this.currentJob(),
    };
  }

  private onFolderChanged(sourceId: string): void {
    if (!this.deps.repo.source(sourceId)) return;
    this.deps.logger.debug(`changes in source ${sourceId}: rescanning`);
    this.requestIndex([sourceId]);
  }

  private async runIndexJob(params: IndexJobParams, context: JobContext<null>): Promise<void> {
    const { repo, logger } = this.deps;
    const modelRow = this.deps.models.embeddingModel();
    if (!modelRow) {
      throw new HearthError(
        'EMBEDDING_MODEL_MISSING',
        'No embedding model is set. Download one (e.g. the catalog\'s recommended embedding model) and set it as the default for embeddings, then index again.',
      );
    }
    const info = await this.deps.embedder.info(modelRow);
    const target: TargetIndex = { ...info, key: indexKey(info.modelId, info.dimension) };
    const store = await this.deps.store();
    await store.ensureTable(target.key, { dimension: target.dimension, modelId: target.modelId, modelName: target.modelName });
    const countTokens = await this.deps.embedder.tokenCounter(modelRow);
    await this.reconcile(store, target.key);

    let toScan: string[] = params.scan === 'all' ? repo.sources().map((s) => s.id) : [...params.scan];
    for (const id of this.dirty) toScan.push(id);
    this.dirty.clear();
    const started = performance.now();
    let filesDone = 0;
    let chunksDone = 0;
    for (;;) {
      // Files gone from disk are dropped after this round's work, so a renamed file's chunks
      // can still lend their vectors to the file under its new name.
      const gone: DocumentRow[] = [];
      for (const sourceId of new Set(toScan)) gone.push(...(await this.scan(sourceId, context.signal)));
      const work = repo.pendingWork(target.key);
      const total = filesDone + work.length;
      /** within: how far the current file is (a big file embeds for a while), 0..1. */
      const report = (current: string | null, within = 0, note = '') => {
        const elapsed = (performance.now() - started) / 1000;
        const done = filesDone + within;
        const eta = done > 0 && total > done ? ((total - done) * elapsed) / done : null;
        context.onProgress(
          total === 0 ? 1 : done / total,
          `${filesDone}/${total} files · ${chunksDone} chunks${eta !== null ? ` · about ${formatEta(eta)} left` : ''}${current ? ` · ${current}${note}` : ''}`,
        );
      };
      report(null);
      let batch: Processed[] = [];
      let batchChunks = 0;
      const flush = async () => {
        if (batch.length === 0) return;
        await this.writeBatch(store, target.key, batch);
        for (const item of batch) this.changedSoon(item.doc.collectionId);
        batch = [];
        batchChunks = 0;
      };
      for (const doc of work) {
        context.signal.throwIfAborted();
        report(doc.path);
        const onEmbedding = (embedded: number, of: number) => report(doc.path, embedded / of, ` (embedding ${embedded}/${of})`);
        const processed = await this.processDocument(doc, modelRow, target, countTokens, store, context.signal, onEmbedding);
        batch.push(processed);
        batchChunks += processed.rows.length;
        filesDone++;
        chunksDone += processed.rows.length;
        if (batchChunks >= this.options.writeBatchChunks) await flush();
      }
      await flush();
      if (gone.length > 0) {
        // Chunks go first, then the rows: a crash in between finds the files gone again next time.
        await this.deleteChunks(gone.map((d) => d.id));
        repo.removeDocuments(gone.map((d) => d.id));
        this.changedSoon(gone[0]!.collectionId);
      }
      report(null);
      if (this.dirty.size === 0) break;
      toScan = [...this.dirty];
      this.dirty.clear();
    }
    await store.refreshIndexes(target.key);
    await this.switchIfComplete(store, target);
    logger.info(`indexing done: ${filesDone} files, ${chunksDone} chunks`);
  }

  /**
   * Brings the documents table in line with what is on disk under one source: new and changed
   * files become pending. Returns the documents whose files are gone, for the caller to drop.
   */
  private async scan(sourceId: string, signal: AbortSignal): Promise<DocumentRow[]> {
    const { repo } = this.deps;
    const source = repo.source(sourceId);
    if (!source) return [];
    const { files, problems } = await scanSource(source.path, source.kind, signal);
    const known = new Map(repo.documents({ sourceId }).map((d) => [d.path, d]));
    const seen = new Set<string>();
    for (const file of files) {
      seen.add(file.path);
      const doc = known.get(file.path);
      if (doc && doc.sizeBytes === file.sizeBytes && doc.mtimeMs === file.mtimeMs && doc.status !== 'pending') continue;
      if (doc && doc.status !== 'pending' && doc.sizeBytes === file.sizeBytes && doc.contentHash !== null) {
        // Same size, new time stamp: read it to see whether the bytes really changed.
        const hash = await hashFile(file.path).catch(() => null);
        if (hash === doc.contentHash) {
          repo.touch(doc.id, file.sizeBytes, file.mtimeMs);
          continue;
        }
      }
      const format = formatFor(file.path);
      const row = repo.upsertSeen({ sourceId, path: file.path, format, sizeBytes: file.sizeBytes, mtimeMs: file.mtimeMs });
      if (!format) {
        const ext = extname(file.path) || 'without an extension';
        repo.markProblem(row.id, 'skipped', { code: 'UNSUPPORTED', message: `Hearth does not read ${ext} files` }, null);
      }
    }
    for (const problem of problems) {
      seen.add(problem.path);
      const row = repo.upsertSeen({ sourceId, path: problem.path, format: null, sizeBytes: 0, mtimeMs: 0 });
      repo.markProblem(row.id, problem.code === 'UNREADABLE' ? 'failed' : 'skipped', problem, null);
    }
    repo.markScanned(sourceId);
    this.changedSoon(source.collectionId);
    return [...known.values()].filter((d) => !seen.has(d.path));
  }

  private async processDocument(
    doc: DocumentRow,
    modelRow: ModelRow,
    target: TargetIndex,
    countTokens: (text: string) => number,
    store: ChunkStore,
    signal: AbortSignal,
    onEmbedding: (embedded: number, of: number) => void,
  ): Promise<Processed> {
    let contentHash: string | null = null;
    try {
      contentHash = await hashFile(doc.path);
      const parsed = await this.deps.parser.parse(doc.path, { signal });
      const maxTokens = Math.max(32, Math.min(this.options.chunkTokens, target.contextSize - 64));
      const chunks = chunkDocument(parsed, {
        maxTokens,
        overlapTokens: Math.min(this.options.overlapTokens, Math.floor(maxTokens / 4)),
        countTokens,
      });
      if (chunks.length === 0) throw new DocumentProblem('EMPTY', 'no text to index');
      const inputs = chunks.map((chunk) => embeddingInput(parsed.title, chunk, countTokens, target.contextSize));
      const hashes = inputs.map((text) => sha256(text));
      const reused = await store.vectorsByTextHash(target.key, [...new Set(hashes)]);
      const missing = [...new Set(hashes.filter((h) => !reused.has(h)))];
      const missingText = missing.map((h) => inputs[hashes.indexOf(h)]!);
      const vectors = await this.deps.embedder.embed(modelRow, missingText, {
        signal,
        background: true,
        onEmbedded: (done) => onEmbedding(done, missingText.length),
      });
      missing.forEach((hash, i) => reused.set(hash, vectors[i]!));
      const format = parsed.format;
      const rows: ChunkRow[] = chunks.map((chunk, i) => ({
        id: `${doc.id}:${chunk.ordinal}`,
        docId: doc.id,
        sourceId: doc.sourceId,
        collectionId: doc.collectionId,
        path: doc.path,
        format,
        title: parsed.title,
        heading: chunk.headingPath.join(' › '),
        ordinal: chunk.ordinal,
        pageStart: chunk.pageStart,
        pageEnd: chunk.pageEnd,
        lineStart: chunk.lineStart,
        lineEnd: chunk.lineEnd,
        text: chunk.text,
        textHash: hashes[i]!,
        tokenCount: chunk.tokenCount,
        vector: reused.get(hashes[i]!)!,
      }));
      const note = parsed.warnings.length > 0 ? parsed.warnings.join('; ') : null;
      return { doc, contentHash, rows, outcome: { status: 'indexed', title: parsed.title, pageCount: parsed.pageCount ?? null, note } };
    } catch (error) {
      signal.throwIfAborted();
      if (error instanceof DocumentProblem) {
        const status = SKIP_CODES.includes(error.code) ? 'skipped' : 'failed';
        return { doc, contentHash, rows: [], outcome: { status, code: error.code, message: error.message } };
      }
      if (error instanceof HearthError) throw error; // the model or the index broke: the job fails, nothing is lost
      const e = error as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') return { doc, contentHash, rows: [], outcome: { status: 'failed', code: 'UNREADABLE', message: 'the file disappeared while indexing' } };
      if (e.code) return { doc, contentHash, rows: [], outcome: { status: 'failed', code: 'UNREADABLE', message: `cannot read it: ${e.code}` } };
      throw error;
    }
  }

  /** One LanceDB commit for the batch's chunks, then the SQLite rows in one transaction. */
  private async writeBatch(store: ChunkStore, key: string, batch: Processed[]): Promise<void> {
    await store.replaceDocuments(
      key,
      batch.map((p) => p.doc.id),
      batch.flatMap((p) => p.rows),
    );
    const active = this.activeIndex();
    if (active && active.key !== key) {
      // Documents that became unreadable must not keep answering from the index still in use.
      const broken = batch.filter((p) => p.outcome.status !== 'indexed').map((p) => p.doc.id);
      if (broken.length > 0) await store.deleteDocuments(active.key, broken);
    }
    this.deps.repo.transaction(() => {
      for (const p of batch) {
        if (p.outcome.status === 'indexed') {
          this.deps.repo.markIndexed(p.doc.id, {
            contentHash: p.contentHash!,
            chunkCount: p.rows.length,
            title: p.outcome.title,
            pageCount: p.outcome.pageCount,
            indexKey: key,
            reason: p.outcome.note,
          });
        } else {
          this.deps.repo.markProblem(p.doc.id, p.outcome.status, { code: p.outcome.code, message: p.outcome.message }, p.contentHash);
        }
      }
    });
  }

  /**
   * After a crash, the two stores may disagree: chunks of documents SQLite no longer lists are
   * deleted, and documents whose chunk count in LanceDB differs from SQLite's go back to pending.
   */
  private async reconcile(store: ChunkStore, key: string): Promise<void> {
    const counts = await store.chunkCounts(key);
    const known = this.deps.repo.allDocumentIds();
    const orphans = [...counts.keys()].filter((id) => !known.has(id));
    if (orphans.length > 0) {
      this.deps.logger.info(`reconcile: removing chunks of ${orphans.length} document(s) no longer listed`);
      await store.deleteDocuments(key, orphans);
    }
    for (const doc of this.deps.repo.documents({ status: 'indexed' })) {
      if (doc.indexKey === key && (counts.get(doc.id) ?? 0) !== doc.chunkCount) {
        this.deps.logger.info(`reconcile: ${doc.path} has ${counts.get(doc.id) ?? 0} chunks, expected ${doc.chunkCount}; reindexing`);
        this.deps.repo.markPending(doc.id);
      }
    }
  }

  /** Once every document is in the new model's table, searches move to it and the old one goes. */
  private async switchIfComplete(store: ChunkStore, target: TargetIndex): Promise<void> {
    if (this.deps.repo.pendingWork(target.key).length > 0) return;
    const active = this.activeIndex();
    if (active?.key === target.key) return;
    this.setActiveIndex({ key: target.key, modelId: target.modelId, modelName: target.modelName, dimension: target.dimension });
    if (active) {
      this.deps.logger.info(`index switched from ${active.modelName} to ${target.modelName}; dropping the old table`);
      await store.dropTable(active.key);
    }
  }

  private async deleteChunks(docIds: string[]): Promise<void> {
    if (docIds.length === 0) return;
    const store = await this.deps.store();
    for (const table of await store.listTables()) await store.deleteDocuments(table, docIds);
  }

  // ---- search ----

  async search(input: SearchInput, signal?: AbortSignal): Promise<SearchHit[]> {
    const active = this.activeIndex();
    if (!active) return [];
    const store = await this.deps.store();
    const mode = input.mode ?? 'hybrid';
    let vector: Float32Array | null = null;
    if (mode !== 'bm25') {
      const current = this.deps.models.embeddingModel();
      const row = current?.id === active.modelId ? current : this.modelRow(active.modelId);
      vector = (await this.deps.embedder.embed(row, [input.query], { signal }))[0] ?? null;
    }
    const filter: SearchFilter = {
      ...(input.collectionIds ? { collectionIds: input.collectionIds } : {}),
      ...(input.pathPrefix ? { pathPrefix: resolve(input.pathPrefix) } : {}),
      ...(input.formats ? { formats: input.formats } : {}),
    };
    const limit = input.limit ?? 10;
    const hits = await hybridSearch(store, active.key, {
      text: input.query,
      vector,
      limit: input.rerank ? Math.max(limit * 3, 20) : limit,
      filter,
      mode,
    });
    let results: SearchHit[] = hits.map((hit) => ({
      chunkId: hit.row.id,
      docId: hit.row.docId,
      collectionId: hit.row.collectionId,
      path: hit.row.path,
      title: hit.row.title,
      format: hit.row.format,
      heading: hit.row.heading ? hit.row.heading.split(' › ') : [],
      location: { pageStart: hit.row.pageStart, pageEnd: hit.row.pageEnd, lineStart: hit.row.lineStart, lineEnd: hit.row.lineEnd },
      text: hit.row.text,
      score: hit.score,
      bm25Rank: hit.bm25Rank,
      vectorRank: hit.vectorRank,
      similarity: hit.vectorSimilarity,
      rerankScore: null,
    }));
    if (input.rerank && results.length > 0) {
      const reranker = this.deps.models.defaultFor('rerank');
      if (!reranker) throw new HearthError('RERANKER_UNAVAILABLE', 'No reranker model is set; set one as the default for reranking.');
      const scores = await this.deps.embedder.rerank(reranker, input.query, results.map((r) => r.text));
      results = results
        .map((r, i) => ({ ...r, rerankScore: scores[i] ?? 0 }))
        .sort((a, b) => b.rerankScore - a.rerankScore);
    }
    return results.slice(0, limit);
  }

  /** One chunk by id, for showing a citation's passage. */
  async chunk(chunkId: string): Promise<SearchHit> {
    const active = this.activeIndex();
    const store = await this.deps.store();
    const [row] = active ? await store.getChunks(active.key, [chunkId]) : [];
    if (!row) throw new HearthError('NOT_FOUND', `No passage ${chunkId} in the index; the document may have changed since.`);
    return {
      chunkId: row.id,
      docId: row.docId,
      collectionId: row.collectionId,
      path: row.path,
      title: row.title,
      format: row.format,
      heading: row.heading ? row.heading.split(' › ') : [],
      location: { pageStart: row.pageStart, pageEnd: row.pageEnd, lineStart: row.lineStart, lineEnd: row.lineEnd },
      text: row.text,
      score: 0,
      bm25Rank: null,
      vectorRank: null,
      similarity: null,
      rerankScore: null,
    };
  }

  /** A whole document's text, in order, from its chunks (overlaps between pieces included). */
  async documentText(docId: string): Promise<{ text: string; tokenCount: number } | null> {
    const active = this.activeIndex();
    if (!active) return null;
    const rows = await (await this.deps.store()).docChunks(active.key, docId);
    if (rows.length === 0) return null;
    return { text: rows.map((r) => r.text).join('\n\n'), tokenCount: rows.reduce((n, r) => n + r.tokenCount, 0) };
  }

  // ---- state ----

  private activeIndex(): ActiveIndex | null {
    return this.deps.repo.getState(ACTIVE_INDEX_KEY, activeIndexSchema, 'searches find nothing until the next indexing run records the index again');
  }

  private setActiveIndex(index: ActiveIndex): void {
    this.deps.repo.setState(ACTIVE_INDEX_KEY, index);
  }

  private modelRow(modelId: string): ModelRow {
    try {
      return this.deps.models.get(modelId);
    } catch {
      throw new HearthError(
        'EMBEDDING_MODEL_MISSING',
        'The model this index was built with is gone. Set an embedding model as the default and the documents will be embedded again.',
      );
    }
  }

  private changed(collectionId: string | null): void {
    this.deps.onChanged(collectionId);
  }

  /** Status changes while indexing arrive in bursts: tell the UI at most every 250 ms. */
  private changedSoon(collectionId: string): void {
    void collectionId;
    if (this.changedTimer) return;
    this.changedTimer = setTimeout(() => {
      this.changedTimer = null;
      this.deps.onChanged(null);
    }, 250);
    this.changedTimer.unref?.();
  }
}

/** The LanceDB table for a model and dimension; switching models means a new table. */
export function indexKey(modelId: string, dimension: number): string {
  return `chunks_${modelId.toLowerCase().replace(/[^a-z0-9]+/g, '_')}_${dimension}`;
}

/**
 * What gets embedded: the document title and heading path give a passage its context (a
 * paragraph under "Installation › Linux" is about installing on Linux). Cut to fit the model.
 */
function embeddingInput(title: string | null, chunk: Chunk, countTokens: (text: string) => number, contextSize: number): string {
  const context = [title, ...chunk.headingPath].filter((part): part is string => !!part).join(' › ');
  const full = context ? `${context}\n\n${chunk.text}` : chunk.text;
  const limit = contextSize - 8;
  if (countTokens(full) <= limit) return full;
  if (countTokens(chunk.text) <= limit) return chunk.text;
  // A chunk is sized to fit; this guards tokenizers that count differently in context.
  let text = chunk.text;
  while (text.length > 16 && countTokens(text) > limit) text = text.slice(0, Math.floor(text.length * 0.9));
  return text;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function hashFile(path: string): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (data) => hash.update(data))
      .on('error', reject)
      .on('end', () => resolvePromise(hash.digest('hex')));
  });
}

function formatEta(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${Math.round(seconds % 60)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export { documentId };
