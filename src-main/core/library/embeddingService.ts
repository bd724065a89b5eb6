import { HearthError } from '../common/hearthError';
import type { ModelLibrary } from '../models/modelLibrary';
import type { ModelRow } from '../storage/modelRepository';
import type { Embedder } from './embedder';

/** Whether texts are questions or passages: embedding models that tell them apart get each its prefix. */
export type EmbeddingInput = 'query' | 'document';

export interface EmbeddingsResult {
  /** The model's name in the library. */
  model: string;
  /** One unit-length vector per text, in order. */
  vectors: Float32Array[];
  /** Tokens read, by the embedding model's tokenizer. */
  tokens: number;
}

/** Most texts one request may embed (OpenAI's own limit is 2,048). */
export const MAX_EMBEDDING_INPUTS = 2048;

/**
 * Embeddings for the local API: the library's embedding model (the default one, or one named
 * by id or name), through the same Embedder that indexes documents, as a foreground request so
 * it goes before background indexing.
 */
export class EmbeddingService {
  constructor(
    private readonly models: ModelLibrary,
    private readonly embedder: Embedder,
  ) {}

  async embed(texts: readonly string[], options: { model: string | null; input: EmbeddingInput; signal?: AbortSignal }): Promise<EmbeddingsResult> {
    if (texts.length === 0) throw new HearthError('BAD_INPUT', 'input is empty: give a string or a non-empty array of strings.');
    if (texts.length > MAX_EMBEDDING_INPUTS) throw new HearthError('BAD_INPUT', `input has ${texts.length} texts; at most ${MAX_EMBEDDING_INPUTS} per request.`);
    if (texts.some((text) => text.length === 0)) throw new HearthError('BAD_INPUT', 'input contains an empty string; every text must have content.');
    const row = await this.model(options.model);
    const count = await this.embedder.tokenCounter(row);
    const tokens = texts.reduce((sum, text) => sum + count(text), 0);
    const vectors = await this.embedder.embed(row, texts, { signal: options.signal, role: options.input });
    return { model: row.name, vectors, tokens };
  }

  private async model(idOrName: string | null): Promise<ModelRow> {
    if (idOrName === null) {
      const row = this.models.embeddingModel();
      if (!row) throw new HearthError('EMBEDDING_MODEL_MISSING', 'No embedding model is in the library; download one (hearth models pull) or name a model.');
      return row;
    }
    const wanted = idOrName.trim().replace(/\.gguf$/i, '');
    const info = (await this.models.list()).find((m) => m.id === wanted || m.name.replace(/\.gguf$/i, '') === wanted);
    if (!info) throw new HearthError('MODEL_NOT_FOUND', `The model "${idOrName}" does not exist in Hearth's library; GET /v1/models lists them.`);
    if (!info.present) throw new HearthError('MODEL_NOT_FOUND', `The file of ${info.name} is missing (${info.path}).`);
    return this.models.get(info.id);
  }
}
