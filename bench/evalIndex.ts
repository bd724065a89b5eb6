import { createHash } from 'node:crypto';
import { chunkDocument } from '../src-main/core/library/chunker';
import { DEFAULT_LIBRARY_OPTIONS } from '../src-main/core/library/libraryOptions';
import type { ChunkRow, ChunkStore } from '../src-main/core/search/chunkStore';
import type { BeirSet } from './evalData';

/** eval:retrieval's corpus and index: the subset it evaluates and the chunk table it builds once and caches. */

/** The first `queries` queries and a corpus of their judged documents topped up to `docs` (all when null). */
export function subset(full: BeirSet, queries: number | null, docs: number | null): BeirSet {
  const chosen = queries === null ? full.queries : full.queries.slice(0, queries);
  if (docs === null) return { ...full, queries: chosen };
  const judged = new Set(chosen.flatMap((q) => [...full.qrels.get(q.id)!]));
  const hash = (id: string) => createHash('sha1').update(id).digest('hex');
  const others = full.corpus.filter((d) => !judged.has(d.id)).sort((a, b) => (hash(a.id) < hash(b.id) ? -1 : 1));
  const keep = new Set([...judged, ...others.slice(0, Math.max(0, docs - judged.size)).map((d) => d.id)]);
  return { ...full, queries: chosen, corpus: full.corpus.filter((d) => keep.has(d.id)) };
}

export interface IndexBuild {
  store: ChunkStore;
  table: string;
  beir: BeirSet;
  /** The table's model, as `ChunkStore.ensureTable` records it. */
  model: { id: string; name: string; dimension: number; contextSize: number };
  countTokens: (text: string) => number;
  /** Embeds document passages with the model's rules; null builds a full-text-only index (every vector null, as before an embedding model arrives). */
  embedDocuments: ((texts: string[]) => Promise<Float32Array[]>) | null;
  log: (line: string) => void;
}

/** Chunks (and embeds, unless full text only) the corpus the way an indexing job does, as .txt files named by id. */
export async function buildIndex({ store, table, beir, model, countTokens, embedDocuments, log }: IndexBuild): Promise<number> {
  await store.ensureTable(table, { dimension: model.dimension, modelId: model.id, modelName: model.name });
  const maxTokens = Math.max(32, Math.min(DEFAULT_LIBRARY_OPTIONS.chunkTokens, model.contextSize - 64));
  const options = { maxTokens, overlapTokens: Math.min(DEFAULT_LIBRARY_OPTIONS.overlapTokens, Math.floor(maxTokens / 4)), countTokens };
  let total = 0;
  const BATCH = 250;
  for (let start = 0; start < beir.corpus.length; start += BATCH) {
    const docs = beir.corpus.slice(start, start + BATCH);
    const planned = docs.flatMap((doc) =>
      chunkDocument({ format: 'text', title: doc.title, blocks: [{ kind: 'paragraph', text: doc.text }], warnings: [] }, options).map((chunk) => ({ doc, chunk })),
    );
    const vectors = embedDocuments ? await embedDocuments(planned.map(({ doc, chunk }) => `${doc.title}\n\n${chunk.text}`)) : null;
    const rows: ChunkRow[] = planned.map(({ doc, chunk }, i) => ({
      id: `${doc.id}:${chunk.ordinal}`,
      docId: doc.id,
      sourceId: 'scifact',
      collectionId: 'scifact',
      path: `/eval/scifact/${doc.id}.txt`,
      format: 'text',
      title: doc.title,
      heading: chunk.headingPath.join(' › '),
      ordinal: chunk.ordinal,
      pageStart: null,
      pageEnd: null,
      lineStart: null,
      lineEnd: null,
      text: chunk.text,
      textHash: createHash('sha256').update(`${doc.title}\n\n${chunk.text}`).digest('hex'),
      tokenCount: chunk.tokenCount,
      vector: vectors ? vectors[i]! : null,
    }));
    await store.replaceDocuments(table, docs.map((d) => d.id), rows);
    total += rows.length;
    log(`${model.name}: ${start + docs.length}/${beir.corpus.length} documents, ${total} chunks${embedDocuments ? '' : ' (full text only)'}`);
  }
  await store.refreshIndexes(table);
  return total;
}
