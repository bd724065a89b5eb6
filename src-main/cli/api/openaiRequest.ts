import type { CompletionMessage, CompletionRequest, ResponseFormat, ToolCall, ToolChoice, ToolSpec } from '../../core/inference/completionTypes';
import {
  asArray,
  asObject,
  asString,
  isObject,
  optBoolean,
  optional,
  optNumber,
  optString,
  ParamError,
  stringList,
  unsupported,
  type JsonObject,
} from './apiInput';

export interface OpenAiChatRequest {
  completion: CompletionRequest;
  stream: boolean;
  includeUsage: boolean;
  /** The collections named in `hearth.collections` (ids or names, resolved by the router). */
  collections: string[];
}

const MAX_STOP = 16;

/**
 * Reads an OpenAI chat completion request. What Hearth cannot do (several choices, logprobs,
 * images and audio, logit bias, predicted outputs) is refused with the parameter's name, never
 * ignored; fields that change nothing here (user, metadata, store, service_tier) are accepted.
 */
export function parseOpenAiChat(raw: unknown): OpenAiChatRequest {
  const body = asObject(raw, 'body');
  const n = optNumber(body, 'n', { min: 1, max: 128, integer: true });
  if (n !== null && n !== 1) unsupported('n', 'Only one choice per request is supported (n must be 1); send several requests instead.');
  if (optBoolean(body, 'logprobs') === true) unsupported('logprobs', 'logprobs are not supported.');
  if (optional(body, 'top_logprobs') !== null) unsupported('top_logprobs', 'top_logprobs are not supported.');
  const bias = optional(body, 'logit_bias');
  if (bias !== null && (!isObject(bias) || Object.keys(bias).length > 0)) unsupported('logit_bias', 'logit_bias is not supported.');
  if (optional(body, 'audio') !== null) unsupported('audio', 'Audio output is not supported.');
  const modalities = optional(body, 'modalities');
  if (modalities !== null && asArray(modalities, 'modalities').some((m) => m !== 'text')) unsupported('modalities', 'Only text output is supported.');
  if (optional(body, 'prediction') !== null) unsupported('prediction', 'Predicted outputs are not supported.');
  if (optional(body, 'functions') !== null || optional(body, 'function_call') !== null) {
    unsupported('functions', 'The deprecated functions/function_call parameters are not supported; use tools and tool_choice.');
  }

  const maxTokens = optNumber(body, 'max_completion_tokens', { min: 1, max: 1_000_000, integer: true }) ?? optNumber(body, 'max_tokens', { min: 1, max: 1_000_000, integer: true });
  const streamOptions = optional(body, 'stream_options');
  const tools = parseTools(body);
  const hearth = optional(body, 'hearth');
  const collections = hearth === null ? [] : stringList(asObject(hearth, 'hearth'), 'collections', 64, 'hearth.collections');
  const model = optString(body, 'model');
  return {
    completion: {
      model: model?.trim() ? model : null,
      messages: asArray(body.messages, 'messages').map((m, i) => parseMessage(m, `messages[${i}]`)),
      maxTokens,
      temperature: optNumber(body, 'temperature', { min: 0, max: 2 }),
      topP: optNumber(body, 'top_p', { min: 0, max: 1 }),
      topK: null,
      seed: optNumber(body, 'seed', { min: -(2 ** 53), max: 2 ** 53, integer: true }),
      stop: stringList(body, 'stop', MAX_STOP),
      presencePenalty: optNumber(body, 'presence_penalty', { min: -2, max: 2 }),
      frequencyPenalty: optNumber(body, 'frequency_penalty', { min: -2, max: 2 }),
      responseFormat: parseResponseFormat(optional(body, 'response_format')),
      tools,
      toolChoice: parseToolChoice(optional(body, 'tool_choice'), tools),
      collections: [],
    },
    stream: optBoolean(body, 'stream') ?? false,
    includeUsage: streamOptions === null ? false : (optBoolean(asObject(streamOptions, 'stream_options'), 'include_usage', 'stream_options.include_usage') ?? false),
    collections,
  };
}

function parseMessage(raw: unknown, param: string): CompletionMessage {
  const message = asObject(raw, param);
  const role = asString(message.role, `${param}.role`);
  if (role === 'system' || role === 'developer') return { role: 'system', content: textContent(message.content, `${param}.content`) };
  if (role === 'user') return { role: 'user', content: textContent(message.content, `${param}.content`) };
  if (role === 'assistant') {
    const calls = optional(message, 'tool_calls');
    const toolCalls = calls === null ? [] : asArray(calls, `${param}.tool_calls`).map((c, i) => parseToolCall(c, `${param}.tool_calls[${i}]`));
    const content = optional(message, 'content');
    return { role: 'assistant', content: content === null ? '' : textContent(content, `${param}.content`), toolCalls };
  }
  if (role === 'tool') {
    return { role: 'tool', toolCallId: asString(message.tool_call_id, `${param}.tool_call_id`), content: textContent(message.content, `${param}.content`) };
  }
  if (role === 'function') unsupported(`${param}.role`, 'The deprecated "function" role is not supported; use "tool" messages.');
  throw new ParamError(`${param}.role`, `${param}.role must be system, developer, user, assistant or tool, not "${role}".`);
}

/** A message's text: a string, or text parts joined; images, audio and files are refused. */
function textContent(raw: unknown, param: string): string {
  if (typeof raw === 'string') return raw;
  return asArray(raw, param)
    .map((part, i) => {
      const item = asObject(part, `${param}[${i}]`);
      const type = asString(item.type, `${param}[${i}].type`);
      if (type === 'text') return asString(item.text, `${param}[${i}].text`);
      if (type === 'refusal') return asString(item.refusal, `${param}[${i}].refusal`);
      if (type === 'image_url') unsupported(`${param}[${i}]`, 'Images are not supported: Hearth serves text models.');
      return unsupported(`${param}[${i}]`, `Content parts of type "${type}" are not supported; send text.`);
    })
    .join('');
}

function parseToolCall(raw: unknown, param: string): ToolCall {
  const call = asObject(raw, param);
  const type = optString(call, 'type', `${param}.type`) ?? 'function';
  if (type !== 'function') unsupported(`${param}.type`, `Tool calls of type "${type}" are not supported.`);
  const fn = asObject(call.function, `${param}.function`);
  return { id: asString(call.id, `${param}.id`), name: asString(fn.name, `${param}.function.name`), arguments: optString(fn, 'arguments', `${param}.function.arguments`) ?? '{}' };
}

function parseTools(body: JsonObject): ToolSpec[] {
  const raw = optional(body, 'tools');
  if (raw === null) return [];
  const tools = asArray(raw, 'tools').map((t, i): ToolSpec => {
    const tool = asObject(t, `tools[${i}]`);
    if (tool.type !== 'function') unsupported(`tools[${i}].type`, 'Only tools of type "function" are supported.');
    const fn = asObject(tool.function, `tools[${i}].function`);
    const name = asString(fn.name, `tools[${i}].function.name`);
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw new ParamError(`tools[${i}].function.name`, 'A tool name has 1 to 64 letters, digits, _ or -.');
    const parameters = optional(fn, 'parameters');
    return {
      name,
      description: optString(fn, 'description', `tools[${i}].function.description`),
      parameters: parameters === null ? null : asObject(parameters, `tools[${i}].function.parameters`),
    };
  });
  if (new Set(tools.map((t) => t.name)).size !== tools.length) throw new ParamError('tools', 'Two tools have the same name.');
  return tools;
}

function parseToolChoice(raw: unknown, tools: readonly ToolSpec[]): ToolChoice {
  if (raw === null) return tools.length > 0 ? { type: 'auto' } : { type: 'none' };
  if (raw === 'auto' || raw === 'none' || raw === 'required') return { type: raw };
  const choice = asObject(raw, 'tool_choice');
  if (choice.type !== 'function') throw new ParamError('tool_choice', 'tool_choice must be "auto", "none", "required" or {"type": "function", "function": {"name": ...}}.');
  return { type: 'tool', name: asString(asObject(choice.function, 'tool_choice.function').name, 'tool_choice.function.name') };
}

function parseResponseFormat(raw: unknown): ResponseFormat {
  if (raw === null) return { type: 'text' };
  const format = asObject(raw, 'response_format');
  const type = asString(format.type, 'response_format.type');
  if (type === 'text' || type === 'json_object') return { type };
  if (type === 'json_schema') {
    const spec = asObject(format.json_schema, 'response_format.json_schema');
    const schema = optional(spec, 'schema');
    return { type: 'json_schema', schema: schema === null ? { type: 'object' } : asObject(schema, 'response_format.json_schema.schema') };
  }
  throw new ParamError('response_format.type', 'response_format.type must be "text", "json_object" or "json_schema".');
}
