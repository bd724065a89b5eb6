import type { ChunkStore, StoredChunk } from '../search/chunkStore';
import type { ModelRow } from '../storage/modelRepository';
import type { TargetIndex } from './activeIndex';
import type { Embedder } from './embedder';
import { embeddingInput } from './indexDocument';

export interface EmbedPendingContext {
  store: ChunkStore;
  embedder: Embedder;
  modelRow: ModelRow;
  target: TargetIndex;
  countTokens: (text: string) => number;
  signal: AbortSignal;
  /** Chunks embedded so far out of the total, and the file they belong to. */
  onProgress: (done: number, total: number, path: string) => void;
  /** Asked between commits: true stops early (new files wait to be read first). */
  shouldYield: () => boolean;
  /** Longest a finished vector waits before it is committed. */
  commitEveryMs?: number;
}

/** Chunks per embedding call: small enough that progress and commits stay frequent. */
const SLICE = 16;

/**
 * Adds vectors to the chunks that have none, documents with the fewest missing first, so small
 * files get theirs soon even behind a big one. Vectors are committed at least every
 * `commitEveryMs` and when a document is done, so stopping (pause, cancel, a crash) keeps every
 * vector already made. Returns false when it stopped early because `shouldYield` said so.
 */
export async function embedPending(context: EmbedPendingContext): Promise<boolean> {
  const { store, target, signal } = context;
  const commitEveryMs = context.commitEveryMs ?? 2000;
  const counts = await store.unembeddedCounts(target.key);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  let done = 0;
  const docIds = [...counts.keys()].sort((a, b) => counts.get(a)! - counts.get(b)! || (a < b ? -1 : 1));
  for (const docId of docIds) {
    signal.throwIfAborted();
    const rows = await store.unembedded(target.key, [docId]);
    if (rows.length === 0) continue;
    const path = rows[0]!.path;
    context.onProgress(done, total, path);
    const inputs = new Map<string, string>();
    for (const row of rows) inputs.set(row.textHash, inputFor(row, context));
    const known = await store.vectorsByTextHash(target.key, [...inputs.keys()]);
    let waiting: { id: string; vector: Float32Array }[] = [];
    let lastCommit = performance.now();
    const commit = async () => {
      await store.setVectors(target.key, waiting);
      waiting = [];
      lastCommit = performance.now();
    };
    const todo = [...inputs.keys()].filter((hash) => !known.has(hash));
    const reusable = rows.filter((row) => known.has(row.textHash));
    for (let i = 0; i < todo.length; i += SLICE) {
      signal.throwIfAborted();
      const slice = new Set(todo.slice(i, i + SLICE));
      const vectors = await context.embedder.embed(
        context.modelRow,
        [...slice].map((hash) => inputs.get(hash)!),
        { signal, background: true },
      );
      [...slice].forEach((hash, j) => known.set(hash, vectors[j]!));
      for (const row of rows) {
        const vector = slice.has(row.textHash) ? known.get(row.textHash) : undefined;
        if (vector) waiting.push({ id: row.id, vector });
      }
      done += rows.filter((row) => slice.has(row.textHash)).length;
      context.onProgress(done, total, path);
      if (performance.now() - lastCommit >= commitEveryMs) {
        await commit();
        if (context.shouldYield()) return false;
      }
    }
    // Chunks whose text was embedded already (here or elsewhere in the table).
    for (const row of reusable) waiting.push({ id: row.id, vector: known.get(row.textHash)! });
    done += reusable.length;
    await commit();
    context.onProgress(done, total, path);
    if (context.shouldYield()) return false;
  }
  return true;
}

function inputFor(row: StoredChunk, context: EmbedPendingContext): string {
  const headingPath = row.heading ? row.heading.split(' › ') : [];
  return embeddingInput(row.title, { headingPath, text: row.text }, context.countTokens, context.target.contextSize);
}
