import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A BEIR data set (corpus, queries, qrels) and the standard metrics over document rankings. */

export interface BeirDoc {
  id: string;
  title: string;
  text: string;
}

export interface BeirSet {
  corpus: BeirDoc[];
  queries: { id: string; text: string }[];
  /** query id -> relevant doc ids (binary relevance: score > 0). */
  qrels: Map<string, Set<string>>;
}

export function loadBeir(dir: string, split = 'train'): BeirSet {
  const jsonl = (file: string) =>
    readFileSync(join(dir, file), 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
  const corpus = jsonl('corpus.jsonl').map((d) => ({ id: String(d._id), title: String(d.title ?? ''), text: String(d.text ?? '') }));
  const qrels = new Map<string, Set<string>>();
  const lines = readFileSync(join(dir, 'qrels', `${split}.tsv`), 'utf8').split('\n').slice(1);
  for (const line of lines) {
    const [q, d, score] = line.trim().split('\t');
    if (!q || !d || Number(score) <= 0) continue;
    if (!qrels.has(q)) qrels.set(q, new Set());
    qrels.get(q)!.add(d);
  }
  const queries = jsonl('queries.jsonl')
    .map((q) => ({ id: String(q._id), text: String(q.text) }))
    .filter((q) => qrels.has(q.id));
  return { corpus, queries, qrels };
}

/** Document ids in order of their best-ranked chunk (a document counts once). */
export function docRanking(chunkDocIds: readonly string[]): string[] {
  return [...new Set(chunkDocIds)];
}

/** nDCG@k with binary relevance (BEIR's definition). */
export function ndcgAt(ranking: readonly string[], relevant: ReadonlySet<string>, k = 10): number {
  let dcg = 0;
  ranking.slice(0, k).forEach((id, i) => {
    if (relevant.has(id)) dcg += 1 / Math.log2(i + 2);
  });
  let ideal = 0;
  for (let i = 0; i < Math.min(k, relevant.size); i++) ideal += 1 / Math.log2(i + 2);
  return ideal > 0 ? dcg / ideal : 0;
}

export function recallAt(ranking: readonly string[], relevant: ReadonlySet<string>, k = 100): number {
  if (relevant.size === 0) return 0;
  return ranking.slice(0, k).filter((id) => relevant.has(id)).length / relevant.size;
}

export const mean = (values: readonly number[]): number => (values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length);
