import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { MessageSources } from '#contract/dto';
import type { CompletionResult, CompletionUsage } from '../../core/inference/completionTypes';
import type { CompletionService } from '../../core/inference/completionService';
import { apiError, openAiErrorBody } from './apiErrors';
import type { OpenAiChatRequest } from './openaiRequest';
import { sendJson } from './sse';
import { SseStream } from './sseStream';

const usageOf = (usage: CompletionUsage) => ({
  prompt_tokens: usage.promptTokens,
  completion_tokens: usage.completionTokens,
  total_tokens: usage.promptTokens + usage.completionTokens,
});

/** Hearth's extension on a grounded answer: the passages it was given, numbered as cited. */
const hearthOf = (sources: MessageSources | null) => (sources ? { hearth: { sources } } : {});

/**
 * POST /v1/chat/completions: one completion, answered whole or streamed in OpenAI's chunk
 * format (a role chunk, content or tool-call deltas, a chunk with finish_reason, a usage chunk
 * when stream_options.include_usage asks, then [DONE]).
 */
export async function openAiChat(
  completions: CompletionService,
  request: OpenAiChatRequest,
  res: ServerResponse,
  context: { lane: string; signal: AbortSignal },
): Promise<void> {
  const id = `chatcmpl-${randomUUID().replaceAll('-', '')}`;
  const created = Math.floor(Date.now() / 1000);
  if (!request.stream) {
    const result = await completions.complete(request.completion, context);
    if (result.aborted) return;
    sendJson(res, 200, {
      id,
      object: 'chat.completion',
      created,
      model: result.model,
      choices: [{ index: 0, message: messageOf(result), logprobs: null, finish_reason: result.finishReason }],
      usage: usageOf(result.usage),
      system_fingerprint: null,
      ...hearthOf(result.sources),
    });
    return;
  }

  const sse = new SseStream(res);
  let model = '';
  const chunkOf = (delta: Record<string, unknown>, finish: string | null = null, extra: Record<string, unknown> = {}) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(request.includeUsage ? { usage: null } : {}),
    ...extra,
  });
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => sse.send(chunkOf(delta, finish));
  let result: CompletionResult;
  try {
    result = await completions.complete(request.completion, {
      ...context,
      listener: {
        onStart: (start) => {
          model = start.model;
          sse.announce(chunkOf({ role: 'assistant', content: '', refusal: null }, null, hearthOf(start.sources)));
        },
        onText: (text) => chunk({ content: text }),
        onToolCall: (index, call) => chunk({ tool_calls: [{ index, id: call.id, type: 'function', function: { name: call.name, arguments: '' } }] }),
        onToolArguments: (index, text) => chunk({ tool_calls: [{ index, function: { arguments: text } }] }),
      },
    });
  } catch (error) {
    // Before the first chunk the error gets its own status; after, it ends the stream as an event.
    if (!sse.started) throw error;
    sse.send(openAiErrorBody(apiError(error)));
    sse.end();
    return;
  }
  if (result.aborted) return sse.end();
  chunk({}, result.finishReason);
  if (request.includeUsage) {
    sse.send({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices: [], usage: usageOf(result.usage) });
  }
  sse.send('[DONE]');
  sse.end();
}

function messageOf(result: CompletionResult) {
  return {
    role: 'assistant',
    content: result.toolCalls.length > 0 && result.text === '' ? null : result.text,
    refusal: null,
    ...(result.toolCalls.length > 0
      ? { tool_calls: result.toolCalls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } })) }
      : {}),
  };
}
