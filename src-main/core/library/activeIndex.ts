import { z } from 'zod';
import type { EmbeddingIndexInfo } from '#contract/dto';
import type { ChunkStore } from '../search/chunkStore';
import type { LibraryRepository } from '../storage/libraryRepository';
import type { ModelRow } from '../storage/modelRepository';
import { embeddingRules, rulesFingerprint } from './embeddingRules';

/** The LanceDB table searches use now, with the model it was built with. */
export interface ActiveIndex extends EmbeddingIndexInfo {
  key: string;
}

/** The index a job writes to, with the model's input limit. */
export interface TargetIndex extends ActiveIndex {
  contextSize: number;
}

const ACTIVE_INDEX_KEY = 'library.activeIndex';
const activeIndexSchema = z.object({ key: z.string(), modelId: z.string(), modelName: z.string(), dimension: z.number().int().positive() }) satisfies z.ZodType<ActiveIndex>;

export function readActiveIndex(repo: LibraryRepository): ActiveIndex | null {
  return repo.getState(ACTIVE_INDEX_KEY, activeIndexSchema, 'searches find nothing until the next indexing run records the index again');
}

export function writeActiveIndex(repo: LibraryRepository, index: ActiveIndex): void {
  repo.setState(ACTIVE_INDEX_KEY, index);
}

/**
 * Without an embedding model, documents go to this table: full-text search only. Its vector
 * column (one slot, never filled) keeps it the same shape as every model's table.
 */
export const FULL_TEXT_KEY = 'chunks_fulltext_s2';

/** The full-text-only table as an index: no model (modelId ''). */
export function fullTextIndex(contextSize: number): TargetIndex {
  return { key: FULL_TEXT_KEY, modelId: '', modelName: '', dimension: 1, contextSize };
}

/** Whether searches on this index can use vectors (it was built for an embedding model). */
export function hasVectors(index: ActiveIndex): boolean {
  return index.modelId !== '';
}

/**
 * The LanceDB table for a model, its dimension and its embedding rules (embeddingRules.ts):
 * switching models, or to a model with other prefixes, means a new table. The `s2` names the
 * chunk schema with `search_text`; tables from before it keep being searched until the next
 * indexing run has rebuilt them.
 */
export function indexKey(modelId: string, dimension: number, rulesFingerprint = 'plain'): string {
  const rules = rulesFingerprint === 'plain' ? '' : `_${rulesFingerprint}`;
  return `chunks_${modelId.toLowerCase().replace(/[^a-z0-9]+/g, '_')}_${dimension}_s2${rules}`;
}

/** Whether the active index was built with this model under today's schema and rules (else it is rebuilt). */
export function activeIndexFits(active: ActiveIndex | null, model: ModelRow): boolean {
  return active !== null && active.modelId === model.id && active.key === indexKey(model.id, active.dimension, rulesFingerprint(embeddingRules(model)));
}

/** Deletes the documents' chunks from every table (the active one and any being built). */
export async function deleteChunksEverywhere(store: ChunkStore, docIds: readonly string[]): Promise<void> {
  if (docIds.length === 0) return;
  for (const table of await store.listTables()) await store.deleteDocuments(table, docIds);
}
