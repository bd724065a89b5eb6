import { resolve } from 'node:path';
import type { RetrievalMode, SearchHit, SearchMode } from '#contract/dto';
import { HearthError } from '../common/hearthError';
import type { ModelLibrary } from '../models/modelLibrary';
import type { ChunkStore, StoredChunk } from '../search/chunkStore';
import { CANDIDATE_POOL, hybridSearch } from '../search/hybridSearch';
import type { SearchFilter } from '../search/sqlFilter';
import type { LibraryRepository } from '../storage/libraryRepository';
import type { ModelRow } from '../storage/modelRepository';
import { hasVectors, readActiveIndex, type ActiveIndex } from './activeIndex';
import { calibrateChannels, calibrationCurrent, calibrationSchema, priorCalibration, PRIOR_SIMILARITY, type ChannelCalibration } from './channelCalibration';
import type { Embedder } from './embedder';
import { assertIndexPresent } from './indexHealth';
import type { LibraryOptions } from './libraryOptions';
import type { DocumentFormat } from './types';

export interface SearchInput {
  query: string;
  collectionIds?: string[];
  pathPrefix?: string;
  formats?: DocumentFormat[];
  limit?: number;
  mode?: SearchMode;
  rerank?: boolean;
}

export interface LibrarySearchDeps {
  repo: LibraryRepository;
  store: () => Promise<ChunkStore>;
  embedder: Embedder;
  models: ModelLibrary;
  options?: Partial<Pick<LibraryOptions, 'minSimilarity'>>;
}

const CALIBRATION_KEY = 'library.calibration';

/** How a passage ranked; a passage read by id (a citation) has no ranking. */
export interface HitScores {
  score: number;
  relevance: number;
  bm25Rank: number | null;
  vectorRank: number | null;
  similarity: number | null;
}

const UNRANKED: HitScores = { score: 0, relevance: 0, bm25Rank: null, vectorRank: null, similarity: null };

/** A stored chunk as the contract shows a passage. */
export function toSearchHit(row: StoredChunk, scores: HitScores = UNRANKED, mode: RetrievalMode | null = null): SearchHit {
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
    score: scores.score,
    relevance: scores.relevance,
    bm25Rank: scores.bm25Rank,
    vectorRank: scores.vectorRank,
    similarity: scores.similarity,
    rerankScore: null,
    mode,
  };
}

const RETRIEVAL: Record<SearchMode, RetrievalMode> = { hybrid: 'hybrid', bm25: 'full-text', vector: 'vector' };

/** Reads from the active index: hybrid search with optional reranking, passages by id, whole documents. */
export class LibrarySearch {
  private calibrating: Promise<ChannelCalibration> | null = null;

  constructor(private readonly deps: LibrarySearchDeps) {}

  async search(input: SearchInput, signal?: AbortSignal): Promise<SearchHit[]> {
    const active = readActiveIndex(this.deps.repo);
    if (!active) return [];
    const store = await this.deps.store();
    assertIndexPresent(this.deps.repo, store);
    let mode = input.mode ?? 'hybrid';
    // Full text only while the index has no vectors or its model is gone: the default mode says so
    // (each hit's mode); asking for vectors explicitly is an error then.
    const model = hasVectors(active) ? this.modelRow(active.modelId, mode !== 'vector') : null;
    if (!model && mode === 'hybrid') mode = 'bm25';
    if (!model && mode === 'vector') throw this.noModel();
    // Hybrid weighs the vector list by what it proved worth on this corpus; at weight 0 its
    // hits only follow the BM25 ones (they never displace one).
    const vectorWeight = model && mode === 'hybrid' ? (await this.calibration(active, store, model)).vectorWeight : 1;
    let vector: Float32Array | null = null;
    if (model && mode !== 'bm25') vector = (await this.deps.embedder.embed(model, [input.query], { signal, role: 'query' }))[0] ?? null;
    const filter: SearchFilter = {
      ...(input.collectionIds ? { collectionIds: input.collectionIds } : {}),
      ...(input.pathPrefix ? { pathPrefix: resolve(input.pathPrefix) } : {}),
      ...(input.formats ? { formats: input.formats } : {}),
    };
    const limit = input.limit ?? 10;
    const hits = await hybridSearch(store, active.key, {
      text: input.query,
      vector,
      limit: input.rerank ? Math.min(CANDIDATE_POOL, Math.max(limit * 3, 20)) : limit,
      filter,
      mode,
      vectorWeight,
    });
    let results: SearchHit[] = hits.map((hit) =>
      toSearchHit(
        hit.row,
        { score: hit.score, relevance: hit.relevance, bm25Rank: hit.bm25Rank, vectorRank: hit.vectorRank, similarity: hit.vectorSimilarity },
        RETRIEVAL[mode],
      ),
    );
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

  /**
   * The cosine from which a passage is relevant to a chat's question on similarity alone: the
   * library option when set, else the calibration of the active index; null when similarity
   * alone never counts (a channel that cannot tell related from unrelated passages).
   */
  async similarityThreshold(): Promise<number | null> {
    const configured = this.deps.options?.minSimilarity;
    if (configured !== undefined && configured !== null) return configured;
    const active = readActiveIndex(this.deps.repo);
    const model = active && hasVectors(active) ? this.modelRow(active.modelId, true) : null;
    if (!active || !model) return null;
    const store = await this.deps.store();
    assertIndexPresent(this.deps.repo, store);
    return (await this.calibration(active, store, model)).similarityThreshold;
  }

  /**
   * The active index's channel calibration, stored in SQLite. When it is missing or stale (the
   * index changed or grew), a measurement starts in the background, at indexing priority, and
   * until it ends searches use the last one for this index or the prior: a search never waits
   * for it. Indexing measures at its end (`calibrateActive`), so it is rarely missing.
   */
  async calibration(active: ActiveIndex, store: ChunkStore, model: ModelRow): Promise<ChannelCalibration> {
    const rows = this.deps.repo.totalChunks(active.key);
    const stored = this.storedCalibration();
    if (stored && calibrationCurrent(stored, active.key, rows)) return stored;
    this.measure(active, store, model).catch(() => undefined);
    return stored?.key === active.key ? stored : priorCalibration(active.key, rows, model.kind === 'embedding', PRIOR_SIMILARITY);
  }

  /** Measures the active index's channels now unless its stored calibration is current. */
  async calibrateActive(): Promise<void> {
    const active = readActiveIndex(this.deps.repo);
    const model = active && hasVectors(active) ? this.modelRow(active.modelId, true) : null;
    if (!active || !model) return;
    const store = await this.deps.store();
    const stored = this.storedCalibration();
    if (stored && calibrationCurrent(stored, active.key, this.deps.repo.totalChunks(active.key))) return;
    await this.measure(active, store, model);
  }

  private storedCalibration(): ChannelCalibration | null {
    return this.deps.repo.getState(CALIBRATION_KEY, calibrationSchema, 'the channels are measured again');
  }

  /** One measurement at a time; the embeddings queue behind searches and wait while chat writes. */
  private measure(active: ActiveIndex, store: ChunkStore, model: ModelRow): Promise<ChannelCalibration> {
    this.calibrating ??= (async () => {
      const measured = await calibrateChannels({
        store,
        key: active.key,
        embedQueries: (texts) => this.deps.embedder.embed(model, texts, { role: 'query', background: true, calibration: true }),
        dedicated: model.kind === 'embedding',
        fallbackThreshold: PRIOR_SIMILARITY,
      });
      this.deps.repo.setState(CALIBRATION_KEY, measured);
      return measured;
    })().finally(() => {
      this.calibrating = null;
    });
    return this.calibrating;
  }

  /** One chunk by id, for showing a citation's passage. */
  async chunk(chunkId: string): Promise<SearchHit> {
    const active = readActiveIndex(this.deps.repo);
    const store = await this.deps.store();
    assertIndexPresent(this.deps.repo, store);
    const [row] = active ? await store.getChunks(active.key, [chunkId]) : [];
    if (!row) throw new HearthError('NOT_FOUND', `No passage ${chunkId} in the index; the document may have changed since.`);
    return toSearchHit(row);
  }

  /** A whole document's text, in order, from its chunks (overlaps between pieces included). */
  async documentText(docId: string): Promise<{ text: string; tokenCount: number } | null> {
    const active = readActiveIndex(this.deps.repo);
    if (!active) return null;
    const store = await this.deps.store();
    assertIndexPresent(this.deps.repo, store);
    const rows = await store.docChunks(active.key, docId);
    if (rows.length === 0) return null;
    return { text: rows.map((r) => r.text).join('\n\n'), tokenCount: rows.reduce((n, r) => n + r.tokenCount, 0) };
  }

  /** How searches run now: 'hybrid' when the index has vectors and its model is at hand. */
  mode(): RetrievalMode {
    const active = readActiveIndex(this.deps.repo);
    return active && hasVectors(active) && this.modelRow(active.modelId, true) ? 'hybrid' : 'full-text';
  }

  /** The model the active index was built with; null (orMissing) when it is gone. */
  private modelRow(modelId: string, orMissing: boolean): ModelRow | null {
    const current = this.deps.models.embeddingModel();
    if (current?.id === modelId) return current;
    try {
      return this.deps.models.get(modelId);
    } catch {
      if (orMissing) return null;
      throw this.noModel();
    }
  }

  private noModel(): HearthError {
    return new HearthError(
      'EMBEDDING_MODEL_MISSING',
      'The index has no vectors to search: its embedding model is gone or none was set. Set an embedding model as the default and the documents will be embedded; full-text search works meanwhile.',
    );
  }
}
