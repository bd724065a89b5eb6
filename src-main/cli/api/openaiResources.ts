import type { ServerResponse } from 'node:http';
import type { CompletionService, ListedModel } from '../../core/inference/completionService';
import type { EmbeddingInput, EmbeddingService } from '../../core/library/embeddingService';
import { asArray, asObject, asString, optional, optNumber, optString, ParamError, unsupported } from './apiInput';
import { sendJson } from './sse';

/** GET /v1/models: the library's models; `id` is the name to pass back, `hearth` says what each is. */
export async function openAiModels(completions: CompletionService, res: ServerResponse): Promise<void> {
  const models = await completions.listModels();
  sendJson(res, 200, { object: 'list', data: models.map(modelObject) });
}

/** GET /v1/models/{model}: one model, by id or name. */
export async function openAiModel(completions: CompletionService, idOrName: string, res: ServerResponse): Promise<void> {
  const info = await completions.findModel(idOrName);
  const listed = (await completions.listModels()).find((m) => m.info.id === info.id) ?? { info, loaded: false };
  sendJson(res, 200, modelObject(listed));
}

function modelObject({ info, loaded }: ListedModel) {
  return {
    id: info.name,
    object: 'model',
    created: Math.floor(info.addedAt / 1000),
    owned_by: 'hearth',
    hearth: {
      id: info.id,
      kind: info.kind,
      loaded,
      default_for: info.defaultFor,
      context_length: info.contextLength,
      parameters: info.parameters,
      quantization: info.quantization,
      present: info.present,
    },
  };
}

/**
 * POST /v1/embeddings: a string or an array of strings, as floats or base64 (little-endian
 * float32, as OpenAI sends them). Hearth's `input_type` ("query" or "document", default
 * "document") picks the embedding model's prefix where the model has one.
 */
export async function openAiEmbeddings(embeddings: EmbeddingService, raw: unknown, res: ServerResponse, signal: AbortSignal): Promise<void> {
  const body = asObject(raw, 'body');
  const texts = inputTexts(body.input);
  const format = optString(body, 'encoding_format') ?? 'float';
  if (format !== 'float' && format !== 'base64') throw new ParamError('encoding_format', 'encoding_format must be "float" or "base64".');
  const dimensions = optNumber(body, 'dimensions', { min: 1, max: 65_536, integer: true });
  const inputType = optString(body, 'input_type') ?? 'document';
  if (inputType !== 'query' && inputType !== 'document') throw new ParamError('input_type', 'input_type must be "query" or "document".');
  const model = optString(body, 'model');
  const result = await embeddings.embed(texts, { model: model?.trim() ? model : null, input: inputType satisfies EmbeddingInput, signal });
  const size = result.vectors[0]?.length ?? 0;
  if (dimensions !== null && dimensions !== size) {
    unsupported('dimensions', `${result.model} makes ${size}-dimensional embeddings; shortening them (dimensions) is not supported.`);
  }
  if (signal.aborted) return;
  sendJson(res, 200, {
    object: 'list',
    data: result.vectors.map((vector, index) => ({
      object: 'embedding',
      index,
      embedding: format === 'float' ? Array.from(vector) : Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength).toString('base64'),
    })),
    model: result.model,
    usage: { prompt_tokens: result.tokens, total_tokens: result.tokens },
  });
}

function inputTexts(raw: unknown): string[] {
  if (typeof raw === 'string') return [raw];
  if (optional({ input: raw }, 'input') === null) throw new ParamError('input', 'input is required: a string or an array of strings.');
  return asArray(raw, 'input').map((item, i) => {
    if (typeof item === 'number' || Array.isArray(item)) unsupported('input', 'Token arrays are not supported as input; send text.');
    return asString(item, `input[${i}]`);
  });
}
