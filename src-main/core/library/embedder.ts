import type { Llama, LlamaEmbeddingContext, LlamaModel, LlamaRankingContext, Token } from 'node-llama-cpp';
import { HearthError, isAbortError } from '../common/hearthError';
import type { Logger } from '../common/logger';
import { statRegularFile } from '../common/regularFile';
import { defaultThreads } from '../common/threads';
import type { ModelRow } from '../storage/modelRepository';
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

/**
 * The embedding model (and the optional reranker), loaded beside the chat model in their own
 * contexts. Embedding runs in the background: before each text it waits while chat is
 * generating, so a long indexing job never makes a reply stutter.
 */
export class Embedder {
  private embedding: Loaded<LlamaEmbeddingContext> | null = null;
  private embeddingLoad: Promise<Loaded<LlamaEmbeddingContext>> | null = null;
  private ranking: Loaded<LlamaRankingContext> | null = null;
  /** Texts embedded since start: how tests and benchmarks see that unchanged files cost nothing. */
  readonly stats = { embeddedTexts: 0, calibrationTexts: 0 };
  private busy = false;
  private readonly waiting: Record<'high' | 'low', (() => void)[]> = { high: [], low: [] };

  constructor(
    private readonly llama: () => Promise<Llama>,
    private readonly foreground: ForegroundActivity,
    private readonly logger: Logger,
    /** CPU threads for embedding; null uses the same as inference. */
    private readonly threads: number | null,
  ) {}

  /** Loads the model if another (or none) is loaded, and says what it produces. */
  async info(row: ModelRow): Promise<EmbeddingModelInfo> {
    const loaded = await this.loadEmbedding(row);
    return {
      modelId: row.id,
      modelName: row.name,
      dimension: loaded.model.embeddingVectorSize,
      contextSize: embeddingContextSize(loaded.model),
      rules: rulesFingerprint(embeddingRules(row)),
    };
  }

  /** Tokens in text, by the embedding model's own tokenizer. */
  async tokenCounter(row: ModelRow): Promise<(text: string) => number> {
    const { model } = await this.loadEmbedding(row);
    return (text) => model.tokenize(text).length;
  }

  /**
   * Embeds texts in order. The model context does one text at a time; between texts a
   * foreground request (a search or a chat's question) goes before background indexing, and
   * background work waits while chat is generating, so indexing never delays a reply.
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
      onEmbedded?: (done: number) => void;
      role?: EmbeddingRole | null;
      /** Pseudo-queries of the channel calibration: counted apart from documents and searches. */
      calibration?: boolean;
    } = {},
  ): Promise<Float32Array[]> {
    const { signal, background = false, onEmbedded, role = null } = options;
    const rules = embeddingRules(row);
    const vectors: Float32Array[] = [];
    for (const text of texts) {
      signal?.throwIfAborted();
      if (background && this.foreground.isGenerating()) await this.foreground.whenIdle();
      const unlock = await this.acquire(background ? 'low' : 'high');
      try {
        signal?.throwIfAborted();
        const { model, context } = await this.loadEmbedding(row);
        const embedding = await context.getEmbeddingFor(fitToContext(model, role ? embeddingText(rules, text, role) : text));
        vectors.push(normalise(embedding.vector));
        if (options.calibration) this.stats.calibrationTexts++;
        else this.stats.embeddedTexts++;
      } finally {
        unlock();
      }
      onEmbedded?.(vectors.length);
    }
    return vectors;
  }

  /** A two-level lock: waiting high-priority callers are served before low ones. */
  private acquire(priority: 'high' | 'low'): Promise<() => void> {
    const unlock = () => {
      const next = this.waiting.high.shift() ?? this.waiting.low.shift();
      if (next) next();
      else this.busy = false;
    };
    if (!this.busy) {
      this.busy = true;
      return Promise.resolve(unlock);
    }
    return new Promise((resolve) => this.waiting[priority].push(() => resolve(unlock)));
  }

  /** Relevance of each document to the query, 0..1, with the reranker model. */
  async rerank(row: ModelRow, query: string, documents: readonly string[]): Promise<number[]> {
    const ranking = await this.loadRanking(row);
    return ranking.context.rankAll(query, [...documents]);
  }

  async unload(): Promise<void> {
    const unlock = await this.acquire('high');
    try {
      const loaded = [this.embedding, this.ranking];
      this.embedding = null;
      this.ranking = null;
      for (const item of loaded) await release(item);
    } finally {
      unlock();
    }
  }

  private async loadEmbedding(row: ModelRow): Promise<Loaded<LlamaEmbeddingContext>> {
    if (this.embedding?.modelId === row.id) return this.embedding;
    if (this.embeddingLoad) {
      const pending = await this.embeddingLoad.catch(() => null);
      if (pending?.modelId === row.id) return pending;
    }
    this.embeddingLoad = (async () => {
      const old = this.embedding;
      this.embedding = null;
      await release(old);
      const llama = await this.llama();
      const model = await this.openModel(llama, row);
      try {
        const context = await model.createEmbeddingContext({
          contextSize: embeddingContextSize(model),
          threads: this.threads ?? defaultThreads(llama.cpuMathCores),
        });
        this.embedding = { modelId: row.id, model, context };
        this.logger.info(`embedding model ${row.name} loaded (${model.embeddingVectorSize} dimensions)`);
        return this.embedding;
      } catch (error) {
        await model.dispose();
        throw new HearthError('MODEL_LOAD_FAILED', `${row.name} cannot make embeddings: ${(error as Error).message}`, { cause: error });
      }
    })();
    try {
      return await this.embeddingLoad;
    } finally {
      this.embeddingLoad = null;
    }
  }

  private async loadRanking(row: ModelRow): Promise<Loaded<LlamaRankingContext>> {
    if (this.ranking?.modelId === row.id) return this.ranking;
    const old = this.ranking;
    this.ranking = null;
    await release(old);
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
async function release(loaded: Loaded<{ dispose(): Promise<void> }> | null): Promise<void> {
  if (!loaded) return;
  await loaded.context.dispose();
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
