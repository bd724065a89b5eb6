import { stat } from 'node:fs/promises';
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel, type Token } from 'node-llama-cpp';
import type { InferenceBuild, ReplayReport } from '#contract/verify';
import { Sequencer } from '../common/async';
import { HearthError } from '../common/hearthError';
import type { Logger } from '../common/logger';
import { type GenerationSampling, sequenceSamplingOptions } from './generationSampling';
import { buildDifferences, describeBuild, GENERATION_BATCH_SIZE } from './inferenceBuild';

/** What to replay: a model file, the exact tokens it was given, how it sampled, and what it answered. */
export interface ReplayRequest {
  modelPath: string;
  /** Token ids as recorded (plain numbers: they come from JSON); checked against the vocabulary. */
  inputTokens: readonly number[];
  recordedOutputTokens: readonly number[];
  contextSize: number;
  sampling: GenerationSampling;
  /** The build the reply was generated with, when known: a replay on another one says so. */
  recordedBuild: InferenceBuild | null;
  /** CPU threads; the engine's default when absent. */
  threads?: number;
  signal?: AbortSignal;
}

export interface ReplayEngineOptions {
  logger: Logger;
  /** CPU threads for replays; null uses one per physical core. */
  threads?: number | null;
}

/** How many tokens of each side are shown after a first difference. */
const CONTINUATION_TOKENS = 32;
const CONTINUATION_CHARS = 240;

/**
 * Replays a generation on the CPU, token by token, from the recorded input tokens and
 * sampling settings, and compares the output with the recorded one. It runs on its own CPU
 * Llama instance (never the chat's GPU), one replay at a time, and keeps the last model loaded
 * so verifying several replies of one model loads it once.
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
    this.llamaPromise ??= getLlama({
      gpu: false,
      build: 'never',
      logLevel: LlamaLogLevel.warn,
      logger: (level, message) => {
        const text = message.trim();
        if (text && (level === LlamaLogLevel.error || level === LlamaLogLevel.fatal)) this.options.logger.error(`llama.cpp (replay): ${text}`);
      },
    });
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
    const llama = await this.llama();
    const here = await describeBuild(llama);
    const differences = request.recordedBuild ? buildDifferences(request.recordedBuild, here) : [];
    const report = (fields: Omit<ReplayReport, 'recordedTokens' | 'replayedOn' | 'buildDifferences' | 'elapsedMs'>): ReplayReport => ({
      ...fields,
      recordedTokens: request.recordedOutputTokens.length,
      replayedOn: here,
      buildDifferences: differences,
      elapsedMs: performance.now() - started,
    });
    const notReplayable = (message: string) =>
      report({ outcome: 'not-replayable', differsAt: null, recordedContinuation: null, replayedContinuation: null, endsWhereModelEnds: null, message });

    const { sampling } = request;
    if (sampling.temperature > 0 && sampling.seed === null) {
      return notReplayable('Not replayable: the reply was sampled at random (temperature above 0) without a recorded seed.');
    }
    if (request.inputTokens.length === 0) return notReplayable('Not replayable: no input tokens were recorded.');
    if (request.inputTokens.length + request.recordedOutputTokens.length >= request.contextSize) {
      return notReplayable(
        `Not replayable: ${request.inputTokens.length} input and ${request.recordedOutputTokens.length} output tokens do not fit the recorded ${request.contextSize}-token context.`,
      );
    }
    const model = await this.model(request.modelPath);
    const vocabulary = vocabularySize(model);
    const strange = [...request.inputTokens, ...request.recordedOutputTokens].find((t) => !Number.isInteger(t) || t < 0 || t >= vocabulary);
    if (strange !== undefined) {
      return notReplayable(`Not replayable: token ${strange} is not in this model's ${vocabulary}-token vocabulary, so the tokens were made for another model.`);
    }

    const replayed = await this.generate(model, request);
    const recorded = request.recordedOutputTokens as readonly Token[];
    const differsAt = firstDifference(recorded, replayed.tokens);
    if (differsAt === null) {
      return report({
        outcome: 'identical',
        differsAt: null,
        recordedContinuation: null,
        replayedContinuation: null,
        endsWhereModelEnds: replayed.next === undefined ? null : model.isEogToken(replayed.next),
        message: `Identical: replaying on the CPU gives the same ${recorded.length} output tokens.`,
      });
    }
    const show = (tokens: readonly Token[]) =>
      shorten(model.detokenize(tokens.slice(differsAt, differsAt + CONTINUATION_TOKENS), false, tokens.slice(Math.max(0, differsAt - 8), differsAt)));
    const ended = differsAt >= replayed.tokens.length;
    const replayedContinuation = ended ? '' : show(replayed.tokens);
    const where = `Differs at token ${differsAt} of ${recorded.length}${ended ? ' (the replay stops there: end of text or the token limit)' : ''}`;
    return report({
      outcome: 'differs',
      differsAt,
      recordedContinuation: show(recorded),
      replayedContinuation,
      endsWhereModelEnds: null,
      message:
        differences.length > 0
          ? `${where}, but the replay ran on another build (${differences.join('; ')}): a difference is not proof of tampering.`
          : `${where}: on the same build and settings the recorded output does not come from this input.`,
    });
  }

  /**
   * Generates from the input: the recorded length when it matches (plus one token, to see
   * whether the model ends there), or a short continuation past the first difference.
   */
  private async generate(model: LlamaModel, request: ReplayRequest): Promise<{ tokens: Token[]; next: Token | undefined }> {
    const { sampling, signal } = request;
    const recorded = request.recordedOutputTokens as readonly Token[];
    const context = await model.createContext({
      contextSize: request.contextSize,
      sequences: 1,
      batchSize: GENERATION_BATCH_SIZE,
      flashAttention: false,
      threads: request.threads ?? this.options.threads ?? model.llama.cpuMathCores,
    });
    const tokens: Token[] = [];
    let next: Token | undefined;
    try {
      const sequence = context.getSequence();
      const options = sequenceSamplingOptions(sampling, () => tokens, model.tokens.nl);
      // While the replay matches, take the recorded length (plus one token, to see whether the
      // model ends there); after a first difference, a short continuation to show.
      let matching = true;
      let stopAt = Math.min(sampling.maxTokens, recorded.length);
      for await (const token of sequence.evaluate([...request.inputTokens] as Token[], options)) {
        if (signal?.aborted) throw new HearthError('CANCELLED', 'The replay was cancelled.');
        if (matching && tokens.length === recorded.length) {
          next = token;
          break;
        }
        if (model.isEogToken(token)) break;
        tokens.push(token);
        const i = tokens.length - 1;
        if (matching && recorded[i] !== token) {
          matching = false;
          stopAt = Math.min(sampling.maxTokens, i + CONTINUATION_TOKENS);
        }
        if (tokens.length >= stopAt && (!matching || stopAt === sampling.maxTokens)) break;
      }
    } finally {
      await context.dispose();
    }
    return { tokens, next };
  }
}

function vocabularySize(model: LlamaModel): number {
  const tokens = (model.fileInfo.metadata as { tokenizer?: { ggml?: { tokens?: readonly unknown[] } } }).tokenizer?.ggml?.tokens;
  return tokens?.length ?? Number.MAX_SAFE_INTEGER;
}

/** The index of the first token where the two differ (a missing token counts), or null. */
function firstDifference(recorded: readonly Token[], replayed: readonly Token[]): number | null {
  for (let i = 0; i < recorded.length; i++) if (recorded[i] !== replayed[i]) return i;
  return null;
}

function shorten(text: string): string {
  return text.length > CONTINUATION_CHARS ? `${text.slice(0, CONTINUATION_CHARS - 1)}…` : text;
}
