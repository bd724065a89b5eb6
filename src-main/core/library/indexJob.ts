import { z } from 'zod';
import type { EmbeddingIndexInfo, IndexStatus, JobInfo } from '#contract/dto';
import { JOB_KIND } from '#contract/vocabulary';
import { Throttler } from '../common/async';
import { HearthError } from '../common/hearthError';
import type { Logger } from '../common/logger';
import type { JobContext, JobManager } from '../jobs/jobManager';
import type { ModelLibrary } from '../models/modelLibrary';
import type { ChunkStore } from '../search/chunkStore';
import type { DocumentRow, LibraryRepository } from '../storage/libraryRepository';
import { deleteChunksEverywhere, indexKey, readActiveIndex, writeActiveIndex, type TargetIndex } from './activeIndex';
import type { Embedder } from './embedder';
import { indexMissingError, missingActiveIndex } from './indexHealth';
import { processDocument, scanForChanges, type Processed } from './indexDocument';
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
  onChanged: (collectionId: string | null) => void;
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
    if (readActiveIndex(this.deps.repo)?.modelId === target.id) return null;
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
    if (!targetRow) {
      blocker = {
        code: 'EMBEDDING_MODEL_MISSING',
        message: 'No embedding model yet: download one from the catalog (Models → Discover, purpose "embedding") or set a model as the default for embeddings, so documents can be indexed.',
      };
    } else if (store && missing && !this.currentJob()) {
      // Once the rebuild job runs it is the status to show, not a blocker.
      blocker = indexMissingError(store).toData();
    }
    if (targetRow && active?.modelId === targetRow.id) {
      target = { modelId: active.modelId, modelName: active.modelName, dimension: active.dimension };
    } else if (targetRow) {
      target = { modelId: targetRow.id, modelName: targetRow.name, dimension: 0 };
    }
    return {
      active: active && { modelId: active.modelId, modelName: active.modelName, dimension: active.dimension },
      target,
      blocker,
      documents: this.deps.repo.counts(),
      chunks: active && !missing ? this.deps.repo.totalChunks(active.key) : 0,
      watching: this.deps.watching(),
      job: this.currentJob(),
    };
  }

  /** Deletes these documents' chunks from every table. */
  async deleteChunks(docIds: string[]): Promise<void> {
    if (docIds.length === 0) return;
    await deleteChunksEverywhere(await this.deps.store(), docIds);
  }

  private async run(params: IndexJobParams, context: JobContext<null>): Promise<void> {
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
    const { parser, embedder, options } = this.deps;
    const processing = { parser, embedder, options, modelRow, target, countTokens, store, signal: context.signal };

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
      for (const sourceId of new Set(toScan)) {
        const goneHere = await scanForChanges(repo, sourceId, context.signal);
        if (goneHere === null) continue;
        this.changedSoon();
        gone.push(...goneHere);
      }
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
        this.changedSoon();
        batch = [];
        batchChunks = 0;
      };
      for (const doc of work) {
        context.signal.throwIfAborted();
        report(doc.path);
        const onEmbedding = (embedded: number, of: number) => report(doc.path, embedded / of, ` (embedding ${embedded}/${of})`);
        const processed = await processDocument(doc, processing, onEmbedding);
        batch.push(processed);
        batchChunks += processed.rows.length;
        filesDone++;
        chunksDone += processed.rows.length;
        if (batchChunks >= this.deps.options.writeBatchChunks) await flush();
      }
      await flush();
      if (gone.length > 0) {
        // Chunks go first, then the rows: a crash in between finds the files gone again next time.
        await this.deleteChunks(gone.map((d) => d.id));
        repo.removeDocuments(gone.map((d) => d.id));
        this.changedSoon();
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

  /** One LanceDB commit for the batch's chunks, then the SQLite rows in one transaction. */
  private async writeBatch(store: ChunkStore, key: string, batch: Processed[]): Promise<void> {
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
    const active = readActiveIndex(this.deps.repo);
    if (active?.key === target.key) return;
    writeActiveIndex(this.deps.repo, { key: target.key, modelId: target.modelId, modelName: target.modelName, dimension: target.dimension });
    if (active) {
      this.deps.logger.info(`index switched from ${active.modelName} to ${target.modelName}; dropping the old table`);
      await store.dropTable(active.key);
    }
  }

  private changedSoon(): void {
    this.changedBursts.push();
  }
}

function formatEta(seconds: number): string {
  if (seconds < 60) return `${Math.max(1, Math.round(seconds))} s`;
  const minutes = Math.floor(seconds / 60);
  return minutes < 60 ? `${minutes} min ${Math.round(seconds % 60)} s` : `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}
