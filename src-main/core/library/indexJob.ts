import { z } from 'zod';
import type { EmbeddingIndexInfo, IndexStatus, JobInfo, RetrievalMode } from '#contract/dto';
import { JOB_KIND } from '#contract/vocabulary';
import { Throttler } from '../common/async';
import type { Logger } from '../common/logger';
import type { JobContext, JobManager } from '../jobs/jobManager';
import type { ModelLibrary } from '../models/modelLibrary';
import type { ChunkStore } from '../search/chunkStore';
import type { DocumentRow, LibraryRepository } from '../storage/libraryRepository';
import { activeIndexFits, deleteChunksEverywhere, fullTextIndex, hasVectors, indexKey, readActiveIndex, writeActiveIndex, type ActiveIndex, type TargetIndex } from './activeIndex';
import { embedPending } from './embedPending';
import { CommitQueue } from './indexCommits';
import { IndexProgress } from './indexProgress';
import type { Embedder } from './embedder';
import { indexMissingError, missingActiveIndex } from './indexHealth';
import { copyDocument, parseDocument, scanForChanges, type Processed } from './indexDocument';
import type { LibraryOptions } from './libraryOptions';
import type { DocumentParser } from './parse/documentParser';

export const INDEX_JOB = JOB_KIND.libraryIndex;

export interface IndexJobParams {
  /** Sources to look at for changes first; 'all' after a restart or a full rescan. */
  scan: string[] | 'all';
}

export interface LibraryIndexerDeps {
  repo: LibraryRepository;
  store: () => Promise<ChunkStore>;
  parser: DocumentParser;
  embedder: Embedder;
  models: ModelLibrary;
  jobs: JobManager;
  logger: Logger;
  options: LibraryOptions;
  /** Folders being watched, for the status. */
  watching: () => number;
  /** How searches run now, for the status. */
  searchMode: () => RetrievalMode;
  onChanged: (collectionId: string | null) => void;
  /** After a run: measures the search channels on the index when it changed (channelCalibration.ts). */
  afterIndexing?: () => Promise<void>;
}

/**
 * The indexing job: scans sources for changes, then parses, chunks and embeds what changed into
 * LanceDB. SQLite holds what was seen (paths, content hashes, statuses); LanceDB holds chunks.
 * Chunks are written first and the SQLite row after, so a crash in between leaves the document
 * pending and the next run rewrites the same deterministic chunk ids (a mergeInsert): no
 * duplicate, nothing missing.
 */
export class LibraryIndexer {
  /** Sources changed on disk while an indexing job was running: it scans them again before it ends. */
  private readonly dirty = new Set<string>();
  /** Status changes while indexing arrive in bursts: the UI hears of them at most every 250 ms. */
  private readonly changedBursts = new Throttler<void>(() => this.deps.onChanged(null), { intervalMs: 250, leading: false });

  constructor(private readonly deps: LibraryIndexerDeps) {
    deps.jobs.register<IndexJobParams, null>(INDEX_JOB, {
      params: z.object({ scan: z.union([z.array(z.string()), z.literal('all')]) }),
      title: () => 'Indexing documents',
      resumable: true,
      run: (params, context) => this.run(params, context),
    });
  }

  dispose(): void {
    this.changedBursts.dispose();
  }

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
    if (activeIndexFits(readActiveIndex(this.deps.repo), target)) return null;
    return this.requestIndex('all');
  }

  /** The indexing job under way or paused, if any. */
  currentJob(): JobInfo | null {
    return this.deps.jobs.find<IndexJobParams>(INDEX_JOB, ['running', 'queued', 'paused'], () => true);
  }

  /**
   * Makes the index again from the documents when its table is gone (index/ deleted or moved):
   * the indexing job recreates the table and its reconcile step sends every document whose
   * chunks are missing back to embedding. Null when the index is there (nothing to do).
   */
  async rebuildIfMissing(): Promise<JobInfo | null> {
    // Nothing indexed yet: no index to miss, and no reason to open LanceDB.
    if (!readActiveIndex(this.deps.repo)) return null;
    const store = await this.deps.store();
    const missing = missingActiveIndex(this.deps.repo, store);
    if (!missing) return null;
    this.deps.logger.warn(`the document index ${missing.key} is missing from ${store.dir}: rebuilding it`);
    return this.requestIndex('all');
  }

  async status(): Promise<IndexStatus> {
    const active = readActiveIndex(this.deps.repo);
    const store = active ? await this.deps.store() : null;
    const missing = store !== null && missingActiveIndex(this.deps.repo, store) !== null;
    const targetRow = this.deps.models.embeddingModel() ?? null;
    let target: EmbeddingIndexInfo | null = null;
    let blocker: IndexStatus['blocker'] = null;
    // No embedding model is no blocker: documents are indexed for full-text search meanwhile.
    if (store && missing && !this.currentJob()) {
      // Once the rebuild job runs it is the status to show, not a blocker.
      blocker = indexMissingError(store).toData();
    }
    if (targetRow && active?.modelId === targetRow.id) {
      target = { modelId: active.modelId, modelName: active.modelName, dimension: active.dimension };
    } else if (targetRow) {
      target = { modelId: targetRow.id, modelName: targetRow.name, dimension: 0 };
    }
    return {
      active: active && hasVectors(active) ? { modelId: active.modelId, modelName: active.modelName, dimension: active.dimension } : null,
      target,
      blocker,
      mode: this.deps.searchMode(),
      documents: this.deps.repo.counts(),
      chunks: active && !missing ? this.deps.repo.totalChunks(active.key) : 0,
      vectorsPending: active && store && !missing ? await this.vectorsPending(store, active, targetRow !== null) : 0,
      watching: this.deps.watching(),
      job: this.currentJob(),
    };
  }

  /**
   * Passages searches use that have no vector yet: the active model table's chunks without one
   * (a stopped run), or every chunk of a full-text-only index once an embedding model is set.
   */
  private async vectorsPending(store: ChunkStore, active: ActiveIndex, embeddingModel: boolean): Promise<number> {
    if (!hasVectors(active)) return embeddingModel ? this.deps.repo.totalChunks(active.key) : 0;
    let pending = 0;
    for (const count of (await store.unembeddedCounts(active.key)).values()) pending += count;
    return pending;
  }

  /** Deletes these documents' chunks from every table. */
  async deleteChunks(docIds: string[]): Promise<void> {
    if (docIds.length === 0) return;
    await deleteChunksEverywhere(await this.deps.store(), docIds);
  }

  /**
   * Reads what changed into the target table without waiting for vectors (full text first), then
   * embeds the chunks that have none. Each finished document is committed within two seconds, so
   * the file list and search see it during the run and stopping keeps it. New files found while
   * vectors are being made are read first.
   */
  private async run(params: IndexJobParams, context: JobContext<null>): Promise<void> {
    const { repo, logger, options, parser } = this.deps;
    const { signal } = context;
    const modelRow = this.deps.models.embeddingModel() ?? null;
    const active = readActiveIndex(repo);
    let target: TargetIndex;
    let countTokens: (text: string) => number;
    if (modelRow) {
      const info = await this.deps.embedder.info(modelRow);
      target = { ...info, key: indexKey(info.modelId, info.dimension, info.rules) };
      countTokens = await this.deps.embedder.tokenCounter(modelRow);
    } else {
      // No embedding model: full text only, into the index in use (its vectors stay) or a text-only one.
      target = active ? { ...active, contextSize: options.chunkTokens + 64 } : fullTextIndex(options.chunkTokens + 64);
      countTokens = approximateTokens;
    }
    const store = await this.deps.store();
    await store.ensureTable(target.key, { dimension: target.dimension, modelId: target.modelId, modelName: target.modelName });
    await this.reconcile(store, target.key);
    const processing = { parser, options, target, countTokens, store, signal };
    const embedding = modelRow && modelRow.id === target.modelId ? modelRow : null;
    const progress = new IndexProgress((fraction, detail) => context.onProgress(fraction, detail), embedding !== null);
    const commits = new CommitQueue(async (batch) => {
      await this.writeBatch(store, target, batch);
      // The file list hears of finished files at once, not at the end of the run.
      this.changedSoon();
    }, options.writeBatchChunks);

    let toScan: string[] = params.scan === 'all' ? repo.sources().map((s) => s.id) : [...params.scan];
    const read = { filesDone: 0, filesTotal: 0, bytesDone: 0, bytesTotal: 0, chunks: 0 };
    try {
      for (;;) {
        for (const id of this.dirty) toScan.push(id);
        this.dirty.clear();
        // Files gone from disk are dropped after this round's reading, so a renamed file's chunks
        // can still lend their vectors to the file under its new name.
        const gone: DocumentRow[] = [];
        for (const sourceId of new Set(toScan)) {
          const goneHere = await scanForChanges(repo, sourceId, signal);
          if (goneHere === null) continue;
          this.changedSoon();
          gone.push(...goneHere);
        }
        toScan = [];
        const work = repo.pendingWork(target.key);
        read.filesTotal += work.length;
        read.bytesTotal += work.reduce((n, d) => n + d.sizeBytes, 0);
        progress.reading(read, null);
        for (const doc of work) {
          signal.throwIfAborted();
          progress.reading(read, doc.path);
          const from = readActiveIndex(repo)?.key;
          const processed = (from && from !== target.key ? await copyDocument(doc, from, processing) : null) ?? (await parseDocument(doc, processing));
          await commits.add(processed);
          read.filesDone++;
          read.bytesDone += doc.sizeBytes;
          read.chunks += processed.rows.length;
        }
        await commits.flush();
        if (gone.length > 0) {
          // Chunks go first, then the rows: a crash in between finds the files gone again next time.
          await this.deleteChunks(gone.map((d) => d.id));
          repo.removeDocuments(gone.map((d) => d.id));
          this.changedSoon();
        }
        progress.reading(read, null);
        await this.switchIfComplete(store, target, false);
        if (this.dirty.size > 0) continue;
        if (!embedding) break;
        const finished = await embedPending({
          store,
          embedder: this.deps.embedder,
          modelRow: embedding,
          target,
          countTokens,
          signal,
          onProgress: (done, total, path) => progress.embedding({ chunksDone: done, chunksTotal: total }, path),
          shouldYield: () => this.dirty.size > 0,
        });
        if (finished && this.dirty.size === 0) break;
      }
    } finally {
      // Stopped (pause, cancel) or failed: what was finished is committed all the same.
      await commits.flush().catch((error: unknown) => logger.error('could not commit the documents finished before indexing stopped', error));
    }
    await store.refreshIndexes(target.key);
    await this.switchIfComplete(store, target, true);
    progress.finished();
    // In the background, at indexing priority: the job is done, searches use the prior meanwhile.
    this.deps.afterIndexing?.().catch((error: unknown) => logger.warn('could not calibrate the search channels', error));
    logger.info(`indexing done: ${read.filesDone} files read, ${read.chunks} chunks`);
  }

  /** One LanceDB commit for the batch's chunks, then the SQLite rows in one transaction. */
  private async writeBatch(store: ChunkStore, target: TargetIndex, batch: Processed[]): Promise<void> {
    const key = target.key;
    await store.replaceDocuments(
      key,
      batch.map((p) => p.doc.id),
      batch.flatMap((p) => p.rows),
    );
    const active = readActiveIndex(this.deps.repo);
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
    if (!active) {
      // Nothing was searchable yet: the first finished documents are, from now on.
      writeActiveIndex(this.deps.repo, { key, modelId: target.modelId, modelName: target.modelName, dimension: target.dimension });
    }
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

  /**
   * Searches move to the target table once every document is in it: at once when the table in
   * use has no vectors to lose (none yet, or full text only), else only when every chunk has its
   * vector too (`embedded`). The old table goes.
   */
  private async switchIfComplete(store: ChunkStore, target: TargetIndex, embedded: boolean): Promise<void> {
    if (this.deps.repo.pendingWork(target.key).length > 0) return;
    const active = readActiveIndex(this.deps.repo);
    if (active?.key === target.key) return;
    if (active && hasVectors(active) && !(embedded && (await store.unembeddedCounts(target.key)).size === 0)) return;
    writeActiveIndex(this.deps.repo, { key: target.key, modelId: target.modelId, modelName: target.modelName, dimension: target.dimension });
    this.changedSoon();
    if (active) {
      this.deps.logger.info(`index switched from ${active.modelName || 'full text'} to ${target.modelName || 'full text'}; dropping the old table`);
      await store.dropTable(active.key);
    }
  }

  private changedSoon(): void {
    this.changedBursts.push();
  }
}

/** Without an embedding model, chunks are sized by this rough count (about four characters a token). */
function approximateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
