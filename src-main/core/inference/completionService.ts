import type { ChatModelFunctions, LLamaChatGenerateResponseOptions, LlamaChatResponse, LlamaGrammar } from 'node-llama-cpp';
import type { MessageSources, ModelInfo } from '#contract/dto';
import { HearthError } from '../common/hearthError';
import { newId } from '../common/ids';
import type { Logger } from '../common/logger';
import type { ModelLibrary } from '../models/modelLibrary';
import type { ModelRow } from '../storage/modelRepository';
import type { SettingsRepository } from '../storage/settingsRepository';
import { chatHistoryFor, forcedTool, renderPromptTokens, functionsFor, lastQuestion, responseGrammar, type ForcedTool } from './completionPrompt';
import { PENALTY_LAST_TOKENS } from './promptBuilder';
import type { CompletionListener, CompletionRequest, CompletionResult, FinishReason, ToolCall } from './completionTypes';
import type { GenerationLane, GenerationQueue } from './generationQueue';
import type { LlamaRuntime, LoadedSession } from './llamaRuntime';
import type { ModelRunner } from './modelRunner';
import { buildSourceContext, sourceBudget, type SourceRetriever } from './sourceContext';

export interface CompletionServiceDeps {
  runtime: LlamaRuntime;
  runner: ModelRunner;
  models: ModelLibrary;
  settings: Pick<SettingsRepository, 'get'>;
  /** The model's turn order, shared with the UI's chats. */
  queue: GenerationQueue;
  /** Finds passages in collections, for grounded completions; absent, grounding is refused. */
  retriever: SourceRetriever | null;
  logger: Logger;
}

/** A library model as the APIs list it. */
export interface ListedModel {
  info: ModelInfo;
  loaded: boolean;
}

export interface CompleteOptions {
  /** Whose turn this is (one lane per API client); see GenerationQueue. */
  lane: GenerationLane;
  /** Aborted when the client goes away: the request leaves the queue, or its generation stops. */
  signal: AbortSignal;
  listener?: CompletionListener;
}

/**
 * Completions for the local API (OpenAI's chat completions, Anthropic's messages): picks and
 * loads the model, waits for the request's turn on it, grounds the prompt in collections when
 * asked (the same retrieval and budget as a scoped chat), and generates with node-llama-cpp:
 * sampling, stop sequences, penalties, JSON grammars, function calling.
 */
export class CompletionService {
  /** Requests waiting or being answered, each with what stops it. */
  private readonly active = new Map<AbortController, Promise<void>>();

  constructor(private readonly deps: CompletionServiceDeps) {
    // Loading or unloading a model through the runner stops API replies first, as it stops chats.
    deps.runner.addUser(this);
  }

  /** The library's models, the loaded one marked. */
  async listModels(): Promise<ListedModel[]> {
    const loadedId = this.deps.runtime.loaded?.info.modelId ?? null;
    return (await this.deps.models.list()).map((info) => ({ info, loaded: info.id === loadedId }));
  }

  /** A model by id or name (with or without .gguf); MODEL_NOT_FOUND otherwise. */
  async findModel(idOrName: string): Promise<ModelInfo> {
    const all = await this.deps.models.list();
    const wanted = idOrName.trim();
    const found =
      all.find((m) => m.id === wanted) ??
      all.find((m) => m.name === wanted) ??
      all.find((m) => m.name.replace(/\.gguf$/i, '') === wanted.replace(/\.gguf$/i, ''));
    if (!found) throw new HearthError('MODEL_NOT_FOUND', `The model "${idOrName}" does not exist in Hearth's library; GET /v1/models lists them.`);
    return found;
  }

  async complete(request: CompletionRequest, options: CompleteOptions): Promise<CompletionResult> {
    // What can be refused without the model is refused before the request waits for it.
    const row = request.model === null ? null : await this.chatModel(request.model);
    if (request.collections.length > 0) {
      if (!this.deps.retriever) throw new HearthError('UNSUPPORTED', 'Grounding in collections is not available here.');
      this.deps.retriever.requireCollections(request.collections);
    }
    // Stopped by the caller going away, or by the model being unloaded or switched (stopAll).
    const stopper = new AbortController();
    const signal = AbortSignal.any([options.signal, stopper.signal]);
    const run = this.deps.queue.run(options.lane, () => this.generate(row, request, { ...options, signal }), { signal, bounded: true });
    const active = run.then(
      () => undefined,
      () => undefined,
    );
    this.active.set(stopper, active);
    const stoppedForModel = () => stopper.signal.aborted && !options.signal.aborted;
    const modelGone = () => new HearthError('MODEL_NOT_LOADED', 'The request was stopped: the model was unloaded or switched.');
    try {
      const result = await run.catch((error: unknown) => {
        throw stoppedForModel() ? modelGone() : error;
      });
      if (stoppedForModel()) throw modelGone();
      return result;
    } finally {
      this.active.delete(stopper);
    }
  }

  /** Stops every API reply (written or waiting): the model is about to be unloaded or switched. */
  async stopAll(): Promise<void> {
    const active = [...this.active];
    for (const [stopper] of active) stopper.abort();
    await Promise.all(active.map(([, done]) => done));
  }

  private async chatModel(idOrName: string): Promise<ModelRow> {
    const info = await this.findModel(idOrName);
    if (info.kind !== 'generative') {
      throw new HearthError('BAD_INPUT', `${info.name} is ${info.kind === 'embedding' ? 'an embedding' : 'a reranking'} model; it cannot write replies.`);
    }
    if (!info.present) throw new HearthError('MODEL_NOT_FOUND', `The file of ${info.name} is missing (${info.path}).`);
    return this.deps.models.get(info.id);
  }

  /** The session to answer with: the named model (loaded now if needed), else the loaded or default one. */
  private async session(row: ModelRow | null): Promise<LoadedSession> {
    const { runtime, runner, settings } = this.deps;
    if (row === null) {
      const session = await runner.loadedOrDefault();
      if (!session) throw new HearthError('MODEL_NOT_LOADED', 'No model is loaded and no default chat model is set; name a model (GET /v1/models lists them).');
      return session;
    }
    if (runtime.loaded?.info.modelId !== row.id) {
      // Single-flight in the runtime; it is this request's turn, so no reply is being written.
      await runtime.load(row, { contextSize: settings.get().contextSize });
    }
    const session = runtime.loaded;
    if (!session) throw new HearthError('MODEL_NOT_LOADED', `${row.name} was unloaded before it could answer.`);
    return session;
  }

  private async generate(row: ModelRow | null, request: CompletionRequest, options: CompleteOptions): Promise<CompletionResult> {
    const { signal, listener = {} } = options;
    const session = await this.session(row);
    const settings = this.deps.settings.get();
    const total = session.context.contextSize;
    const wantedTokens = request.maxTokens ?? settings.maxReplyTokens;

    let sources: MessageSources | null = null;
    let sourcePrompt: string | null = null;
    if (request.collections.length > 0 && this.deps.retriever) {
      const built = await buildSourceContext({
        retriever: this.deps.retriever,
        question: lastQuestion(request.messages),
        collectionIds: request.collections,
        budget: sourceBudget(total, wantedTokens),
        countTokens: (text) => session.model.tokenize(text).length,
        signal,
      });
      sources = built.sources;
      sourcePrompt = built.prompt;
    }

    const history = chatHistoryFor(request.messages, sourcePrompt);
    const llama = session.model.llama;
    const forced = request.tools.length > 0 ? await forcedTool(llama, request.tools, request.toolChoice) : null;
    const offerTools = request.tools.length > 0 && request.toolChoice.type === 'auto';
    if (offerTools && request.responseFormat.type !== 'text') {
      throw new HearthError('UNSUPPORTED', 'response_format cannot be combined with tools the model may call (tool_choice "auto"); use one or the other.');
    }
    const functions = offerTools ? functionsFor(request.tools) : undefined;
    const grammar: LlamaGrammar | null = forced?.grammar ?? (functions ? null : await responseGrammar(llama, request.responseFormat));

    const prompt = renderPromptTokens(session, history, functions);
    const promptTokens = prompt.length;
    if (promptTokens >= total - 1) {
      throw new HearthError(
        'CONTEXT_OVERFLOW',
        `The messages need ${promptTokens} tokens, and the model's context holds ${total}; shorten them or load the model with a larger context.`,
      );
    }
    const maxTokens = Math.max(1, Math.min(wantedTokens, total - promptTokens - 1));
    listener.onStart?.({ model: session.info.name, promptTokens, sources });

    const output = new ReplyOutput(listener, forced);
    const base: SharedOptions = {
      signal,
      stopOnAbortSignal: true,
      maxTokens,
      // What the request leaves out follows the saved defaults, as a chat in the UI does.
      temperature: request.temperature ?? settings.temperature,
      topP: request.topP ?? settings.topP,
      topK: request.topK ?? settings.topK,
      ...(request.seed === null ? {} : { seed: request.seed }),
      ...(request.stop.length > 0 ? { customStopTriggers: request.stop } : {}),
      repeatPenalty:
        settings.repeatPenalty > 1 || request.presencePenalty || request.frequencyPenalty
          ? {
              penalty: settings.repeatPenalty,
              lastTokens: PENALTY_LAST_TOKENS,
              presencePenalty: request.presencePenalty ?? 0,
              frequencyPenalty: request.frequencyPenalty ?? 0,
            }
          : false,
      onToken: (tokens) => output.countTokens(tokens.length),
      onTextChunk: (text) => output.text(text),
    };

    this.deps.runtime.markGenerating(true);
    let result: LlamaChatResponse<ChatModelFunctions>;
    try {
      // The free sequence that holds most of this conversation already evaluates only its new part.
      result = await session.pool.withSequence({ tokens: prompt, signal }, ({ chat }) =>
        functions
          ? chat.generateResponse(history, {
              ...base,
              functions,
              onFunctionCallParamsChunk: (chunk) => output.functionChunk(chunk.callIndex, chunk.functionName, chunk.paramsChunk),
            })
          : chat.generateResponse(history, { ...base, ...(grammar ? { grammar } : {}) }),
      );
    } finally {
      this.deps.runtime.markGenerating(false);
    }

    const stop = result.metadata.stopReason;
    const aborted = stop === 'abort' || signal.aborted;
    const toolCalls = output.finishToolCalls(result.functionCalls ?? []);
    const finishReason: FinishReason = stop === 'maxTokens' ? 'length' : toolCalls.length > 0 ? 'tool_calls' : 'stop';
    return {
      model: session.info.name,
      text: forced ? '' : output.written,
      toolCalls,
      finishReason,
      stopSequence: result.metadata.stopReason === 'customStopTrigger' ? result.metadata.customStopTrigger.filter((part) => typeof part === 'string').join('') : null,
      usage: { promptTokens, completionTokens: output.tokens },
      sources,
      aborted,
    };
  }
}

/** The options both kinds of generation take (grammar and functions exclude each other). */
type SharedOptions = Omit<
  LLamaChatGenerateResponseOptions,
  'grammar' | 'functions' | 'documentFunctionParams' | 'maxParallelFunctionCalls' | 'onFunctionCall' | 'onFunctionCallParamsChunk'
>;

/**
 * What the reply writes, routed to the listener: text, or (when a tool call is forced by a
 * grammar) the call's arguments; function calls node-llama-cpp parsed get ids as they start.
 */
class ReplyOutput {
  written = '';
  tokens = 0;
  private readonly callIds = new Map<number, string>();

  constructor(
    private readonly listener: CompletionListener,
    private readonly forced: ForcedTool | null,
  ) {
    if (forced?.tool) this.startCall(0, forced.tool.name);
  }

  countTokens(count: number): void {
    this.tokens += count;
  }

  text(text: string): void {
    if (text === '') return;
    this.written += text;
    if (!this.forced) this.listener.onText?.(text);
    else if (this.forced.tool) this.listener.onToolArguments?.(0, text);
  }

  functionChunk(index: number, name: string, params: string): void {
    if (!this.callIds.has(index)) this.startCall(index, name);
    if (params) this.listener.onToolArguments?.(index, params);
  }

  /** The reply's tool calls: the forced one (from the grammar's JSON), or the ones the model made. */
  finishToolCalls(calls: readonly { functionName: string; params: unknown }[]): ToolCall[] {
    if (this.forced?.tool) return [{ id: this.callIds.get(0)!, name: this.forced.tool.name, arguments: this.written.trim() }];
    if (this.forced) {
      const chosen = parseChoice(this.written);
      if (!chosen) return [];
      this.startCall(0, chosen.name);
      this.listener.onToolArguments?.(0, chosen.arguments);
      return [{ id: this.callIds.get(0)!, ...chosen }];
    }
    return calls.map((call, index) => {
      if (!this.callIds.has(index)) this.startCall(index, call.functionName);
      return { id: this.callIds.get(index)!, name: call.functionName, arguments: JSON.stringify(call.params ?? {}) };
    });
  }

  private startCall(index: number, name: string): void {
    const id = newId('call');
    this.callIds.set(index, id);
    this.listener.onToolCall?.(index, { id, name });
  }
}

/** `{name, arguments}` written under the several-tools grammar; null when cut short. */
function parseChoice(text: string): { name: string; arguments: string } | null {
  try {
    const value = JSON.parse(text) as { name?: unknown; arguments?: unknown };
    return typeof value.name === 'string' ? { name: value.name, arguments: JSON.stringify(value.arguments ?? {}) } : null;
  } catch {
    return null;
  }
}
