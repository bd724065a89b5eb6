import {
  GeneralChatWrapper,
  getLlama,
  LlamaChat,
  LlamaLogLevel,
  type ChatHistoryItem,
  type Llama,
  type LlamaContext,
  type LlamaModel,
  type Token,
} from 'node-llama-cpp';
import { chatSamplingOptions, type GenerationSampling } from '../../src-main/core/inference/generationSampling';
import { GENERATION_BATCH_SIZE } from '../../src-main/core/inference/inferenceBuild';
import type { RecordedOutput } from '../../src-main/core/inference/replayEngine';
import { tokenIdsSha256 } from '../../src-main/core/receipts/receiptFormat';

/** A reply as the chat path generates it, with the exact tokens the model was given and gave. */
export interface RecordedReply {
  inputTokens: Token[];
  outputTokens: Token[];
  text: string;
  /** As a receipt records the output: count, hash, text. */
  output: RecordedOutput;
}

/**
 * Generates the way LlamaRuntime and ChatService do (one LlamaChat on one sequence, reused
 * from reply to reply so the context is shared, GeneralChatWrapper for models without a chat
 * template, the fixed batch size), recording input and output tokens.
 */
export class ChatPathRecorder {
  private constructor(
    readonly llama: Llama,
    readonly model: LlamaModel,
    private readonly context: LlamaContext,
    private readonly chat: LlamaChat,
    private readonly wrapper: GeneralChatWrapper,
  ) {}

  static async open(modelPath: string, options: { contextSize: number; threads: number }): Promise<ChatPathRecorder> {
    const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
    const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
    const context = await model.createContext({
      contextSize: options.contextSize,
      sequences: 1,
      batchSize: GENERATION_BATCH_SIZE,
      flashAttention: false,
      threads: options.threads,
    });
    const wrapper = new GeneralChatWrapper();
    const chat = new LlamaChat({ contextSequence: context.getSequence(), chatWrapper: wrapper, autoDisposeSequence: false });
    return new ChatPathRecorder(llama, model, context, chat, wrapper);
  }

  async reply(history: ChatHistoryItem[], sampling: GenerationSampling): Promise<RecordedReply> {
    const chatHistory: ChatHistoryItem[] = [...history, { type: 'model', response: [] }];
    const inputTokens = this.wrapper.generateContextState({ chatHistory }).contextText.tokenize(this.model.tokenizer);
    const outputTokens: Token[] = [];
    const result = await this.chat.generateResponse(chatHistory, {
      ...chatSamplingOptions(sampling),
      onToken: (tokens) => outputTokens.push(...tokens),
    });
    // The tokens counted above are the ones the model was given: the sequence starts with them.
    const given = this.chat.sequence.contextTokens.slice(0, inputTokens.length);
    if (given.some((token, i) => token !== inputTokens[i])) throw new Error('the recorded input tokens are not what the model was given');
    return { inputTokens, outputTokens, text: result.response, output: { tokenCount: outputTokens.length, tokensSha256: tokenIdsSha256(outputTokens), text: result.response } };
  }

  /** What a receipt would record of these output tokens (their text as the model writes it after the input). */
  recorded(reply: Pick<RecordedReply, 'inputTokens'>, outputTokens: readonly Token[]): RecordedOutput {
    return {
      tokenCount: outputTokens.length,
      tokensSha256: tokenIdsSha256(outputTokens),
      text: this.model.detokenize(outputTokens, false, reply.inputTokens.slice(-8)),
    };
  }

  async close(): Promise<void> {
    this.chat.dispose();
    await this.context.dispose();
    await this.model.dispose();
    await this.llama.dispose();
  }
}

/** n different short prompts. */
export function prompts(n: number): string[] {
  const who = ['a cat', 'a little girl', 'a dog', 'an old man', 'a bird', 'a boy', 'a frog', 'a princess', 'a bear', 'a fish'];
  const what = ['found a ball', 'lost a toy', 'went to the park', 'saw the sun', 'wanted a cake'];
  return Array.from({ length: n }, (_, i) => `Tell me about ${who[i % who.length]!} who ${what[Math.floor(i / who.length) % what.length]!}. ${i}`);
}
