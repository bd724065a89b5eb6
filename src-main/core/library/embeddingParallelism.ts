/**
 * How many embedding contexts Hearth runs at once, and the threads of each.
 *
 * node-llama-cpp 3.21.1 embeds one text per evaluation (an embedding context has one sequence,
 * and its addon reads only sequence 0's vector), so the only way to embed several texts at once
 * is several contexts over the one loaded model (the weights are shared; each context adds its
 * own KV cache and compute buffers). One thread each: contexts never wait for one another, so a
 * descheduled thread (a busy neighbour on its core) delays only its own text, whereas the
 * threads of one context meet at a barrier after every matrix product and all wait for the
 * slowest (the cliff common/threads.ts avoids). On the 2-vCPU VM, 2 contexts × 1 thread were the
 * fastest raw way to embed (BENCHMARKS.md, bench:ingest).
 */
export const MAX_EMBEDDING_CONTEXTS = 4;

const GiB = 1024 ** 3;

export interface EmbeddingParallelism {
  /** Contexts wanted (before the memory check). */
  contexts: number;
  /** CPU threads of each context. */
  threads: number;
}

export interface ParallelismSettings {
  /** `--embedding-contexts N` / CoreConfig.embeddingContexts; null chooses. */
  contexts: number | null;
  /** `--threads N` / CoreConfig.threads: the CPU threads embedding may use in all; null chooses. */
  threads: number | null;
}

/**
 * One context per physical core, at most MAX_EMBEDDING_CONTEXTS, one thread each (1 on a single
 * core). `--threads N` bounds the threads in all: N threads give min(cores, 4, N) contexts that
 * share them (so `--threads 1` is one context of one thread, as before). `--embedding-contexts C`
 * sets the contexts; with `--threads N` too, each gets N ÷ C threads (at least one).
 */
export function embeddingParallelism(mathCores: number, settings: ParallelismSettings): EmbeddingParallelism {
  const cores = Math.max(1, Math.floor(mathCores));
  const contexts = Math.max(1, settings.contexts ?? Math.min(cores, MAX_EMBEDDING_CONTEXTS, settings.threads ?? Number.POSITIVE_INFINITY));
  const threads = settings.threads === null ? 1 : Math.max(1, Math.floor(settings.threads / contexts));
  return { contexts, threads };
}

/**
 * The memory the contexts after the first may take: an eighth of the machine's memory, at most
 * 2 GiB, and at most half of what is free now. The first context is always allowed (a model
 * loads as it did before).
 */
export function extraContextsBudget(totalBytes: number, freeBytes: number): number {
  return Math.max(0, Math.min(2 * GiB, Math.floor(totalBytes / 8), Math.floor(freeBytes / 2)));
}

/** How many of the wanted contexts fit: the first always, the others while the budget lasts. */
export function contextsThatFit(wanted: number, bytesPerContext: number, budgetBytes: number): number {
  if (wanted <= 1) return 1;
  const extra = bytesPerContext > 0 ? Math.floor(budgetBytes / bytesPerContext) : wanted - 1;
  return 1 + Math.max(0, Math.min(wanted - 1, extra));
}
