import type { LLamaChatGenerateResponseOptions, SequenceEvaluateOptions, Token } from 'node-llama-cpp';
import type { ReceiptFields } from '#contract/dto';

/** Penalties on recently generated tokens, as LlamaChat applies them. */
export interface RepeatPenaltySettings {
  /** Divides a repeated token's probability; 1 turns it off. */
  penalty: number;
  frequencyPenalty: number;
  presencePenalty: number;
  /** How many of the last generated tokens are penalized. */
  lastTokens: number;
  /** Whether the newline token is penalized too. */
  penalizeNewLine: boolean;
}

/** Everything that decides which token comes next, besides the model and the input. */
export interface GenerationSampling {
  /** 0 is greedy: the most likely token every time, and no seed is needed. */
  temperature: number;
  topK: number;
  topP: number;
  minP: number;
  /** The random seed; null means none was fixed, so only a greedy reply can be replayed. */
  seed: number | null;
  maxTokens: number;
  /** null: no repeat penalty. */
  repeatPenalty: RepeatPenaltySettings | null;
}

/**
 * A receipt's sampling as numbers. No penalty is what the chat uses (repeatPenalty false):
 * penalties that change nothing (1, 0, 0) or look at no tokens read as none.
 */
export function samplingFromReceipt(sampling: ReceiptFields['sampling']): GenerationSampling {
  const penalty = Number(sampling.repeatPenalty);
  const frequencyPenalty = Number(sampling.frequencyPenalty);
  const presencePenalty = Number(sampling.presencePenalty);
  const noPenalty = sampling.penaltyLastTokens === 0 || (penalty === 1 && frequencyPenalty === 0 && presencePenalty === 0);
  return {
    temperature: Number(sampling.temperature),
    topK: sampling.topK,
    topP: Number(sampling.topP),
    minP: Number(sampling.minP),
    seed: sampling.seed,
    maxTokens: sampling.maxTokens,
    repeatPenalty: noPenalty
      ? null
      : { penalty, frequencyPenalty, presencePenalty, lastTokens: sampling.penaltyLastTokens, penalizeNewLine: sampling.penalizeNewLine },
  };
}

/** The options that make LlamaChat.generateResponse sample exactly as `sampling` says. */
export function chatSamplingOptions(
  sampling: GenerationSampling,
): Pick<LLamaChatGenerateResponseOptions, 'temperature' | 'topK' | 'topP' | 'minP' | 'seed' | 'maxTokens' | 'repeatPenalty'> {
  return {
    temperature: sampling.temperature,
    topK: sampling.topK,
    topP: sampling.topP,
    minP: sampling.minP,
    ...(sampling.seed === null ? {} : { seed: sampling.seed }),
    maxTokens: sampling.maxTokens,
    repeatPenalty: sampling.repeatPenalty === null ? false : { ...sampling.repeatPenalty },
  };
}

/**
 * The same sampling for LlamaContextSequence.evaluate, given the tokens generated so far:
 * the penalized tokens are chosen the way LlamaChat chooses them (the last `lastTokens`
 * generated, without the newline token unless it is penalized too).
 */
export function sequenceSamplingOptions(
  sampling: GenerationSampling,
  generated: () => readonly Token[],
  newLine: Token | null,
): SequenceEvaluateOptions {
  const penalty = sampling.repeatPenalty;
  return {
    temperature: sampling.temperature,
    topK: sampling.topK,
    topP: sampling.topP,
    minP: sampling.minP,
    ...(sampling.seed === null ? {} : { seed: sampling.seed }),
    yieldEogToken: true,
    ...(penalty === null || penalty.lastTokens <= 0
      ? {}
      : {
          repeatPenalty: {
            punishTokens: () => {
              const recent = generated().slice(-penalty.lastTokens);
              return penalty.penalizeNewLine || newLine === null ? recent : recent.filter((token) => token !== newLine);
            },
            maxPunishTokens: penalty.lastTokens,
            penalty: penalty.penalty,
            frequencyPenalty: penalty.frequencyPenalty,
            presencePenalty: penalty.presencePenalty,
          },
        }),
  };
}
