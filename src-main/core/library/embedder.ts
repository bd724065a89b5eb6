import { freemem, totalmem } from 'node:os';
import type { Llama, LlamaEmbeddingContext, LlamaModel, LlamaRankingContext, Token } from 'node-llama-cpp';
import { HearthError, isAbortError } from '../common/hearthError';
import type { Logger } from '../common/logger';
import { statRegularFile } from '../common/regularFile';
import { defaultThreads } from '../common/threads';
import type { ModelRow } from '../storage/modelRepository';
import { ContextGate, type GatePriority } from './contextGate';
import { contextsThatFit, embeddingParallelism, extraContextsBudget, type EmbeddingParallelism } from './embeddingParallelism';
import { embeddingRules, embeddingText, rulesFingerprint, type EmbeddingRole } from './embeddingRules';

/** What the chat side tells background work, so indexing yields while a reply is written. */
export interface ForegroundActivity {
  isGenerating(): boolean;
  /** Resolves once no reply is being generated. */
  whenIdle(): Promise<void>;
}

export interface EmbeddingModelInfo {
  modelId: string;
  modelName: string;
  dimension: number;
  /** Longest input, in tokens, one embedding can take. */
  contextSize: number;
  /** The fingerprint of the model's query/document prefixes (embeddingRules.ts); part of the index key. */
  rules: string;
}

/**
 * Chunks are at most 384 tokens by default (libraryOptions.ts), so a 512-token context holds any
 * chunk with its title; a bigger one only costs: llama.cpp attends over the whole context, and
 * 2,048 tokens took 1.9 ms of CPU per token against 1.0 ms at 512 (stories260K, this VM).
 * Longer queries are cut to fit (fitToContext), while BM25 still reads all of them.
 */
const MAX_EMBEDDING_CONTEXT = 512;
/** The context holds the text plus the BOS and EOS tokens llama.cpp adds, and must not be full. */
const RESERVED_TOKENS = 3;

const embeddingContextSize = (model: LlamaModel): number => Math.min(model.trainContextSize, MAX_EMBEDDING_CONTEXT);

interface Loaded<T> {
  modelId: string;
  model: LlamaModel;
  context: T;
}

/** The embedding model and its contexts: contexts[i] serves the gate's slot i. */
interface LoadedEmbedding {
  modelId: string;
  model: LlamaModel;
  contexts: LlamaEmbeddingContext[];
  /** The contexts wanted and the threads of each (embeddingParallelism.ts). */
  plan: EmbeddingParallelism;
  contextSize: number;
}

/** How embedding runs now: contexts open, the contexts planned and each one's threads. */
export interface EmbeddingLayout {
  modelId: string;
  contexts: number;
  planned: number;
  threads: number;
}

/**
 * The embedding model (and the optional reranker), loaded beside the chat model in their own
 * contexts. Embedding runs in the background: before each text it waits while chat is
 * generating, so a long indexing job never makes a reply stutter. Several texts are embedded at
 * once across several embedding contexts of one thread each (embeddingParallelism.ts): the first
 * context is made when the model loads, the others when a call brings more than one text, so a
 * one-shot search opens no more than before.
 */
export class Embedder {
  private embedding: LoadedEmbedding | null = null;
  private embeddingLoad: Promise<LoadedEmbedding> | null = null;
  /** The extra contexts being made, if any: a swap or unload waits for them. */
  private widening: Promise<void> | null = null;
  private ranking: Loaded<LlamaRankingContext> | null = null;
  /** Texts embedded since start: how tests and benchmarks see that unchanged files cost nothing. */
  readonly stats = { embeddedTexts: 0, calibrationTexts: 0 };
  /** One slot per embedding context; searches go before background indexing. */
  private readonly gate = new ContextGate(1);

  constructor(
    private readonly llama: () => Promise<Llama>,
    private readonly foreground: ForegroundActivity,
    private readonly logger: Logger,
    /** CPU threads embedding may use in all; null chooses (embeddingParallelism.ts). */
    private readonly threads: number | null,
    /** Embedding contexts at once; null chooses from the cores and the memory. */
    private readonly contexts: number | null = null,
  ) {}

  /** Loads the model if another (or none) is loaded, and says what it produces. */
  async info(row: ModelRow): Promise<EmbeddingModelInfo> {
    const loaded = await this.loadEmbedding(row);
    return {
      modelId: row.id,
      modelName: row.name,
      dimension: loaded.model.embeddingVectorSize,
      contextSize: loaded.contextSize,
      rules: rulesFingerprint(embeddingRules(row)),
    };
  }

  /** Tokens in text, by the embedding model's own tokenizer. */
  async tokenCounter(row: ModelRow): Promise<(text: string) => number> {
    const { model } = await this.loadEmbedding(row);
    return (text) => model.tokenize(text).length;
  }

  /** The contexts embedding runs on now; null when no embedding model is loaded. */
  layout(): EmbeddingLayout | null {
    const loaded = this.embedding;
    if (!loaded) return null;
    return { modelId: loaded.modelId, contexts: loaded.contexts.length, planned: loaded.plan.contexts, threads: loaded.plan.threads };
  }

  /** The embedding contexts open now (each says whether it was disposed): what unload and swaps must free. */
  openContexts(): readonly { readonly disposed: boolean }[] {
    return [...(this.embedding?.contexts ?? [])];
  }

  /**
   * Embeds texts; the vectors come back in the texts' order. Up to one text per embedding
   * context is evaluated at once. Each text takes the first free context: a foreground request
   * (a search or a chat's question) goes before any waiting background text, so it waits at most
   * for the first of the texts being embedded to finish, and background work waits while chat is
   * generating, so indexing never delays a reply.
   * Vectors are L2-normalised so cosine similarity is a dot product. Each text gets the model's
   * prefix for its role (embeddingRules.ts): 'document' (indexing) or 'query' (search); without
   * a role the texts are embedded as given (the local API's embeddings endpoint).
   */
  async embed(
    row: ModelRow,
    texts: readonly string[],
    options: {
      signal?: AbortSignal;
      background?: boolean;
      /** After each text: how many are done (they may finish out of order). */
      onEmbedded?: (done: number) => void;
      role?: EmbeddingRole | null;
      /** Pseudo-queries of the channel calibration: counted apart from documents and searches. */
      calibration?: boolean;
    } = {},
  ): Promise<Float32Array[]> {
    const { signal, background = false, onEmbedded, role = null } = options;
    const rules = embeddingRules(row);
    const vectors: Float32Array[] = new Array<Float32Array>(texts.length);
    if (texts.length > 1) await this.widen(row);
    let next = 0;
    let done = 0;
    let failed = false;
    const work = async () => {
      while (!failed && next < texts.length) {
        const i = next++;
        signal?.throwIfAborted();
        if (background && this.foreground.isGenerating()) await this.foreground.whenIdle();
        vectors[i] = await this.withContext(row, background ? 'low' : 'high', async (model, context) => {
          signal?.throwIfAborted();
          const text = texts[i]!;
          const embedding = await context.getEmbeddingFor(fitToContext(model, role ? embeddingText(rules, text, role) : text));
          return normalise(embedding.vector);
        });
        if (options.calibration) this.stats.calibrationTexts++;
        else this.stats.embeddedTexts++;
        onEmbedded?.(++done);
      }
    };
    const workers = Math.max(1, Math.min(texts.length, this.gate.capacity));
    // Every worker ends before the call does (no text keeps running after an abort or a failure).
    const results = await Promise.allSettled(
      Array.from({ length: workers }, () =>
        work().catch((error: unknown) => {
          failed = true;
          throw error;
        }),
      ),
    );
    const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failure) throw failure.reason;
    return vectors;
  }

  /**
   * Runs fn on a free context of this model, loading it first when another (or none) is loaded.
   * Background work gives its context back while chat is generating.
   */
  private async withContext<T>(row: ModelRow, priority: GatePriority, fn: (model: LlamaModel, context: LlamaEmbeddingContext) => Promise<T>): Promise<T> {
    for (;;) {
      const lease = await this.gate.acquire(priority);
      const loaded = this.embedding;
      const context = loaded?.modelId === row.id ? loaded.contexts[lease.slot] : undefined;
      if (loaded && context) {
        if (priority === 'low' && this.foreground.isGenerating()) {
          lease.release();
          await this.foreground.whenIdle();
          continue;
        }
        try {
          return await fn(loaded.model, context);
        } finally {
          lease.release();
        }
      }
      lease.release();
      if (loaded?.modelId === row.id) throw new HearthError('INTERNAL', `embedding context ${lease.slot} of ${row.name} is missing`);
      await this.loadEmbedding(row);
    }
  }

  /** Opens the planned contexts after the first, as many as fit the memory budget (once per load). */
  private async widen(row: ModelRow): Promise<void> {
    const loaded = await this.loadEmbedding(row);
    while (this.widening) await this.widening;
    if (this.embedding !== loaded || loaded.contexts.length >= loaded.plan.contexts) return;
    this.widening = (async () => {
      try {
        const wanted = await this.contextsInMemory(loaded);
        const added: LlamaEmbeddingContext[] = [];
        // A swap or unload that began meanwhile has this model to itself: open nothing more on it.
        while (this.embedding === loaded && loaded.contexts.length + added.length < wanted) {
          try {
            added.push(await loaded.model.createEmbeddingContext({ contextSize: loaded.contextSize, threads: loaded.plan.threads }));
          } catch (error) {
            this.logger.warn(`embedding with ${loaded.contexts.length + added.length} context(s): another did not open (${(error as Error).message})`);
            break;
          }
        }
        if (this.embedding !== loaded) {
          for (const context of added) await context.dispose();
          return;
        }
        // Never more than planned again for this model, even when some did not open.
        loaded.plan = { ...loaded.plan, contexts: loaded.contexts.length + added.length };
        loaded.contexts.push(...added);
        this.gate.grow(added.length);
        this.logger.info(`embedding on ${loaded.contexts.length} context(s) × ${loaded.plan.threads} thread(s)`);
      } finally {
        this.widening = null;
      }
    })();
    await this.widening;
  }

  /** The planned contexts that fit the budget for the contexts after the first (RAM, and VRAM when offloaded). */
  private async contextsInMemory(loaded: LoadedEmbedding): Promise<number> {
    const { cpuRam, gpuVram } = await loaded.model.fileInsights.estimateContextResourceRequirementsV2({
      contextSize: loaded.contextSize,
      modelGpuLayers: loaded.model.gpuLayers,
      isEmbeddingContext: true,
    });
    let fit = contextsThatFit(loaded.plan.contexts, cpuRam + gpuVram, extraContextsBudget(totalmem(), freemem()));
    if (gpuVram > 0) {
      const llama = await this.llama();
      const vram = await llama.getVramState().catch(() => ({ free: 0 }));
      fit = Math.min(fit, contextsThatFit(loaded.plan.contexts, gpuVram, Math.floor(vram.free / 2)));
    }
    return fit;
  }

  /** Relevance of each document to the query, 0..1, with the reranker model. */
  async rerank(row: ModelRow, query: string, documents: readonly string[]): Promise<number[]> {
    const ranking = await this.loadRanking(row);
    return ranking.context.rankAll(query, [...documents]);
  }

  /** Frees the models: every embedding context once its text is done, then the model; and the reranker. */
  async unload(): Promise<void> {
    const release = await this.gate.acquireAll();
    try {
      while (this.widening) await this.widening;
      const embedding = this.embedding;
      const ranking = this.ranking;
      this.embedding = null;
      this.ranking = null;
      await releaseEmbedding(embedding);
      await releaseRanking(ranking);
    } finally {
      release(1);
    }
  }

  private async loadEmbedding(row: ModelRow): Promise<LoadedEmbedding> {
    for (;;) {
      if (this.embedding?.modelId === row.id) return this.embedding;
      if (!this.embeddingLoad) break;
      const pending = await this.embeddingLoad.catch(() => null);
      if (pending?.modelId === row.id) return pending;
    }
    const load = (async () => {
      // Nothing is embedded while the model changes: every context is idle and stays so.
      const release = await this.gate.acquireAll();
      let size: number | undefined;
      try {
        if (this.embedding?.modelId === row.id) return this.embedding;
        while (this.widening) await this.widening;
        const old = this.embedding;
        this.embedding = null;
        size = 1;
        await releaseEmbedding(old);
        const llama = await this.llama();
        const model = await this.openModel(llama, row);
        const plan = embeddingParallelism(llama.cpuMathCores, { contexts: this.contexts, threads: this.threads });
        const contextSize = embeddingContextSize(model);
        try {
          const context = await model.createEmbeddingContext({ contextSize, threads: plan.threads });
          this.embedding = { modelId: row.id, model, contexts: [context], plan, contextSize };
          this.logger.info(`embedding model ${row.name} loaded (${model.embeddingVectorSize} dimensions; up to ${plan.contexts} context(s) × ${plan.threads} thread(s))`);
          return this.embedding;
        } catch (error) {
          await model.dispose();
          throw new HearthError('MODEL_LOAD_FAILED', `${row.name} cannot make embeddings: ${(error as Error).message}`, { cause: error });
        }
      } finally {
        release(size);
      }
    })();
    this.embeddingLoad = load;
    try {
      return await load;
    } finally {
      if (this.embeddingLoad === load) this.embeddingLoad = null;
    }
  }

  private async loadRanking(row: ModelRow): Promise<Loaded<LlamaRankingContext>> {
    if (this.ranking?.modelId === row.id) return this.ranking;
    const old = this.ranking;
    this.ranking = null;
    await releaseRanking(old);
    const llama = await this.llama();
    const model = await this.openModel(llama, row);
    try {
      const context = await model.createRankingContext({ threads: this.threads ?? defaultThreads(llama.cpuMathCores) });
      this.ranking = { modelId: row.id, model, context };
      return this.ranking;
    } catch (error) {
      await model.dispose();
      throw new HearthError(
        'RERANKER_UNAVAILABLE',
        `${row.name} cannot rerank (it needs a reranker model with a ranking head, e.g. bge-reranker): ${(error as Error).message}`,
        { cause: error },
      );
    }
  }

  private async openModel(llama: Llama, row: ModelRow): Promise<LlamaModel> {
    // A FIFO or device put in the model's place is refused before llama.cpp opens it.
    await statRegularFile(row.path, { expected: 'a model file' }).catch((error: unknown) => {
      if (error instanceof HearthError) throw error;
    });
    try {
      return await llama.loadModel({ modelPath: row.path, gpuLayers: row.gpuLayers ?? 'auto' });
    } catch (error) {
      if (isAbortError(error)) throw error;
      throw new HearthError('MODEL_LOAD_FAILED', `Could not load ${row.name}: ${(error as Error).message}`, { cause: error });
    }
  }
}

/**
 * The text, or its first tokens when it is longer than the embedding context takes. Chunks are
 * cut to fit when indexed; this is for queries (up to 2,000 characters, a few thousand tokens
 * in CJK scripts): the vector then stands for the query's start, while BM25 still gets it all.
 */
function fitToContext(model: LlamaModel, text: string): string | Token[] {
  const room = embeddingContextSize(model) - RESERVED_TOKENS;
  // Every token stands for at least one byte: a short text needs no tokenizing here.
  if (Buffer.byteLength(text) <= room) return text;
  const tokens = model.tokenize(text);
  return tokens.length <= room ? text : tokens.slice(0, room);
}

/** Frees a loaded model and its context (the context first: it belongs to the model). */
async function releaseRanking(loaded: Loaded<{ dispose(): Promise<void> }> | null): Promise<void> {
  if (!loaded) return;
  await loaded.context.dispose();
  await loaded.model.dispose();
}

/** Frees every embedding context, then the model they belong to. */
async function releaseEmbedding(loaded: LoadedEmbedding | null): Promise<void> {
  if (!loaded) return;
  for (const context of loaded.contexts) await context.dispose();
  await loaded.model.dispose();
}

function normalise(vector: readonly number[]): Float32Array {
  const out = Float32Array.from(vector);
  let sum = 0;
  for (const x of out) sum += x * x;
  const norm = Math.sqrt(sum);
  if (norm > 0) for (let i = 0; i < out.length; i++) out[i] = out[i]! / norm;
  return out;
}
