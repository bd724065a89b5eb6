import type { ChatHistoryItem, ChatModelFunctionCall, ChatModelFunctions, GbnfJsonSchema, Llama, LlamaGrammar, Token } from 'node-llama-cpp';
import { HearthError } from '../common/hearthError';
import type { CompletionMessage, JsonSchema, ResponseFormat, ToolChoice, ToolSpec } from './completionTypes';
import type { LoadedSession } from './llamaRuntime';

/**
 * Turns an API conversation into node-llama-cpp's chat history. Tool results are attached to
 * the calls they answer (node-llama-cpp renders a call with its result in the model's turn);
 * retrieved sources ride in the first system message, as in the UI's scoped chats. The history
 * ends with a model turn: an empty one to answer in, or the last assistant turn to continue
 * (after tool results, or a prefilled reply).
 */
export function chatHistoryFor(messages: readonly CompletionMessage[], sourcePrompt: string | null): ChatHistoryItem[] {
  const results = new Map<string, string>();
  for (const message of messages) if (message.role === 'tool') results.set(message.toolCallId, message.content);
  const called = new Set<string>();
  const history: ChatHistoryItem[] = [];
  for (const message of messages) {
    if (message.role === 'system') history.push({ type: 'system', text: message.content });
    else if (message.role === 'user') history.push({ type: 'user', text: message.content });
    else if (message.role === 'assistant') {
      const calls = message.toolCalls.map((call): ChatModelFunctionCall => {
        called.add(call.id);
        return { type: 'functionCall', name: call.name, params: parseArguments(call.arguments, call.name), result: results.get(call.id) ?? null };
      });
      history.push({ type: 'model', response: [...(message.content ? [message.content] : []), ...calls] });
    } else if (!called.has(message.toolCallId)) {
      throw new HearthError('BAD_INPUT', `A tool message answers the tool call "${message.toolCallId}", which no earlier assistant message made.`);
    }
  }
  if (sourcePrompt) {
    const first = history[0];
    if (first?.type === 'system') history[0] = { type: 'system', text: `${first.text}\n\n${sourcePrompt}` };
    else history.unshift({ type: 'system', text: sourcePrompt });
  }
  if (history.at(-1)?.type !== 'model') history.push({ type: 'model', response: [] });
  return history;
}

/** The question retrieval searches for: the last user message. */
export function lastQuestion(messages: readonly CompletionMessage[]): string {
  return messages.findLast((m) => m.role === 'user')?.content ?? '';
}

/** Tokens the model reads for this history (with the tools' documentation, when offered). */
export function countPromptTokens(session: LoadedSession, history: ChatHistoryItem[], functions: ChatModelFunctions | undefined): number {
  return renderPromptTokens(session, history, functions).length;
}

/** The prompt's tokens as the chat wrapper writes them (the sequence pool matches them to a warm sequence). */
export function renderPromptTokens(session: LoadedSession, history: ChatHistoryItem[], functions: ChatModelFunctions | undefined): Token[] {
  const { contextText } = session.chatWrapper.generateContextState({ chatHistory: history, availableFunctions: functions });
  return contextText.tokenize(session.model.tokenizer);
}

/** The tools as node-llama-cpp functions, for the model to call when it decides to. */
export function functionsFor(tools: readonly ToolSpec[]): ChatModelFunctions {
  const functions: Record<string, ChatModelFunctions[string]> = {};
  for (const tool of tools) {
    functions[tool.name] = {
      ...(tool.description ? { description: tool.description } : {}),
      ...(tool.parameters ? { params: asGbnf(tool.parameters) } : {}),
    };
  }
  return functions;
}

/** How a reply's tool call is forced, when tool_choice asks for one: a grammar for its JSON. */
export interface ForcedTool {
  grammar: LlamaGrammar;
  /** The one tool whose arguments the grammar writes; null: `{name, arguments}` for any of several. */
  tool: ToolSpec | null;
}

const NO_ARGUMENTS: JsonSchema = { type: 'object', properties: {} };

/** The grammar that makes the model call a tool (a named one, or one of several), or null. */
export async function forcedTool(llama: Llama, tools: readonly ToolSpec[], choice: ToolChoice): Promise<ForcedTool | null> {
  if (choice.type !== 'required' && choice.type !== 'tool') return null;
  if (tools.length === 0) throw new HearthError('BAD_INPUT', 'tool_choice asks for a tool call, but no tools were given.');
  const named = choice.type === 'tool' ? tools.find((tool) => tool.name === choice.name) : tools.length === 1 ? tools[0]! : null;
  if (choice.type === 'tool' && !named) throw new HearthError('BAD_INPUT', `tool_choice names "${choice.name}", which is not among the tools.`);
  if (named) return { grammar: await grammarFor(llama, named.parameters ?? NO_ARGUMENTS, `the parameters of ${named.name}`), tool: named };
  const schema: JsonSchema = {
    oneOf: tools.map((tool) => ({
      type: 'object',
      properties: { name: { const: tool.name }, arguments: tool.parameters ?? NO_ARGUMENTS },
    })),
  };
  return { grammar: await grammarFor(llama, schema, 'the tools'), tool: null };
}

/** The grammar for response_format: any JSON object, or JSON matching a schema; null for text. */
export async function responseGrammar(llama: Llama, format: ResponseFormat): Promise<LlamaGrammar | null> {
  if (format.type === 'text') return null;
  if (format.type === 'json_object') return llama.getGrammarFor('json');
  return grammarFor(llama, format.schema, 'response_format.json_schema');
}

async function grammarFor(llama: Llama, schema: JsonSchema, what: string): Promise<LlamaGrammar> {
  try {
    return await llama.createGrammarForJsonSchema<GbnfJsonSchema>(asGbnf(schema));
  } catch (error) {
    throw new HearthError('BAD_INPUT', `The JSON schema of ${what} cannot be enforced: ${(error as Error).message}`, { cause: error });
  }
}

/** node-llama-cpp checks the schema itself when it builds the grammar (and says what it cannot take). */
function asGbnf(schema: JsonSchema): GbnfJsonSchema {
  return schema as unknown as GbnfJsonSchema;
}

function parseArguments(text: string, name: string): unknown {
  try {
    return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
  } catch {
    throw new HearthError('BAD_INPUT', `The arguments of an earlier call to ${name} are not valid JSON.`);
  }
}
