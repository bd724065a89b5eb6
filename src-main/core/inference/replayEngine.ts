import { stat } from 'node:fs/promises';
import type { ChatHistoryItem, ChatWrapper, Llama, LlamaModel, Token } from 'node-llama-cpp';
import type { InferenceBuild, ReplayReport } from '#contract/verify';
import { Sequencer } from '../common/async';
import { HearthError } from '../common/hearthError';
import type { Logger } from '../common/logger';
import { defaultThreads } from '../common/threads';
import { nodeLlamaCpp } from '../models/nodeLlamaCpp';
import { ZERO_BYTES32, textSha256, tokenIdsSha256 } from '../receipts/receiptFormat';
import { type GenerationSampling, sequenceSamplingOptions } from './generationSampling';
import { buildDifferences, describeBuild, GENERATION_BATCH_SIZE } from './inferenceBuild';

/** What a receipt says came out: how many tokens, their hash (tokenIdsSha256), and the text. */
export interface RecordedOutput {
  tokenCount: number;
  tokensSha256: string;
  text: string;
  /** Why generation stopped, as node-llama-cpp said (the receipt's stopReason), when known. */
  stopReason?: string;
}

/** What to replay: a model file, the exact tokens it was given, how it sampled, and what it answered. */
export interface ReplayRequest {
  modelPath: string;
  /** The exact input token ids (plain numbers: they may come from a file); checked against the vocabulary. */
  inputTokens: readonly number[];
  recorded: RecordedOutput;
  contextSize: number;
  /** The batch size the reply was generated with; GENERATION_BATCH_SIZE when absent. */
  batchSize?: number;
  sampling: GenerationSampling;
  /** The build the reply was generated with, when known: a replay on another one says so. */
  recordedBuild: InferenceBuild | null;
  /** CPU threads (the output does not depend on them: see README); the engine's default when absent. */
  threads?: number;
  signal?: AbortSignal;
}

/** A chat history as the model's chat wrapper writes it, tokenized: what the chat gives the model. */
export interface RenderedPrompt {
  tokens: number[];
  chatWrapper: string;
  /** sha256 of the model's chat template when the wrapper comes from it; zeros otherwise (as receipts write it). */
  chatTemplateSha256: string;
}

export interface ReplayEngineOptions {
  logger: Logger;
  /** CPU threads for replays; null uses defaultThreads (one per physical core but one). */
  threads?: number | null;
}

/** How far past the recorded length a replay goes on, to show how it continues. */
const CONTINUATION_TOKENS = 32;
const CONTINUATION_CHARS = 240;

/**
 * Replays a generation on the CPU, token by token, from the exact input tokens and the
 * recorded sampling, and compares the output with the receipt's. It runs on its own CPU Llama
 * instance (never the chat's GPU), one replay at a time, and keeps the last model loaded so
 * verifying several replies of one model loads it once.
 */
export class ReplayEngine {
  private llamaPromise: Promise<Llama> | null = null;
  private loaded: { key: string; model: LlamaModel } | null = null;
  private readonly queue = new Sequencer();

  constructor(private readonly options: ReplayEngineOptions) {}

  /** The build replays run on (starting the CPU backend if needed). */
  async build(): Promise<InferenceBuild> {
    return describeBuild(await this.llama());
  }

  replay(request: ReplayRequest): Promise<ReplayReport> {
    return this.queue.queue(() => this.run(request));
  }

  /**
   * The tokens the chat gives a model for this history: the model's own chat template when it
   * has one, else node-llama-cpp's general wrapper (as LlamaRuntime chooses), tokenized.
   */
  render(modelPath: string, history: readonly ChatHistoryItem[]): Promise<RenderedPrompt> {
    return this.queue.queue(async () => {
      const model = await this.model(modelPath);
      const template = model.fileInfo.metadata.tokenizer?.chat_template;
      const fromModel = typeof template === 'string' && template.length > 0;
      const { GeneralChatWrapper, resolveChatWrapper } = await nodeLlamaCpp();
      const wrapper: ChatWrapper = fromModel ? resolveChatWrapper(model) : new GeneralChatWrapper();
      const { contextText } = wrapper.generateContextState({ chatHistory: [...history, { type: 'model', response: [] }] });
      return {
        tokens: [...contextText.tokenize(model.tokenizer)],
        chatWrapper: wrapper.wrapperName,
        chatTemplateSha256: fromModel ? textSha256(template) : ZERO_BYTES32,
      };
    });
  }

  /** Forgets the loaded model, so the next replay loads it again from the file. */
  unloadModel(): Promise<void> {
    return this.queue.queue(async () => {
      const loaded = this.loaded;
      this.loaded = null;
      if (loaded) await loaded.model.dispose();
    });
  }

  async dispose(): Promise<void> {
    await this.unloadModel();
    if (this.llamaPromise) await (await this.llamaPromise).dispose();
    this.llamaPromise = null;
  }

  private llama(): Promise<Llama> {
    this.llamaPromise ??= nodeLlamaCpp().then(({ getLlama, LlamaLogLevel }) => getLlama({
      gpu: false,
      build: 'never',
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => {
        const text = message.trim();
        if (text && (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal)) this.options.logger.error(`llama.cpp (replay): ${text}`);
      },
    }));
    return this.llamaPromise;
  }

  private async model(path: string): Promise<LlamaModel> {
    const info = await stat(path);
    const key = `${path}\0${info.size}\0${info.mtimeMs}`;
    if (this.loaded?.key === key) return this.loaded.model;
    if (this.loaded) {
      await this.loaded.model.dispose();
      this.loaded = null;
    }
    const llama = await this.llama();
    try {
      const model = await llama.loadModel({ modelPath: path, gpuLayers: 0 });
      this.loaded = { key, model };
      return model;
    } catch (error) {
      throw new HearthError('MODEL_LOAD_FAILED', `Could not load ${path} to replay: ${(error as Error).message}`, { cause: error });
    }
  }

  private async run(request: ReplayRequest): Promise<ReplayReport> {
    const started = performance.now();
    const here = await describeBuild(await this.llama());
    const differences = request.recordedBuild ? buildDifferences(request.recordedBuild, here) : [];
    const { recorded, sampling } = request;
    const report = (fields: Omit<ReplayReport, 'recordedTokens' | 'replayedOn' | 'buildDifferences' | 'elapsedMs'>): ReplayReport => ({
      ...fields,
      recordedTokens: recorded.tokenCount,
      replayedOn: here,
      buildDifferences: differences,
      elapsedMs: performance.now() - started,
    });
    const notReplayable = (message: string) =>
      report({ outcome: 'not-replayable', differsAt: null, recordedContinuation: null, replayedContinuation: null, endsWhereModelEnds: null, message });

    if (sampling.temperature > 0 && sampling.seed === null) {
      return notReplayable('Not replayable: the reply was sampled at random (temperature above 0) without a recorded seed.');
    }
    if (request.inputTokens.length === 0) return notReplayable('Not replayable: no input tokens.');
    if (request.inputTokens.length + recorded.tokenCount >= request.contextSize) {
      return notReplayable(
        `Not replayable: ${request.inputTokens.length} input and ${recorded.tokenCount} output tokens do not fit the recorded ${request.contextSize}-token context.`,
      );
    }
    const model = await this.model(request.modelPath);
    const vocabulary = vocabularySize(model);
    const strange = request.inputTokens.find((t) => !Number.isInteger(t) || t < 0 || t >= vocabulary);
    if (strange !== undefined) {
      return notReplayable(`Not replayable: token ${strange} is not in this model's ${vocabulary}-token vocabulary, so the tokens were made for another model.`);
    }

    const replayed = await this.generate(model, request);
    const modelEnds = replayed.next === undefined ? null : model.isEogToken(replayed.next);
    if (replayed.matched && recorded.stopReason === 'eogToken' && modelEnds === false) {
      // Every recorded token matches, but the model does not end its text where the receipt says it did.
      const more = model.detokenize([replayed.next!], false, replayed.tokens.slice(-8));
      return report({
        outcome: 'differs',
        differsAt: recorded.tokenCount,
        recordedContinuation: '',
        replayedContinuation: shorten(more),
        endsWhereModelEnds: false,
        message: `Differs at token ${recorded.tokenCount} of ${recorded.tokenCount}: the receipt says the model ended its text there, but the replay goes on${
          differences.length > 0 ? `; it ran on another build (${differences.join('; ')}): a difference is not proof of tampering.` : '.'
        }`,
      });
    }
    if (replayed.matched) {
      return report({
        outcome: 'identical',
        differsAt: null,
        recordedContinuation: null,
        replayedContinuation: null,
        endsWhereModelEnds: modelEnds,
        message: `Identical: replaying on the CPU gives the same ${recorded.tokenCount} output tokens (their sha256 matches the receipt).`,
      });
    }
    const { differsAt, offset, replayedText } = firstDifference(model, request.inputTokens.slice(-8) as Token[], replayed.tokens, recorded.text);
    const sameText = replayedText === recorded.text;
    const where = sameText
      ? `Differs: the replay writes the same text, but as other tokens (${replayed.tokens.length}, not the recorded ${recorded.tokenCount})`
      : `Differs at token ${differsAt} of ${recorded.tokenCount}${differsAt >= replayed.tokens.length ? ' (the replay ends there)' : ''}`;
    return report({
      outcome: 'differs',
      differsAt: sameText ? null : differsAt,
      recordedContinuation: shorten(recorded.text.slice(offset)),
      replayedContinuation: shorten(replayedText.slice(offset)),
      endsWhereModelEnds: null,
      message:
        differences.length > 0
          ? `${where}, but the replay ran on another build (${differences.join('; ')}): a difference is not proof of tampering.`
          : `${where}: on the same build and settings, the recorded output does not come from this input.`,
    });
  }

  /**
   * Generates from the input: the recorded number of tokens, plus one to see whether the model
   * ends there when they match; when they do not, on to a short continuation to show.
   */
  private async generate(model: LlamaModel, request: ReplayRequest): Promise<{ tokens: Token[]; matched: boolean; next: Token | undefined }> {
    const { sampling, signal, recorded } = request;
    const count = recorded.tokenCount;
    const tokens: Token[] = [];
    let matched = count === 0 && tokenIdsSha256([]) === recorded.tokensSha256;
    let next: Token | undefined;
    if (matched && count >= sampling.maxTokens) return { tokens, matched, next };
    const context = await model.createContext({
      contextSize: request.contextSize,
      sequences: 1,
      batchSize: request.batchSize ?? GENERATION_BATCH_SIZE,
      flashAttention: false,
      threads: request.threads ?? this.options.threads ?? defaultThreads(model.llama.cpuMathCores),
    });
    try {
      const sequence = context.getSequence();
      const options = sequenceSamplingOptions(sampling, () => tokens, model.tokens.nl);
      const stopAt = Math.min(sampling.maxTokens, count + CONTINUATION_TOKENS);
      for await (const token of sequence.evaluate([...request.inputTokens] as Token[], options)) {
        if (signal?.aborted) throw new HearthError('CANCELLED', 'The replay was cancelled.');
        if (matched) {
          next = token;
          break;
        }
        if (model.isEogToken(token)) break;
        tokens.push(token);
        if (tokens.length === count && tokenIdsSha256(tokens) === recorded.tokensSha256) {
          matched = true;
          if (count >= sampling.maxTokens) break;
        } else if (tokens.length >= stopAt) break;
      }
    } finally {
      await context.dispose();
    }
    return { tokens, matched, next };
  }
}

function vocabularySize(model: LlamaModel): number {
  const tokens = (model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: readonly unknown[] } } }).tokenizer?.ggml?.tokens;
  return tokens?.length ?? Number.MAX_SAFE_INTEGER;
}

/**
 * Where the replayed tokens' text parts from the recorded text: the index of the token that
 * writes the first differing character, and that character's offset. (A receipt keeps the
 * output tokens' hash, not the tokens; the recorded text says where they part.)
 */
function firstDifference(
  model: LlamaModel,
  before: readonly Token[],
  tokens: readonly Token[],
  recordedText: string,
): { differsAt: number; offset: number; replayedText: string } {
  // Detokenized after the prompt's last tokens, as the chat streams it (a leading space stays).
  const replayedText = model.detokenize(tokens, false, before);
  let offset = 0;
  while (offset < replayedText.length && offset < recordedText.length && replayedText[offset] === recordedText[offset]) offset++;
  for (let i = 1; i <= tokens.length; i++) {
    if (model.detokenize(tokens.slice(0, i), false, before).length > offset) return { differsAt: i - 1, offset, replayedText };
  }
  return { differsAt: tokens.length, offset, replayedText };
}

function shorten(text: string): string {
  return text.length > CONTINUATION_CHARS ? `${text.slice(0, CONTINUATION_CHARS - 1)}…` : text;
}
