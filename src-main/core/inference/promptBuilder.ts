import { randomInt } from 'node:crypto';
import type { ChatHistoryItem, Token } from 'node-llama-cpp';
import type { GenerationParams, Message, ReceiptFields } from '#contract/dto';
import { HearthError } from '../common/hearthError';
import type { LoadedSession } from './llamaRuntime';

/** What a reply is generated from: the history that fits, and its exact tokens. */
export interface FittedHistory {
  history: ChatHistoryItem[];
  /** The exact tokens given to the model: the chat wrapper's rendering of the history, tokenized. */
  inputTokens: Token[];
  droppedMessageIds: string[];
}

/** The tokens the model is given for this history, as node-llama-cpp's LlamaChat renders and tokenizes it. */
export function promptTokens(session: LoadedSession, history: ChatHistoryItem[]): Token[] {
  const { contextText } = session.chatWrapper.generateContextState({
    chatHistory: [...history, { type: 'model', response: [] }],
  });
  return contextText.tokenize(session.model.tokenizer);
}

/**
 * The history that fits the context with room for a reply. Oldest turns go first; the
 * system prompt and the newest question always stay. What was left out is reported.
 * `earlier` is the thread's messages before the reply.
 */
export function fitHistory(
  session: LoadedSession,
  systemPrompt: string,
  earlier: readonly Message[],
  maxReplyTokens: number,
  sourcePrompt: string | null = null,
): FittedHistory {
  const total = session.context.contextSize;
  const budget = total - Math.min(maxReplyTokens, Math.floor(total / 2));

  // Retrieved sources ride in the system message: they were sized to their own budget
  // beforehand, so dropping old turns below never drops them.
  const systemText = [systemPrompt, sourcePrompt].filter((part) => !!part).join('\n\n');
  const system: ChatHistoryItem[] = systemText ? [{ type: 'system', text: systemText }] : [];
  let kept = earlier.filter((m) => (m.role === 'assistant' ? m.content.length > 0 : true));
  const dropped: string[] = [];
  for (;;) {
    const history = [...system, ...kept.map(toHistoryItem)];
    const inputTokens = promptTokens(session, history);
    if (inputTokens.length <= budget) return { history, inputTokens, droppedMessageIds: dropped };
    if (kept.length <= 1) {
      throw new HearthError(
        'CONTEXT_OVERFLOW',
        `The system prompt and question need ${inputTokens.length} tokens, leaving no room for a reply in the ${total}-token context.`,
      );
    }
    // Drop the oldest turn: a question together with its answer.
    const [first, second] = kept;
    const count = first!.role === 'user' && second?.role === 'assistant' && kept.length > 2 ? 2 : 1;
    dropped.push(...kept.slice(0, count).map((m) => m.id));
    kept = kept.slice(count);
  }
}

/**
 * The sampler's settings, all explicit so a receipt records what was used and a replay can use
 * it again: node-llama-cpp's defaults for top-k, top-p and min-p, no repetition penalty (as
 * before), and a seed chosen here when none is given (llama.cpp would take the clock's).
 */
/** How many of the last generated tokens a repeat penalty looks at (llama.cpp's default). */
export const PENALTY_LAST_TOKENS = 64;

/** The sampling a reply records in its receipt, from a chat's values; a penalty of 1 is none. */
export function samplingFor(
  params: Pick<GenerationParams, 'temperature' | 'topP' | 'topK' | 'repeatPenalty'>,
  maxTokens: number,
  seed: number | undefined,
): ReceiptFields['sampling'] {
  const penalized = params.repeatPenalty > 1;
  return {
    temperature: String(params.temperature),
    topP: String(params.topP),
    topK: params.topK,
    minP: '0',
    seed: seed ?? randomInt(0, 2 ** 32),
    maxTokens,
    repeatPenalty: String(params.repeatPenalty),
    frequencyPenalty: '0',
    presencePenalty: '0',
    penaltyLastTokens: penalized ? PENALTY_LAST_TOKENS : 0,
    penalizeNewLine: false,
  };
}

function toHistoryItem(message: Message): ChatHistoryItem {
  return message.role === 'user' ? { type: 'user', text: message.content } : { type: 'model', response: [message.content] };
}
