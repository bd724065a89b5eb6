import type { CompletionMessage, CompletionRequest, ToolChoice, ToolSpec } from '../../core/inference/completionTypes';
import { asArray, asObject, asString, optBoolean, optional, optNumber, optString, ParamError, stringList, unsupported, type JsonObject } from './apiInput';

export interface AnthropicRequest {
  completion: CompletionRequest;
  stream: boolean;
}

/**
 * Reads an Anthropic Messages request: system prompt, user/assistant turns of text, tool_use and
 * tool_result blocks, max_tokens, stop_sequences, sampling and tools. Images, documents,
 * extended thinking and server tools are refused, never ignored.
 */
export function parseAnthropic(raw: unknown): AnthropicRequest {
  const body = asObject(raw, 'body');
  const maxTokens = optNumber(body, 'max_tokens', { min: 1, max: 1_000_000, integer: true });
  if (maxTokens === null) throw new ParamError('max_tokens', 'max_tokens is required.');
  const thinking = optional(body, 'thinking');
  if (thinking !== null && asObject(thinking, 'thinking').type !== 'disabled') unsupported('thinking', 'Extended thinking is not supported.');
  const system = optional(body, 'system');
  const messages: CompletionMessage[] = system === null ? [] : [{ role: 'system', content: textOf(system, 'system') }];
  asArray(body.messages, 'messages').forEach((m, i) => messages.push(...parseMessage(m, `messages[${i}]`)));
  const tools = parseTools(body);
  const model = optString(body, 'model');
  return {
    completion: {
      model: model?.trim() ? model : null,
      messages,
      maxTokens,
      temperature: optNumber(body, 'temperature', { min: 0, max: 1 }),
      topP: optNumber(body, 'top_p', { min: 0, max: 1 }),
      topK: optNumber(body, 'top_k', { min: 0, max: 1_000_000, integer: true }),
      seed: null,
      stop: stringList(body, 'stop_sequences', 16),
      presencePenalty: null,
      frequencyPenalty: null,
      responseFormat: { type: 'text' },
      tools,
      toolChoice: parseToolChoice(optional(body, 'tool_choice'), tools),
      collections: [],
    },
    stream: optBoolean(body, 'stream') ?? false,
  };
}

/** One Anthropic turn: tool results become tool messages; the rest keeps its role. */
function parseMessage(raw: unknown, param: string): CompletionMessage[] {
  const message = asObject(raw, param);
  const role = asString(message.role, `${param}.role`);
  if (role !== 'user' && role !== 'assistant') throw new ParamError(`${param}.role`, `${param}.role must be "user" or "assistant".`);
  if (typeof message.content === 'string') return [role === 'user' ? { role, content: message.content } : { role, content: message.content, toolCalls: [] }];
  const out: CompletionMessage[] = [];
  let text = '';
  const toolCalls: { id: string; name: string; arguments: string }[] = [];
  asArray(message.content, `${param}.content`).forEach((b, i) => {
    const where = `${param}.content[${i}]`;
    const block = asObject(b, where);
    const type = asString(block.type, `${where}.type`);
    if (type === 'text') text += asString(block.text, `${where}.text`);
    else if (type === 'tool_use' && role === 'assistant') {
      toolCalls.push({ id: asString(block.id, `${where}.id`), name: asString(block.name, `${where}.name`), arguments: JSON.stringify(block.input ?? {}) });
    } else if (type === 'tool_result' && role === 'user') {
      const content = optional(block, 'content');
      const result = content === null ? '' : textOf(content, `${where}.content`);
      out.push({ role: 'tool', toolCallId: asString(block.tool_use_id, `${where}.tool_use_id`), content: block.is_error === true ? `Error: ${result}` : result });
    } else if (type === 'image' || type === 'document') unsupported(where, `${type === 'image' ? 'Images' : 'Documents'} are not supported: Hearth serves text models.`);
    else if (type === 'thinking' || type === 'redacted_thinking') return;
    else unsupported(where, `Content blocks of type "${type}" are not supported in ${role} messages.`);
  });
  if (role === 'assistant') out.push({ role, content: text, toolCalls });
  else if (text) out.push({ role, content: text });
  return out;
}

/** A string, or text blocks joined. */
function textOf(raw: unknown, param: string): string {
  if (typeof raw === 'string') return raw;
  return asArray(raw, param)
    .map((b, i) => {
      const block = asObject(b, `${param}[${i}]`);
      if (block.type !== 'text') unsupported(`${param}[${i}]`, 'Only text blocks are supported here.');
      return asString(block.text, `${param}[${i}].text`);
    })
    .join('\n');
}

function parseTools(body: JsonObject): ToolSpec[] {
  const raw = optional(body, 'tools');
  if (raw === null) return [];
  return asArray(raw, 'tools').map((t, i): ToolSpec => {
    const tool = asObject(t, `tools[${i}]`);
    const type = optString(tool, 'type', `tools[${i}].type`);
    if (type !== null && type !== 'custom') unsupported(`tools[${i}].type`, `Server tools ("${type}") are not supported; define client tools with input_schema.`);
    return {
      name: asString(tool.name, `tools[${i}].name`),
      description: optString(tool, 'description', `tools[${i}].description`),
      parameters: asObject(tool.input_schema, `tools[${i}].input_schema`),
    };
  });
}

function parseToolChoice(raw: unknown, tools: readonly ToolSpec[]): ToolChoice {
  if (raw === null) return tools.length > 0 ? { type: 'auto' } : { type: 'none' };
  const choice = asObject(raw, 'tool_choice');
  const type = asString(choice.type, 'tool_choice.type');
  if (type === 'auto' || type === 'none') return { type };
  if (type === 'any') return { type: 'required' };
  if (type === 'tool') return { type: 'tool', name: asString(choice.name, 'tool_choice.name') };
  throw new ParamError('tool_choice.type', 'tool_choice.type must be "auto", "any", "tool" or "none".');
}
