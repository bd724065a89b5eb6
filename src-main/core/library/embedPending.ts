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
/** Chunks read from the table at a time (whole documents, small ones grouped). */
const GROUP = 256;

/**
 * Adds vectors to the chunks that have none, documents with the fewest missing first, so small
 * files get theirs soon even behind a big one. Vectors are committed at least every
 * `commitEveryMs` and after each group of documents (small ones share a commit), so stopping
 * (pause, cancel, a crash) keeps every vector already made. Returns false when it stopped early because `shouldYield`
 * said so.
 */
export async function embedPending(context: EmbedPendingContext): Promise<boolean> {
  const { store, target, signal } = context;
  const commitEveryMs = context.commitEveryMs ?? 2000;
  const counts = await store.unembeddedCounts(target.key);
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  const docIds = [...counts.keys()].sort((a, b) => counts.get(a)! - counts.get(b)! || (a < b ? -1 : 1));
  let done = 0;
  let waiting: (StoredChunk & { vector: Float32Array })[] = [];
  let lastCommit = performance.now();
  const commit = async () => {
    if (waiting.length > 0) await store.setVectors(target.key, waiting);
    waiting = [];
    lastCommit = performance.now();
  };
  for (const group of groups(docIds, counts)) {
    signal.throwIfAborted();
    const rows = await store.unembedded(target.key, group);
    const inputs = new Map<string, string>();
    for (const row of rows) inputs.set(row.textHash, inputFor(row, context));
    const known = await store.vectorsByTextHash(target.key, [...inputs.keys()]);
    const byHash = new Map<string, StoredChunk[]>();
    for (const row of rows) byHash.set(row.textHash, [...(byHash.get(row.textHash) ?? []), row]);
    const give = (hash: string) => {
      const vector = known.get(hash)!;
      for (const row of byHash.get(hash) ?? []) waiting.push({ ...row, vector });
      done += byHash.get(hash)?.length ?? 0;
    };
    // Texts embedded already (here or elsewhere in the table) first, then the rest in slices.
    const todo: string[] = [];
    for (const hash of inputs.keys()) {
      if (known.has(hash)) give(hash);
      else todo.push(hash);
    }
    // The next slice is handed to the embedder while this one finishes, so no context waits at
    // the end of a slice for the last text of another context, nor while a commit is written.
    const slices: string[][] = [];
    for (let i = 0; i < todo.length; i += SLICE) slices.push(todo.slice(i, i + SLICE));
    const start = (slice: string[]) => {
      const vectors = context.embedder.embed(
        context.modelRow,
        slice.map((hash) => inputs.get(hash)!),
        { signal, background: true, role: 'document' },
      );
      // Awaited below, or settled before leaving when something stops the run first.
      vectors.catch(() => undefined);
      return { slice, vectors };
    };
    const finish = async (item: ReturnType<typeof start>) => {
      const vectors = await item.vectors;
      item.slice.forEach((hash, j) => {
        known.set(hash, vectors[j]!);
        give(hash);
      });
    };
    let ahead = slices[0] ? start(slices[0]) : null;
    for (let k = 0; ahead; k++) {
      const current = ahead;
      context.onProgress(done, total, byHash.get(current.slice[0]!)![0]!.path);
      ahead = slices[k + 1] ? start(slices[k + 1]!) : null;
      try {
        signal.throwIfAborted();
        await finish(current);
      } catch (error) {
        await ahead?.vectors.catch(() => undefined);
        throw error;
      }
      if (performance.now() - lastCommit >= commitEveryMs) {
        if (context.shouldYield()) {
          // New files wait to be read: the slice under way is kept too, then the run yields.
          if (ahead) await finish(ahead);
          await commit();
          return false;
        }
        await commit();
      }
    }
    // A group done is committed at once: its documents are fully searchable by meaning now.
    await commit();
    context.onProgress(done, total, rows.at(-1)?.path ?? '');
    if (context.shouldYield()) return false;
  }
  return true;
}

/**
 * Document ids in order, cut into groups: small documents (one slice or less) together, up to
 * GROUP chunks; a bigger document alone, so the small ones are committed before it starts.
 */
function* groups(docIds: string[], counts: Map<string, number>): Generator<string[]> {
  let group: string[] = [];
  let size = 0;
  for (const id of docIds) {
    const n = counts.get(id) ?? 0;
    if (group.length > 0 && (size + n > GROUP || n > SLICE)) {
      yield group;
      group = [];
      size = 0;
    }
    group.push(id);
    size += n;
  }
  if (group.length > 0) yield group;
}

function inputFor(row: StoredChunk, context: EmbedPendingContext): string {
  const headingPath = row.heading ? row.heading.split(' › ') : [];
  return embeddingInput(row.title, { headingPath, text: row.text }, context.countTokens, context.target.contextSize);
}
