import type { SearchMode } from '#contract/vocabulary';
import { HearthError } from '../common/hearthError';
import type { ChunkScore, ChunkStore, PassageScore, StoredChunk } from './chunkStore';
import { DOCUMENT_EVIDENCE_WEIGHT, documentScores, queryWords, withDocumentEvidence } from './documentEvidence';
import type { SearchFilter } from './sqlFilter';

export interface FusedItem {
  id: string;
  /** Σ weight / (k + rank) over the lists the id appears in. */
  score: number;
  /** 1-based rank in each input list, null where the id is absent; same order as the lists. */
  ranks: (number | null)[];
}

/**
 * Reciprocal rank fusion (Cormack et al., 2009): each list contributes weight / (k + rank) for
 * every id it ranks, ranks 1-based, weights 1 unless given; an id repeated within one list counts
 * at its best rank only. A list with weight 0 still reports its ranks but adds nothing.
 * Sorted by fused score; ties go to the id with the better best rank, then to the one ranked by
 * an earlier list, then by id, so the output never depends on Map or sort internals.
 */
export function reciprocalRankFusion(lists: readonly (readonly string[])[], k = 60, weights: readonly number[] = []): FusedItem[] {
  if (!Number.isFinite(k) || k < 0) throw new HearthError('BAD_INPUT', `RRF k must be a non-negative number, got ${k}`);
  for (const weight of weights) {
    if (!Number.isFinite(weight) || weight < 0) throw new HearthError('BAD_INPUT', `RRF weights must be non-negative numbers, got ${weight}`);
  }
  const items = new Map<string, FusedItem>();
  lists.forEach((list, listIndex) => {
    list.forEach((id, position) => {
      let item = items.get(id);
      if (!item) {
        item = { id, score: 0, ranks: lists.map(() => null) };
        items.set(id, item);
      }
      if (item.ranks[listIndex] !== null) return;
      const rank = position + 1;
      item.ranks[listIndex] = rank;
      item.score += (weights[listIndex] ?? 1) / (k + rank);
    });
  });
  const bestRank = (item: FusedItem) => Math.min(...item.ranks.map((rank) => rank ?? Infinity));
  const firstList = (item: FusedItem) => item.ranks.findIndex((rank) => rank !== null);
  return [...items.values()].sort(
    (a, b) => b.score - a.score || bestRank(a) - bestRank(b) || firstList(a) - firstList(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
  );
}

export interface HybridQuery {
  text: string;
  /**
   * The query's embedding, from the table's model. Required for 'vector', and for 'hybrid'
   * unless the vector weight is 0 (then, when given, its hits follow the BM25 ones).
   */
  vector: Float32Array | null;
  limit: number;
  filter?: SearchFilter;
  mode: SearchMode;
  /**
   * How many hits each retriever contributes before fusion; default `CANDIDATE_POOL`. Fixed, not
   * derived from `limit`: a pool that grew with the limit reordered the top 10 when more results
   * were asked for. Must be at least `limit`.
   */
  candidates?: number;
  /** RRF constant; default 60. */
  k?: number;
  /**
   * The vector list's weight in hybrid fusion, BM25's being 1; default 1. At 0 the vector list
   * cannot move a BM25 hit: its other hits only fill the places after them (score 0), so a
   * search still returns something when no word matches. It comes from evidence: see
   * library/channelCalibration.ts.
   */
  vectorWeight?: number;
  /**
   * How much its document's score lifts each document's best passage in the full-text list
   * (documentEvidence.ts); default `DOCUMENT_EVIDENCE_WEIGHT`, 0 ranks passages alone.
   */
  documentWeight?: number;
}

export interface HybridHit {
  row: StoredChunk;
  /** The weighted RRF score. In 'bm25' and 'vector' mode it is the same formula over one list, so scores compare across modes. */
  score: number;
  /**
   * The score as a share of the best a passage could get in this search (first in every list
   * that counts): 1 for the top of every list, toward 0 further down. For people, not fusion.
   */
  relevance: number;
  /** Rank in the full-text list, ranked with document evidence (documentEvidence.ts). */
  bm25Rank: number | null;
  vectorRank: number | null;
  /** The passage's own BM25 score. */
  bm25Score: number | null;
  /** Cosine similarity (1 - cosine distance). */
  vectorSimilarity: number | null;
}

/** Hits per channel before fusion: the most a search may ask for (the contract caps limit at 100). */
export const CANDIDATE_POOL = 100;
export const RRF_K = 60;

/**
 * BM25 and vector retrieval run side by side on one table, fused here with weighted RRF, so the
 * fusion is plain code with its inputs visible in every hit. No silent fallback: 'hybrid' with a
 * vector weight above 0 and no query vector is an error, and the caller picks 'bm25' (and says so)
 * when no embedding is available.
 */
export async function hybridSearch(store: ChunkStore, table: string, query: HybridQuery): Promise<HybridHit[]> {
  const { limit, mode } = query;
  if (!Number.isInteger(limit) || limit < 1) throw new HearthError('BAD_INPUT', `Search limit must be a positive integer, got ${limit}`);
  const candidates = query.candidates ?? Math.max(CANDIDATE_POOL, limit);
  if (!Number.isInteger(candidates) || candidates < limit) {
    throw new HearthError('BAD_INPUT', `candidates must be an integer no smaller than limit (${limit}), got ${candidates}`);
  }
  const k = query.k ?? RRF_K;
  const vectorWeight = mode === 'hybrid' ? (query.vectorWeight ?? 1) : 1;
  if (!Number.isFinite(vectorWeight) || vectorWeight < 0) throw new HearthError('BAD_INPUT', `vectorWeight must be a non-negative number, got ${vectorWeight}`);
  const useText = mode === 'hybrid' || mode === 'bm25';
  const useVector = mode === 'vector' || (mode === 'hybrid' && (vectorWeight > 0 || query.vector !== null));
  if (useVector && !query.vector) throw new HearthError('BAD_INPUT', `'${mode}' search needs a query vector; use 'bm25' without one`);

  // Ranks first (ids and scores only), rows only for the hits that survive fusion: fetching the
  // rows of every candidate cost more than both searches together (bench/search.ts).
  const options = { limit: candidates, filter: query.filter };
  const [textRanks, vectorRanks] = await Promise.all([
    useText ? rankPassages(store, table, query.text, options, query.documentWeight ?? DOCUMENT_EVIDENCE_WEIGHT) : Promise.resolve([]),
    useVector && query.vector ? store.rankVector(table, query.vector, options) : Promise.resolve<ChunkScore[]>([]),
  ]);
  const weights = [1, vectorWeight];
  const fused = reciprocalRankFusion(
    [textRanks.map((hit) => hit.id), vectorRanks.map((hit) => hit.id)],
    k,
    weights,
  ).slice(0, limit);
  if (fused.length === 0) return [];
  const best = ((useText ? weights[0]! : 0) + (useVector ? weights[1]! : 0)) / (k + 1);

  const bm25Scores = new Map(textRanks.map((hit) => [hit.id, hit.passageScore]));
  const similarities = new Map(vectorRanks.map((hit) => [hit.id, hit.score]));
  // A row deleted between ranking and this read is dropped rather than returned stale.
  const rows = new Map((await store.getChunks(table, fused.map((item) => item.id))).map((row) => [row.id, row]));
  return fused.flatMap((item) => {
    const row = rows.get(item.id);
    if (!row) return [];
    return [
      {
        row,
        score: item.score,
        relevance: best > 0 ? Math.min(1, item.score / best) : 0,
        bm25Rank: item.ranks[0] ?? null,
        vectorRank: item.ranks[1] ?? null,
        bm25Score: bm25Scores.get(item.id) ?? null,
        vectorSimilarity: similarities.get(item.id) ?? null,
      },
    ];
  });
}

/**
 * The full-text pool for the query's distinct words, each document's best passage lifted by its
 * document's score (documentEvidence.ts); at weight 0, passages ranked alone for the query as typed.
 */
async function rankPassages(store: ChunkStore, table: string, text: string, options: { limit: number; filter?: SearchFilter }, weight: number) {
  if (!Number.isFinite(weight) || weight < 0) throw new HearthError('BAD_INPUT', `documentWeight must be a non-negative number, got ${weight}`);
  if (weight === 0) return withDocumentEvidence(await store.rankTextPassages(table, text, options), new Map(), 0);
  const words = queryWords(text);
  const pool: PassageScore[] = await store.rankTextPassages(table, words.join(' '), options);
  // The pool's documents passed the filter, and filters select whole documents: no filter needed here.
  const scores = await documentScores(store, table, words, [...new Set(pool.map((hit) => hit.docId))]);
  return withDocumentEvidence(pool, scores, weight);
}
