import { HearthError } from '../common/hearthError';
import type { PassageScore } from './chunkArrow';
import type { ChunkStore } from './chunkStore';

/**
 * Document-aware passage scoring for the full-text channel. The query is its distinct words
 * (a word repeated in a question counts once, in the passage score as in the document score).
 * BM25 scores each passage alone, so a
 * document whose query words are spread over several passages (short passages, as a tokenizer
 * with a small vocabulary makes them) ranks below one that holds them in one passage, though
 * whole-document BM25 would rank it higher. So each candidate document also gets a document
 * score: every query word scored by the document's best passage for that word, summed (a
 * word counts once per document, as in whole-document BM25, and a document that covers the
 * query across passages gets credit for all of it). Each document's best passage is then
 * ranked by its own BM25 plus `weight` × its document's score (passage and document score
 * interpolated, as in passage retrieval). The document's other passages keep their own score,
 * so the best passage stays first among them (what a chat cites) and one document's many
 * passages do not fill the top of the list.
 *
 * The candidates are the fixed full-text pool (its documents only), so the top 10 never depends
 * on the requested limit. The weight was tuned on SciFact's train split (BENCHMARKS.md,
 * eval:retrieval): dev numbers.
 */
export const DOCUMENT_EVIDENCE_WEIGHT = 1;
/** Passages read per query word (the best-scoring ones among the pool's documents). */
export const WORD_HITS = 1000;
/** Query words scored one by one for the document score; words past these count in the passage score only. */
export const MAX_WORDS = 32;

/** The query's distinct words, lowercased, split as the full-text index splits text (stemming and stop words are the index's). */
export function queryWords(text: string): string[] {
  return [...new Set(text.toLowerCase().split(/[^\p{L}\p{N}]+/u).filter((word) => word !== ''))];
}

/** Each document's score: per query word, its best passage's BM25 for that word, summed. */
export async function documentScores(store: ChunkStore, table: string, words: readonly string[], docIds: readonly string[]): Promise<Map<string, number>> {
  const scores = new Map<string, number>();
  if (docIds.length === 0) return scores;
  const perWord = await Promise.all(words.slice(0, MAX_WORDS).map((word) => store.rankTextPassages(table, word, { limit: WORD_HITS, filter: { docIds } })));
  for (const hits of perWord) {
    const best = new Map<string, number>();
    for (const hit of hits) best.set(hit.docId, Math.max(best.get(hit.docId) ?? 0, hit.score));
    for (const [docId, score] of best) scores.set(docId, (scores.get(docId) ?? 0) + score);
  }
  return scores;
}

/**
 * The pool re-ranked with document evidence, best first (ties keep the pool's order): each
 * document's best passage scores its own BM25 plus `weight` × the document's score (never
 * less than the passage's own: a document holds at least its best passage); every other
 * passage keeps its own.
 */
export function withDocumentEvidence<T extends PassageScore>(
  pool: readonly T[],
  documentScores: ReadonlyMap<string, number>,
  weight = DOCUMENT_EVIDENCE_WEIGHT,
): (T & { passageScore: number })[] {
  if (!Number.isFinite(weight) || weight < 0) throw new HearthError('BAD_INPUT', `documentWeight must be a non-negative number, got ${weight}`);
  const best = new Map<string, T>();
  for (const hit of pool) {
    const current = best.get(hit.docId);
    if (!current || hit.score > current.score) best.set(hit.docId, hit);
  }
  const rescored = pool.map((hit, position) => {
    const score = best.get(hit.docId) === hit ? hit.score + weight * Math.max(hit.score, documentScores.get(hit.docId) ?? 0) : hit.score;
    return { hit: { ...hit, score, passageScore: hit.score }, position };
  });
  return rescored.sort((a, b) => b.hit.score - a.hit.score || a.position - b.position).map(({ hit }) => hit);
}
