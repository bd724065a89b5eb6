import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ChunkStore } from '../search/chunkStore';
import { CANDIDATE_POOL, reciprocalRankFusion, RRF_K } from '../search/hybridSearch';

/**
 * How much the vector channel is worth on *this* corpus with *this* embedding model, measured
 * rather than assumed. A sample of the user's own passages is drawn; one sentence of each is a
 * pseudo-query; each channel is asked to find the passage it came from. From the ranks:
 *
 * - the vector weight in fusion: the weight (from a small grid) whose fused ranking finds the
 *   sources best; among those within sampling noise of the best, the one nearest the prior (1
 *   for a dedicated embedding model, 0 for a generative model pressed into service), so a weak
 *   channel is switched off and a good one is not talked down by noise (a sentence of the
 *   passage itself is an easy query for BM25, so the sample favours it);
 * - the cosine from which a passage counts as relevant for a chat on similarity alone: above
 *   what 95 % of unrelated passages reach with this model (its cosines may all be high), or
 *   never when the channel is off or its true pairs do not clear that bar.
 *
 * Stored per index (the key names the model, dimension and embedding rules) with the row count
 * it was measured at, and measured again when the index changes or grows or shrinks by a third.
 */
export interface ChannelCalibration {
  key: string;
  /** Rows in the table when measured. */
  rows: number;
  samples: number;
  /** Mean reciprocal rank (@10) of the source passage per channel and fused at the chosen weight. */
  bm25Mrr: number;
  vectorMrr: number;
  fusedMrr: number;
  /** The vector list's weight in RRF (BM25's is 1); 0 switches the channel off. */
  vectorWeight: number;
  /** Cosine from which a passage is relevant on similarity alone; null: never. */
  similarityThreshold: number | null;
  /** 'measured' on the corpus, or 'prior' when it had too few passages to measure. */
  basis: 'measured' | 'prior';
}

export const calibrationSchema = z.object({
  key: z.string(),
  rows: z.number().int().nonnegative(),
  samples: z.number().int().nonnegative(),
  bm25Mrr: z.number(),
  vectorMrr: z.number(),
  fusedMrr: z.number(),
  vectorWeight: z.number().nonnegative(),
  similarityThreshold: z.number().nullable(),
  basis: z.enum(['measured', 'prior']),
}) satisfies z.ZodType<ChannelCalibration>;

/** The similarity bar a dedicated embedding model gets before there is evidence (a common cosine cut for such models). */
export const PRIOR_SIMILARITY = 0.6;
/** Passages sampled; enough to tell a useful channel from noise, cheap with any model (one embedding each). */
export const CALIBRATION_SAMPLES = 40;
/** Below this many passages there is nothing to measure: the prior decides. */
export const MIN_CALIBRATION_ROWS = 12;
export const WEIGHT_GRID = [0, 0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1] as const;
/** Fused MRR this close to the best always counts as as good. */
const TOLERANCE = 0.01;

export interface CalibrationInput {
  store: ChunkStore;
  key: string;
  /** Embeds pseudo-queries as queries (with the model's query prefix). */
  embedQueries: (texts: string[]) => Promise<Float32Array[]>;
  /** Whether the model is a dedicated embedding model (the prior when evidence is thin or split). */
  dedicated: boolean;
  /** The similarity bar to use without evidence (the library setting). */
  fallbackThreshold: number;
}

export function priorCalibration(key: string, rows: number, dedicated: boolean, fallbackThreshold: number): ChannelCalibration {
  return {
    key,
    rows,
    samples: 0,
    bm25Mrr: 0,
    vectorMrr: 0,
    fusedMrr: 0,
    vectorWeight: dedicated ? 1 : 0.25,
    similarityThreshold: dedicated ? fallbackThreshold : null,
    basis: 'prior',
  };
}

/** Whether a stored calibration still describes the index (same table, size within a third). */
export function calibrationCurrent(calibration: ChannelCalibration | null, key: string, rows: number): boolean {
  if (!calibration || calibration.key !== key) return false;
  if (calibration.basis === 'prior') return rows < MIN_CALIBRATION_ROWS && calibration.rows === rows;
  return rows >= calibration.rows * (2 / 3) && rows <= calibration.rows * (4 / 3);
}

export async function calibrateChannels(input: CalibrationInput): Promise<ChannelCalibration> {
  const { store, key, dedicated } = input;
  const ids = await store.chunkIds(key);
  if (ids.length < MIN_CALIBRATION_ROWS) return priorCalibration(key, ids.length, dedicated, input.fallbackThreshold);
  // A deterministic spread over the table: ids ordered by their hash.
  const sampleIds = ids
    .map((id) => [createHash('sha1').update(id).digest('hex'), id] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .slice(0, CALIBRATION_SAMPLES)
    .map(([, id]) => id);
  const rows = (await store.getChunks(key, sampleIds)).map((row) => ({ row, query: pseudoQuery(row.text) })).filter((s) => s.query !== null);
  if (rows.length < MIN_CALIBRATION_ROWS) return priorCalibration(key, ids.length, dedicated, input.fallbackThreshold);
  const queries = rows.map((s) => s.query!);
  const queryVectors = await input.embedQueries(queries);
  const passageVectors = await store.vectorsByTextHash(key, rows.map((s) => s.row.textHash));

  const options = { limit: CANDIDATE_POOL };
  const lists: { text: string[]; vector: string[] }[] = [];
  for (const [i, query] of queries.entries()) {
    const [text, vector] = await Promise.all([store.rankText(key, query, options), store.rankVector(key, queryVectors[i]!, options)]);
    lists.push({ text: text.map((h) => h.id), vector: vector.map((h) => h.id) });
  }
  /** Reciprocal rank (@10) of each sample's source passage. */
  const reciprocal = (rank: (i: number) => number | null) =>
    rows.map((_, i) => {
      const r = rank(i);
      return r !== null && r <= 10 ? 1 / r : 0;
    });
  const rankIn = (list: string[], id: string) => {
    const at = list.indexOf(id);
    return at < 0 ? null : at + 1;
  };
  const bm25Mrr = mean(reciprocal((i) => rankIn(lists[i]!.text, rows[i]!.row.id)));
  const vectorMrr = mean(reciprocal((i) => rankIn(lists[i]!.vector, rows[i]!.row.id)));
  const scores = WEIGHT_GRID.map((weight) => ({
    weight,
    ranks: reciprocal((i) => {
      const fused = reciprocalRankFusion([lists[i]!.text, lists[i]!.vector], RRF_K, [1, weight]);
      const at = fused.findIndex((item) => item.id === rows[i]!.row.id);
      return at < 0 ? null : at + 1;
    }),
  }));
  const best = scores.reduce((a, b) => (mean(b.ranks) > mean(a.ranks) ? b : a));
  // A weight counts as good as the best unless it is worse by more than sampling noise: two
  // standard errors of the paired difference, at least TOLERANCE. Among those, the prior's
  // side wins, so thin evidence never moves a channel away from what the model is for.
  const prior = dedicated ? 1 : 0;
  const chosen = scores
    .filter((s) => mean(best.ranks) - mean(s.ranks) <= Math.max(TOLERANCE, 2 * pairedStandardError(best.ranks, s.ranks)))
    .sort((a, b) => Math.abs(a.weight - prior) - Math.abs(b.weight - prior))[0]!;

  return {
    key,
    rows: ids.length,
    samples: rows.length,
    bm25Mrr,
    vectorMrr,
    fusedMrr: mean(chosen.ranks),
    vectorWeight: chosen.weight,
    similarityThreshold: chosen.weight === 0 ? null : similarityBar(queryVectors, rows.map((s) => passageVectors.get(s.row.textHash) ?? null)),
    basis: 'measured',
  };
}

/**
 * The cosine from which similarity alone says "relevant": the 95th percentile of a query's
 * similarity to the *other* sampled passages, provided most true pairs (query, its source) clear
 * it; null when they do not (the model cannot tell related from unrelated).
 */
function similarityBar(queries: Float32Array[], passages: (Float32Array | null)[]): number | null {
  const noise: number[] = [];
  const pairs: number[] = [];
  queries.forEach((q, i) => {
    passages.forEach((p, j) => {
      if (!p) return;
      (i === j ? pairs : noise).push(dot(q, p));
    });
  });
  if (pairs.length === 0 || noise.length === 0) return null;
  const bar = quantile(noise, 0.95);
  return quantile(pairs, 0.5) > bar ? bar : null;
}

/**
 * A sentence of the passage to search with: the middle one of those with 6 to 40 words, or the
 * passage's first 20 words when it has no such sentence; null for a passage under 6 words.
 */
export function pseudoQuery(text: string): string | null {
  const sentences = text
    .split(/(?<=[.!?])\s+|\n+/u)
    .map((s) => s.trim())
    .filter((s) => {
      const n = s.split(/\s+/u).length;
      return n >= 6 && n <= 40;
    });
  if (sentences.length > 0) return sentences[Math.floor(sentences.length / 2)]!;
  const words = text.split(/\s+/u).filter(Boolean);
  return words.length >= 6 ? words.slice(0, 20).join(' ') : null;
}

const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);

function pairedStandardError(a: readonly number[], b: readonly number[]): number {
  const diffs = a.map((x, i) => x - b[i]!);
  const m = mean(diffs);
  const variance = diffs.reduce((sum, d) => sum + (d - m) ** 2, 0) / Math.max(1, diffs.length - 1);
  return Math.sqrt(variance / Math.max(1, diffs.length));
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length && i < b.length; i++) sum += a[i]! * b[i]!;
  return sum;
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
