import type { MessageSources } from '#contract/dto';

/**
 * A completion request as the core sees it, whichever API it came through (OpenAI's chat
 * completions, Anthropic's messages): the adapters translate their wire format into this and
 * the result back. Every field is explicit; null means "not given, use the default".
 */

/** One tool call the model made (or made earlier, in a conversation sent back). */
export interface ToolCall {
  id: string;
  name: string;
  /** The arguments as JSON text, as both APIs carry them. */
  arguments: string;
}

export type CompletionMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls: ToolCall[] }
  | { role: 'tool'; toolCallId: string; content: string };

/** A JSON schema object as the client sent it (node-llama-cpp turns it into a grammar). */
export type JsonSchema = Readonly<Record<string, unknown>>;

export interface ToolSpec {
  name: string;
  description: string | null;
  /** JSON schema of the arguments; null: the tool takes none. */
  parameters: JsonSchema | null;
}

/** auto: the model decides; none: no tools; required: some tool; tool: that one. */
export type ToolChoice = { type: 'auto' } | { type: 'none' } | { type: 'required' } | { type: 'tool'; name: string };

export type ResponseFormat = { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; schema: JsonSchema };

export interface CompletionRequest {
  /** A library model's id or name; null: the loaded model, else the default chat model. */
  model: string | null;
  messages: CompletionMessage[];
  maxTokens: number | null;
  temperature: number | null;
  topP: number | null;
  topK: number | null;
  seed: number | null;
  stop: string[];
  presencePenalty: number | null;
  frequencyPenalty: number | null;
  responseFormat: ResponseFormat;
  tools: ToolSpec[];
  toolChoice: ToolChoice;
  /** Collection ids to ground the answer in (Hearth's extension); empty: none. */
  collections: string[];
}

export type FinishReason = 'stop' | 'length' | 'tool_calls';

export interface CompletionUsage {
  promptTokens: number;
  completionTokens: number;
}

/** What the adapters stream as the reply is written. */
export interface CompletionListener {
  /** Once the request has its turn and its prompt is known, before the first token. */
  onStart?(start: { model: string; promptTokens: number; sources: MessageSources | null }): void;
  onText?(text: string): void;
  /** A tool call begins (index counts calls in this reply). */
  onToolCall?(index: number, call: { id: string; name: string }): void;
  /** More of a tool call's arguments (JSON text). */
  onToolArguments?(index: number, text: string): void;
}

export interface CompletionResult {
  /** The model's name in the library. */
  model: string;
  text: string;
  toolCalls: ToolCall[];
  finishReason: FinishReason;
  /** Which stop sequence ended the reply, when one did. */
  stopSequence: string | null;
  usage: CompletionUsage;
  /** The passages the answer was grounded in (when collections were asked for). */
  sources: MessageSources | null;
  /** True when the caller went away and the reply was cut short. */
  aborted: boolean;
}
